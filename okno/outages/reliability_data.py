"""Reliability indices of a branch from recorded outages (the report page and ``okno reliability report``).

Each :class:`~okno.outages.models.OutageNode` with ``off_at`` and ``restored_at`` is one interruption
step: its ``customers`` were off from ``off_at`` to ``restored_at``; an outage restored node by node
gives several steps. Steps are turned into :class:`~okno.outages.reliability.Interruption` values and
the pure functions of :mod:`okno.outages.reliability` do the arithmetic.

Conventions (see ``docs/outages/reliability.md``):

* a step belongs to the period, and to the day of the daily SAIDI, on which it began, in the branch's
  time zone (IEEE 1366-2012, 3.14); steps not yet restored are left out and counted in ``open_steps``;
  steps of cancelled and merely proposed outages are left out;
* a step is momentary when it lasted less than ``OutageSettings.momentary_min`` minutes;
* the voltage level of a step is that of the node switched off (``GridNode.voltage_kv``);
* N_T is the number of service points fed from the branch's grid (``Feed`` rows whose node is in the
  branch), whatever level is chosen: the indices of the four levels add up to the branch's total;
* ``customers`` of a step is what the actions recorded when the node went off; the service points of a
  step (for CAIFI, CTAIDI, CEMIn) are those under its node now
  (:func:`okno.outages.topology.service_points_under`), so old years follow later re-wiring. Steps of
  one outage are taken as disjoint: the actions refuse to add a node that is already off under
  another node of an open outage;
* Major Event Days are classified by the branch's daily SAIDI over all voltage levels, of the same
  outage kinds as the indices (all, planned only or unplanned only).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from okno.org.models import Branch
from okno.outages import reliability as rel
from okno.outages.choices import OutageKind, OutageStatus
from okno.outages.models import Feed, GridNode, OutageNode, OutageSettings
from okno.outages.topology import service_points_under

LEVEL_LABELS = {
    "vn": _("HV: 110 kV and above"),
    "sn1": _("MV1: 35 kV"),
    "sn2": _("MV2: 1–20 kV"),
    "nn": _("LV: below 1 kV"),
}
MED_WINDOWS = {
    "auto": _("before the period if a year of history is recorded, else up to its end"),
    "before": _("the five years before the period (IEEE 1366)"),
    "including": _("the five years up to the period's end"),
}
STD_OPTIONS = {"sample": _("sample (n − 1)"), "population": _("population (n)")}
# Outages in these statuses never interrupted anyone (or were never confirmed).
_NOT_COUNTED = (OutageStatus.CANCELLED, OutageStatus.PROPOSED)


def level_q(level: str, prefix: str = "node__") -> Q:
    """The voltage range of a level as a filter on the node's ``voltage_kv`` (see :func:`rel.voltage_level`)."""
    kv = f"{prefix}voltage_kv"
    ranges = {
        "vn": Q(**{f"{kv}__gte": 110}),
        "sn1": Q(**{f"{kv}__gt": 20, f"{kv}__lt": 110}),
        "sn2": Q(**{f"{kv}__gte": 1, f"{kv}__lte": 20}),
        "nn": Q(**{f"{kv}__lt": 1}),
    }
    return ranges[level]


def local_bounds(branch: Branch, date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local midnight starting ``date_from`` and the one ending ``date_to`` in the branch's zone."""
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=branch.tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=branch.tz)
    return start, end


def customers_served(branch: Branch) -> int:
    """N_T: service points fed from the branch's grid nodes."""
    return Feed.objects.filter(node__branch=branch).count()


def _steps(branch: Branch, start: dt.datetime, end: dt.datetime, level: str | None, kind: str | None):
    qs = OutageNode.objects.filter(outage__branch=branch, off_at__gte=start, off_at__lt=end).exclude(
        outage__status__in=_NOT_COUNTED
    )
    if level:
        qs = qs.filter(level_q(level))
    if kind:
        qs = qs.filter(outage__kind=kind)
    return qs


def interruptions(
    branch: Branch,
    date_from: dt.date,
    date_to: dt.date,
    *,
    level: str | None = None,
    kind: str | None = None,
    with_service_points: bool = True,
) -> tuple[list[rel.Interruption], int]:
    """The restored steps that began in the period (local days), and how many began but are still off.

    Reads plain rows (no model instances: a five-year history is tens of thousands of steps).
    """
    start, end = local_bounds(branch, date_from, date_to)
    rows = _steps(branch, start, end, level, kind).order_by("off_at", "id")
    fields = ["off_at", "restored_at", "customers", "outage__number", "node__code", "node_id", "node__path"]
    events = []
    open_steps = 0
    under: dict[int, frozenset[int]] = {}  # the same feeder fails many times a year: walk it once
    for off_at, restored_at, customers, number, code, node_id, path in rows.values_list(*fields):
        if restored_at is None:
            open_steps += 1
            continue
        points = None
        if with_service_points:
            if node_id not in under:
                under[node_id] = frozenset(service_points_under([GridNode(pk=node_id, path=path)]))
            points = under[node_id]
        events.append(rel.Interruption(f"{number}/{code}", off_at, restored_at, customers, points))
    return events, open_steps


def history_window(date_from: dt.date, date_to: dt.date, window: str) -> tuple[dt.date, dt.date]:
    """The days whose SAIDI make the MED threshold: five years before the period, or up to its end."""
    if window == "before":
        return rel.years_before(date_from, rel.MED_HISTORY_YEARS), date_from - dt.timedelta(days=1)
    if window == "including":
        return rel.years_before(date_to, rel.MED_HISTORY_YEARS) + dt.timedelta(days=1), date_to
    raise ValueError(f"unknown MED window {window!r}")


