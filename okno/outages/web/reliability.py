"""The reliability report page (SAIFI, SAIDI, … with and without Major Event Days) and its CSV download.

Permission ``report.view``; the branch list is the user's own branches (a branch outside them is a
form error, so nobody reads another branch's figures). The arithmetic is in
:mod:`okno.outages.reliability_data`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from okno.org.models import Branch
from okno.outages import reliability as rel
from okno.outages.choices import OutageKind
from okno.outages.reliability_data import LEVEL_LABELS, MED_WINDOWS, STD_OPTIONS, Report, branch_report

PERIODS = {
    "year": _("Year"),
    "quarter": _("Quarter"),
    "month": _("Month"),
    "custom": _("Dates"),
}
# (key, label, unit) of the table rows, in the order of IEEE 1366.
ROWS = [
    ("saifi", _("SAIFI — interruptions per customer"), ""),
    ("saidi_min", _("SAIDI — minutes per customer"), _("min")),
    ("caidi_min", _("CAIDI — minutes per interruption"), _("min")),
    ("caifi", _("CAIFI — interruptions per customer interrupted"), ""),
    ("ctaidi_min", _("CTAIDI — minutes per customer interrupted"), _("min")),
    ("asai", _("ASAI — share of hours with supply"), ""),
    ("cemi", _("CEMIn — share of customers with more than n interruptions"), ""),
    ("maifi_e", _("MAIFI_E — momentary events per customer"), ""),
    ("p_saidi_h", _("Пsaidi — hours per service point (Minenergo order 1256)"), _("h")),
    ("p_saifi", _("Пsaifi — interruptions per service point (Minenergo order 1256)"), ""),
    ("customers_interrupted", _("Customers interrupted (sustained)"), ""),
    ("customer_minutes", _("Customer-minutes"), _("min")),
    ("sustained_events", _("Sustained interruptions"), ""),
    ("momentary_events", _("Momentary interruptions"), ""),
    ("distinct_customers_interrupted", _("Distinct customers interrupted"), ""),
]


def visible_branches(user: Any) -> QuerySet[Branch]:
    qs = Branch.objects.all()
    if not (user.all_branches or user.is_superuser):
        qs = qs.filter(pk__in=user.branch_ids)
    return qs


class ReliabilityForm(forms.Form):
    branch: forms.ModelChoiceField = forms.ModelChoiceField(label=_("Branch"), queryset=Branch.objects.none())
    level = forms.ChoiceField(
        label=_("Voltage level"), choices=[("", _("All levels"))] + list(LEVEL_LABELS.items()), required=False
    )
    kind = forms.ChoiceField(
        label=_("Outages"),
        choices=[("", _("Planned and unplanned"))] + list(OutageKind.choices),
        required=False,
    )
    period = forms.ChoiceField(label=_("Period"), choices=list(PERIODS.items()))
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        label=_("Quarter"), choices=[(q, f"Q{q}") for q in range(1, 5)], coerce=int, required=False
    )
    month = forms.TypedChoiceField(
        label=_("Month"), choices=[(m, f"{m:02d}") for m in range(1, 13)], coerce=int, required=False
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    std = forms.ChoiceField(label=_("Standard deviation for MED"), choices=list(STD_OPTIONS.items()))
    med_window = forms.ChoiceField(label=_("MED history"), choices=list(MED_WINDOWS.items()))
    cemi_n = forms.IntegerField(label=_("n of CEMIn"), min_value=0, max_value=100)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = visible_branches(user)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        period, year = data.get("period"), data.get("year")
        if not period or not year:
            return data
        if period == "year":
            data["range"] = (dt.date(year, 1, 1), dt.date(year, 12, 31))
        elif period == "quarter":
            if not data.get("quarter"):
                self.add_error("quarter", _("Choose the quarter."))
                return data
            first = 3 * data["quarter"] - 2
            data["range"] = (
                dt.date(year, first, 1),
                dt.date(year, first + 2, calendar.monthrange(year, first + 2)[1]),
            )
        elif period == "month":
            if not data.get("month"):
                self.add_error("month", _("Choose the month."))
                return data
            data["range"] = (
                dt.date(year, data["month"], 1),
                dt.date(year, data["month"], calendar.monthrange(year, data["month"])[1]),
            )
        else:
            date_from, date_to = data.get("date_from"), data.get("date_to")
            if not date_from:
                self.add_error("date_from", _("Give the first day."))
            if not date_to:
                self.add_error("date_to", _("Give the last day."))
            if date_from and date_to:
                if date_from > date_to:
                    self.add_error("date_to", _("The end of the range is before its start."))
                elif (date_to - date_from).days > 366 * 5:
                    self.add_error("date_to", _("Choose at most five years."))
                else:
                    data["range"] = (date_from, date_to)
        return data


def _form(request: HttpRequest) -> ReliabilityForm:
    user = request.user
    if not user.has_okno_perm("report.view"):  # type: ignore[union-attr]
        raise PermissionDenied
    today = timezone.localdate()
    data = request.GET.copy()
    first_branch = visible_branches(user).values_list("pk", flat=True).first()
    if first_branch is not None:
        data.setdefault("branch", str(first_branch))
    data.setdefault("period", "year")
    data.setdefault("year", str(today.year))
    data.setdefault("quarter", str((today.month - 1) // 3 + 1))
    data.setdefault("month", str(today.month))
    data.setdefault("std", "sample")
    data.setdefault("med_window", "auto")
    data.setdefault("cemi_n", str(rel.CEMI_N))
    return ReliabilityForm(data, user=user)


def _report(form: ReliabilityForm) -> Report | None:
    if not form.is_valid():
        return None
    cd = form.cleaned_data
    date_from, date_to = cd["range"]
    return branch_report(
        cd["branch"],
        date_from,
        date_to,
        level=cd["level"] or None,
        kind=cd["kind"] or None,
        std=cd["std"],
        med_window=cd["med_window"],
        cemi_n=cd["cemi_n"],
    )


def _table(report: Report) -> list[tuple[str, str, Any, Any]]:
    """(label, unit, all days, MEDs excluded) of every row, values rounded as the CLI prints them."""
    all_days, excluding = report.all_days.as_dict(), report.excluding_med.as_dict()
    return [(str(label), str(unit), all_days[key], excluding[key]) for key, label, unit in ROWS]


@login_required
def reliability(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    report = _report(form)
    context: dict[str, Any] = {"form": form, "report": report, "query": request.GET.urlencode()}
    if report is not None:
        context["rows"] = _table(report)
        context["level_label"] = LEVEL_LABELS.get(report.level or "", _("All levels"))
        context["kind_label"] = OutageKind(report.kind).label if report.kind else _("Planned and unplanned")
        context["med"] = report.med.as_dict() if report.med else None
        context["window_label"] = MED_WINDOWS[report.med_window]
        context["med_days"] = [
            (day, rel.round_half_up(value, rel.PLACES["saidi_day"])) for day, value in report.med_days
        ]
    status = 200 if form.is_valid() else 400
    return render(request, "outages/reliability.html", context, status=status)


@login_required
def reliability_csv(request: HttpRequest) -> HttpResponse:
    """The table of the page as CSV for Russian Excel (``;``, decimal comma, UTF-8 with BOM)."""
    from okno.analytics.export import to_csv

    form = _form(request)
    report = _report(form)
    if report is None:
        return HttpResponse(
            "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in form.errors.items()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    header = [gettext("Index"), gettext("Unit"), gettext("All days"), gettext("Major event days excluded")]
    body: list[list[Any]] = [list(row) for row in _table(report)]
    body.append([gettext("Customers served (N_T)"), "", report.customers_served, report.customers_served])
    body.append([gettext("Hours in the period"), gettext("h"), report.all_days.as_dict()["hours"], ""])
    if report.med is not None:
        med = report.med.as_dict()
        body.append([gettext("T_MED, minutes per day"), gettext("min"), med["t_med"], ""])
        for day, value in report.med_days:
            label = gettext("Major event day %(date)s") % {"date": day.isoformat()}
            body.append([label, gettext("min"), rel.round_half_up(value, rel.PLACES["saidi_day"]), ""])
    level = report.level or "all"
    kind = f"-{report.kind}" if report.kind else ""
    name = f"reliability-{report.branch.code}-{level}{kind}-{report.date_from}-{report.date_to}"
    response = HttpResponse(to_csv((header, body)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
