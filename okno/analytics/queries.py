"""Report queries over the daily rollup :class:`~okno.appeals.models.AppealStat` (never the appeals table).

1. :func:`appeals_report`: received / on time / late / cancelled by period (day, month, quarter, year)
   and any of channel, type, topic, branch, with the on-time share.
2. :func:`regulator_form`: the regulator's form — appeals by channel group × category for a year,
   with the previous year and the year-on-year change in per cent.

Both are limited to the user's branches (``user.all_branches`` or ``user.branch_ids``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import F, QuerySet, Sum
from django.db.models.functions import ExtractYear, TruncMonth, TruncQuarter, TruncYear
from django.utils.translation import gettext_lazy as _

from okno.appeals.choices import AppealType, Channel, Topic
from okno.appeals.models import AppealStat
from okno.org.models import Branch

PERIODS = {"day": _("Day"), "month": _("Month"), "quarter": _("Quarter"), "year": _("Year")}
DIMENSIONS = {"branch": _("Branch"), "channel": _("Channel"), "kind": _("Type"), "topic": _("Topic")}
DEFAULT_DIMENSIONS = ("branch", "channel")

# The regulator's channel groups (the form of the service quality report).
CHANNEL_GROUPS: list[tuple[str, Any, tuple[str, ...]]] = [
    ("in_person", _("In person"), (Channel.OFFICE,)),
    ("phone", _("By phone"), (Channel.PHONE, Channel.CONTACT_CENTER)),
    (
        "internet",
        _("Internet"),
        (Channel.WEB, Channel.CABINET, Channel.EMAIL, Channel.MOBILE_APP, Channel.CHAT, Channel.MESSENGER),
    ),
    ("mail", _("By mail"), (Channel.MAIL, Channel.FAX)),
    ("other", _("Other"), ()),  # SMS, kiosk and any channel not listed above
]
CATEGORIES: list[tuple[str, Any, str | None]] = [
    ("all", _("All appeals"), None),
    ("complaints", _("Complaints"), AppealType.COMPLAINT),
    ("service_requests", _("Service requests"), AppealType.APPLICATION),
]


def channel_group(channel: str) -> str:
    for code, _label, channels in CHANNEL_GROUPS:
        if channel in channels:
            return code
    return "other"


def scoped_stats(user: Any) -> QuerySet[AppealStat]:
    qs = AppealStat.objects.all()
    if not (user.all_branches or user.is_superuser):
        qs = qs.filter(branch_id__in=user.branch_ids)
    return qs


def visible_branches(user: Any) -> QuerySet[Branch]:
    qs = Branch.objects.all()
    if not (user.all_branches or user.is_superuser):
        qs = qs.filter(pk__in=user.branch_ids)
    return qs


def share(part: int, whole: int) -> Decimal | None:
    """``part / whole`` in per cent with one decimal; ``None`` when ``whole`` is zero."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def change(current: int, previous: int) -> Decimal | None:
    """Year-on-year change in per cent with one decimal; ``None`` when the previous value is zero."""
    if not previous:
        return None
    return (Decimal(current - previous) * 100 / Decimal(previous)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


@dataclass
class ReportFilter:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    branches: list[int] = field(default_factory=list)
    channel: str = ""
    kind: str = ""
    topic: str = ""
    period: str = "month"
    dimensions: tuple[str, ...] = DEFAULT_DIMENSIONS


@dataclass
class ReportRow:
    period: dt.date
    values: dict[str, str]  # dimension → code
    labels: dict[str, str]  # dimension → label
    received: int
    on_time: int
    late: int
    cancelled: int

    @property
    def answered(self) -> int:
        return self.on_time + self.late

    @property
    def on_time_share(self) -> Decimal | None:
        return share(self.on_time, self.on_time + self.late)


def period_label(day: dt.date, period: str) -> str:
    if period == "year":
        return str(day.year)
    if period == "quarter":
        return str(_("Q%(q)s %(y)s") % {"q": (day.month - 1) // 3 + 1, "y": day.year})
    if period == "month":
        return f"{day:%Y-%m}"
    return day.isoformat()


def _labels() -> dict[str, dict[Any, str]]:
    return {
        "channel": {c.value: str(c.label) for c in Channel},
        "kind": {k.value: str(k.label) for k in AppealType},
        "topic": {t.value: str(t.label) for t in Topic},
        "branch": dict(Branch.objects.values_list("pk", "name")),
    }


def appeals_report(user: Any, flt: ReportFilter) -> list[ReportRow]:
    qs = scoped_stats(user)
    if flt.date_from:
        qs = qs.filter(day__gte=flt.date_from)
    if flt.date_to:
        qs = qs.filter(day__lte=flt.date_to)
    if flt.branches:
        qs = qs.filter(branch_id__in=flt.branches)
    for name in ("channel", "kind", "topic"):
        if getattr(flt, name):
            qs = qs.filter(**{name: getattr(flt, name)})
    trunc = {
        "day": F("day"),
        "month": TruncMonth("day"),
        "quarter": TruncQuarter("day"),
        "year": TruncYear("day"),
    }[flt.period]
    dims = [d for d in DIMENSIONS if d in flt.dimensions]
    columns = ["branch_id" if d == "branch" else d for d in dims]
    rows = (
        qs.annotate(period=trunc)
        .values("period", *columns)
        .annotate(r=Sum("received"), o=Sum("on_time"), la=Sum("late"), c=Sum("cancelled"))
        .order_by("period", *columns)
    )
    labels = _labels()
    out = []
    for row in rows:
        period = row["period"]
        if isinstance(period, dt.datetime):
            period = period.date()
        values = {d: row[c] for d, c in zip(dims, columns, strict=True)}
        out.append(
            ReportRow(
                period=period,
                values=values,
                labels={d: labels[d].get(v, str(v)) for d, v in values.items()},
                received=row["r"] or 0,
                on_time=row["o"] or 0,
                late=row["la"] or 0,
                cancelled=row["c"] or 0,
            )
        )
    return out


def report_totals(rows: list[ReportRow]) -> dict[str, Any]:
    received = sum(r.received for r in rows)
    on_time = sum(r.on_time for r in rows)
    late = sum(r.late for r in rows)
    return {
        "received": received,
        "on_time": on_time,
        "late": late,
        "cancelled": sum(r.cancelled for r in rows),
        "on_time_share": share(on_time, on_time + late),
    }


@dataclass
class FormCell:
    previous: int
    current: int

    @property
    def change(self) -> Decimal | None:
        return change(self.current, self.previous)


@dataclass
class FormRow:
    code: str
    label: str
    cells: dict[str, FormCell]  # category → cell


def regulator_form(user: Any, year: int, branches: list[int] | None = None) -> list[FormRow]:
    """Rows per channel group plus a total row; each with all / complaints / service requests."""
    qs = scoped_stats(user).filter(day__gte=dt.date(year - 1, 1, 1), day__lte=dt.date(year, 12, 31))
    if branches:
        qs = qs.filter(branch_id__in=branches)
    counts: dict[tuple[str, str, int], int] = {}
    data = (
        qs.annotate(year=ExtractYear("day"))
        .values("year", "channel", "kind")
        .annotate(n=Sum("received"))
        .order_by()
    )
    for row in data:
        group = channel_group(row["channel"])
        for cat, _label, kind in CATEGORIES:
            if kind is None or row["kind"] == kind:
                key = (group, cat, row["year"])
                counts[key] = counts.get(key, 0) + (row["n"] or 0)
    rows = []
    for code, label, _channels in CHANNEL_GROUPS:
        cells = {
            cat: FormCell(counts.get((code, cat, year - 1), 0), counts.get((code, cat, year), 0))
            for cat, _l, _k in CATEGORIES
        }
        rows.append(FormRow(code, str(label), cells))
    total = {
        cat: FormCell(sum(r.cells[cat].previous for r in rows), sum(r.cells[cat].current for r in rows))
        for cat, _l, _k in CATEGORIES
    }
    rows.append(FormRow("total", str(_("Total")), total))
    return rows
