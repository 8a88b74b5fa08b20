"""The appeals report page and its CSV / xlsx downloads (permission ``report.view``, own branches only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from okno.analytics import export as exporting
from okno.analytics.queries import (
    CATEGORIES,
    DEFAULT_DIMENSIONS,
    DIMENSIONS,
    PERIODS,
    ReportFilter,
    appeals_report,
    period_label,
    regulator_form,
    report_totals,
    visible_branches,
)
from okno.appeals.choices import AppealType, Channel, Topic


class ReportForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    period = forms.ChoiceField(label=_("Period"), choices=list(PERIODS.items()), required=False)
    dims = forms.MultipleChoiceField(
        label=_("Break down by"),
        choices=list(DIMENSIONS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    branch: forms.ModelChoiceField = forms.ModelChoiceField(
        label=_("Branch"), queryset=None, required=False, empty_label=_("All my branches")
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("Any"))] + list(Channel.choices), required=False
    )
    kind = forms.ChoiceField(
        label=_("Type"), choices=[("", _("Any"))] + list(AppealType.choices), required=False
    )
    topic = forms.ChoiceField(
        label=_("Topic"), choices=[("", _("Any"))] + list(Topic.choices), required=False
    )
    year = forms.IntegerField(
        label=_("Year of the regulator's form"), required=False, min_value=2000, max_value=2100
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = visible_branches(user)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end of the range is before its start."))
        return data


def _params(request: HttpRequest) -> tuple[ReportForm, ReportFilter, int]:
    user = request.user
    if not user.has_okno_perm("report.view"):  # type: ignore[union-attr]
        raise PermissionDenied
    today = timezone.localdate()
    data = request.GET.copy()
    data.setdefault("date_from", dt.date(today.year, 1, 1).isoformat())
    data.setdefault("date_to", today.isoformat())
    data.setdefault("period", "month")
    data.setdefault("year", str(today.year))
    if "dims" not in data:
        data.setlist("dims", list(DEFAULT_DIMENSIONS))
    form = ReportForm(data, user=user)
    flt = ReportFilter()
    year = today.year
    if form.is_valid():
        cd = form.cleaned_data
        flt = ReportFilter(
            date_from=cd["date_from"],
            date_to=cd["date_to"],
            branches=[cd["branch"].pk] if cd["branch"] else [],
            channel=cd["channel"],
            kind=cd["kind"],
            topic=cd["topic"],
            period=cd["period"] or "month",
            dimensions=tuple(cd["dims"]),
        )
        year = cd["year"] or today.year
    else:
        flt = ReportFilter(
            date_from=dt.date(today.year, 1, 1), date_to=today, branches=[-1]
        )  # show nothing on bad input
    return form, flt, year


@login_required
def report(request: HttpRequest) -> HttpResponse:
    form, flt, year = _params(request)
    rows = appeals_report(request.user, flt)
    dims = [d for d in DIMENSIONS if d in flt.dimensions]
    context = {
        "form": form,
        "rows": [(period_label(r.period, flt.period), [r.labels[d] for d in dims], r) for r in rows],
        "dim_labels": [DIMENSIONS[d] for d in dims],
        "totals": report_totals(rows),
        "form_rows": regulator_form(request.user, year, flt.branches),
        "categories": CATEGORIES,
        "year": year,
        "previous_year": year - 1,
        "query": request.GET.urlencode(),
    }
    return render(request, "analytics/report.html", context)


@login_required
def export(request: HttpRequest, table: str, fmt: str) -> HttpResponse:
    if table not in ("appeals", "form") or fmt not in ("csv", "xlsx"):
        raise Http404
    _form, flt, year = _params(request)
    if table == "appeals":
        data = exporting.report_table(appeals_report(request.user, flt), flt.period, flt.dimensions)
        name = f"appeals-{flt.date_from or ''}-{flt.date_to or ''}"
    else:
        data = exporting.form_table(regulator_form(request.user, year, flt.branches), year)
        name = f"regulator-form-{year}"
    if fmt == "csv":
        response = HttpResponse(exporting.to_csv(data), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            exporting.to_xlsx(data, name),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