def resolve_window(branch: Branch, date_from: dt.date, window: str) -> str:
    """``auto``: IEEE's window (the years before the period) once a full year of steps is recorded
    before the period, otherwise the window up to the period's end — a new installation (or the demo)
    has no earlier history, and a threshold from a few weeks before the period would mean little."""
    if window != "auto":
        return window
    first = (
        OutageNode.objects.filter(outage__branch=branch, off_at__isnull=False)
        .exclude(outage__status__in=_NOT_COUNTED)
        .order_by("off_at")
        .values_list("off_at", flat=True)
        .first()
    )
    if first is not None and first.astimezone(branch.tz).date() <= rel.years_before(date_from, 1):
        return "before"
    return "including"


def branch_daily_saidi(
    branch: Branch,
    date_from: dt.date,
    date_to: dt.date,
    *,
    n_t: int,
    momentary_min: int,
    kind: str | None = None,
) -> dict[dt.date, Fraction]:
    """Daily SAIDI (all voltage levels) of the branch's restored steps, by the local day they began."""
    events, _open = interruptions(branch, date_from, date_to, kind=kind, with_service_points=False)
    return rel.daily_saidi(events, customers_served=n_t, tz=branch.tz, momentary_min=momentary_min)


@dataclass
class Report:
    """Indices of one branch, level and period with and without Major Event Days."""

    branch: Branch
    level: str | None
    kind: str | None
    date_from: dt.date
    date_to: dt.date
    hours: Fraction
    customers_served: int
    momentary_min: int
    all_days: rel.Indices
    excluding_med: rel.Indices
    open_steps: int
    std: str
    med_window: str
    history_from: dt.date
    history_to: dt.date
    med: rel.MedResult | None = None
    med_error: str = ""
    med_days: list[tuple[dt.date, Fraction]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        med: dict[str, Any] | None = None
        if self.med is not None:
            med = self.med.as_dict()
            med.pop("major_event_days")
        return {
            "branch": self.branch.code,
            "level": self.level or "all",
            "kind": self.kind or "all",
            "date_from": self.date_from,
            "date_to": self.date_to,
            "customers_served": self.customers_served,
            "open_steps": self.open_steps,
            "all_days": self.all_days.as_dict(),
            "excluding_med": self.excluding_med.as_dict(),
            "med": {
                "std": self.std,
                "window": self.med_window,
                "history_from": self.history_from,
                "history_to": self.history_to,
                "threshold": med,
                "error": self.med_error or None,
                "major_event_days": [
                    {"date": day, "saidi_min": rel.round_half_up(value, rel.PLACES["saidi_day"])}
                    for day, value in self.med_days
                ],
            },
        }


def branch_report(
    branch: Branch,
    date_from: dt.date,
    date_to: dt.date,
    *,
    level: str | None = None,
    kind: str | None = None,
    std: str = "sample",
    med_window: str = "auto",
    cemi_n: int = rel.CEMI_N,
) -> Report:
    """SAIFI … MAIFI_E of ``branch`` for local days ``date_from``–``date_to``, with and without MEDs."""
    if date_from > date_to:
        raise ValueError("the period ends before it starts")
    if level is not None and level not in rel.VOLTAGE_LEVELS:
        raise ValueError(f"unknown voltage level {level!r}")
    if kind is not None and kind not in OutageKind.values:
        raise ValueError(f"unknown outage kind {kind!r}")
    momentary_min = OutageSettings.current().momentary_min
    n_t = customers_served(branch)
    start, end = local_bounds(branch, date_from, date_to)
    hours = rel.minutes_between(start, end) / 60
    events, open_steps = interruptions(branch, date_from, date_to, level=level, kind=kind)
    kwargs: dict[str, Any] = {
        "customers_served": n_t,
        "hours": hours,
        "momentary_min": momentary_min,
        "cemi_n": cemi_n,
    }
    all_days = rel.compute_indices(events, **kwargs)
    med_window = resolve_window(branch, date_from, med_window)
    history_from, history_to = history_window(date_from, date_to, med_window)
    report = Report(
        branch=branch,
        level=level,
        kind=kind,
        date_from=date_from,
        date_to=date_to,
        hours=hours,
        customers_served=n_t,
        momentary_min=momentary_min,
        all_days=all_days,
        excluding_med=all_days,
        open_steps=open_steps,
        std=std,
        med_window=med_window,
        history_from=history_from,
        history_to=history_to,
    )
    history = branch_daily_saidi(
        branch, history_from, history_to, n_t=n_t, momentary_min=momentary_min, kind=kind
    )
    try:
        report.med = rel.med_threshold(history, std=std)
    except rel.MedError as exc:
        report.med_error = str(exc)
        return report
    if med_window == "including":  # the period is the end of the history: no second query
        period = {day: value for day, value in history.items() if date_from <= day}
    elif level is None:  # the period's own events are all levels already
        period = rel.daily_saidi(events, customers_served=n_t, tz=branch.tz, momentary_min=momentary_min)
    else:
        period = branch_daily_saidi(
            branch, date_from, date_to, n_t=n_t, momentary_min=momentary_min, kind=kind
        )
    report.med_days = rel.major_event_days(period, report.med)
    med_dates = {day for day, _value in report.med_days}
    kept = [e for e in events if e.start.astimezone(branch.tz).date() not in med_dates]
    report.excluding_med = rel.compute_indices(kept, **kwargs)
    return report
