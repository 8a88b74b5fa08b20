"""``/cc/stats/``: the contact-centre statistics for supervisors (``call.supervise``): a period, a queue and
a grouping (queue, 30-minute interval in the supervisor's zone, agent); the table, its CSV and the
Asterisk ``queue_log`` of the same period. Figures and definitions are :mod:`okno.contact_center.stats`'s.
"""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from okno.appeals.views.register import local_tz
from okno.contact_center import queue_log, stats
from okno.contact_center.models import Queue

INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]


class StatsForm(forms.Form):
    start = forms.DateTimeField(label=_("From"), input_formats=INPUT_FORMATS)
    end = forms.DateTimeField(label=_("To"), input_formats=INPUT_FORMATS)
    queue = forms.ChoiceField(label=_("Queue"), required=False)
    by = forms.ChoiceField(
        label=_("Group by"),
        choices=[
            (stats.BY_QUEUE, _("Queue")),
            (stats.BY_INTERVAL, _("30-minute interval")),
            (stats.BY_AGENT, _("Agent")),
        ],
        initial=stats.BY_QUEUE,
        required=False,
    )
    target_s = forms.IntegerField(
        label=_("Answered within, s"),
        required=False,
        min_value=0,
        help_text=_("Empty: each queue's waiting-time norm."),
    )
    short_abandon_s = forms.IntegerField(
        label=_("Short abandons under, s"), required=False, min_value=0, initial=int(stats.SHORT_ABANDON_S)
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        queue_field = self.fields["queue"]
        assert isinstance(queue_field, forms.ChoiceField)
        queue_field.choices = [("", _("All queues"))] + [
            (q.code, q.name) for q in Queue.objects.order_by("name")
        ]
        self.fields["target_s"].widget.attrs["aria-describedby"] = "id_target_s_help"

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.errors:
            if name in self.fields:  # errors read out with the field
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}_error"
        return valid

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            self.add_error("end", _("The end must be after the start."))
        return data


def _require(request: HttpRequest) -> None:
    if not request.user.has_okno_perm("call.supervise"):  # type: ignore[union-attr]
        raise PermissionDenied


def _form(request: HttpRequest) -> StatsForm:
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    params = request.GET.copy()
    params.setdefault("start", today.strftime("%Y-%m-%d %H:%M"))
    params.setdefault("end", (today + dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M"))
    return StatsForm(params)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


@login_required
@require_GET
def stats_page(request: HttpRequest) -> HttpResponse:
    _require(request)
    tz = local_tz(request.user)
    with timezone.override(tz):
        form = _form(request)
        report = None
        if form.is_valid():
            d = form.cleaned_data
            target = d.get("target_s")
            short = d.get("short_abandon_s")
            report = stats.report(
                d["start"],
                d["end"],
                by=d.get("by") or stats.BY_QUEUE,
                queue=d.get("queue") or "",
                target_s=float(target) if target is not None else None,
                short_abandon_s=float(short) if short is not None else stats.SHORT_ABANDON_S,
                tz=tz,
            )
            if request.GET.get("format") == "csv":
                return _csv(report)
        rows = []
        if report is not None:
            for row in [*report.rows, report.total]:
                rows.append(
                    {
                        "row": row,
                        "total": row is report.total,
                        "sl": _pct(row.service_level),
                        "asa": _num(row.asa_s),
                        "abandon": _pct(row.abandon_rate),
                        "aht": _num(row.aht_s),
                        "occupancy": _pct(row.occupancy),
                        "fcr": _pct(row.fcr),
                    }
                )
        return render(
            request,
            "contact_center/stats/stats.html",
            {
                "form": form,
                "report": report,
                "rows": rows,
                "definitions": stats.DEFINITIONS,
                "query": request.GET.urlencode(),
            },
        )


def _csv(report: stats.Report) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"cc-stats-{report.by}-{report.start:%Y%m%d%H%M}-{report.end:%Y%m%d%H%M}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")  # Excel reads UTF-8 with the mark
    writer = csv.writer(response)
    writer.writerow(stats.COLUMNS)
    for row in [*report.rows, report.total]:
        values = row.as_dict()
        writer.writerow(["" if values[c] is None else values[c] for c in stats.COLUMNS])
    writer.writerow([])
    writer.writerow(["service_level_variant", report.service_level_variant])
    return response


@login_required
@require_GET
def queue_log_download(request: HttpRequest) -> HttpResponseBase:
    _require(request)
    with timezone.override(local_tz(request.user)):
        form = _form(request)
        if not form.is_valid():
            return HttpResponse(str(form.errors), status=400, content_type="text/plain; charset=utf-8")
        d = form.cleaned_data
        start, end, queue = d["start"], d["end"], d.get("queue") or ""
    response = StreamingHttpResponse(
        (f"{line}\n" for line in queue_log.lines(start, end, queue=queue)),
        content_type="text/plain; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="queue_log-{start:%Y%m%d%H%M}-{end:%Y%m%d%H%M}"'
    return response
