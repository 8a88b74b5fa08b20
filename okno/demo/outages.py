"""The demo's outages: a year of restored outages for the reliability report, and the live picture.

Written straight to the tables in bulk (the lifecycle actions of :mod:`okno.outages` are for live
use; a year of history is data). Per branch, over the 365 days before the anchor:

* unplanned faults on feeders, substations and now and then a whole power centre, at least
  :data:`MIN_FAULTS_PER_BRANCH` a year (about five per feeder and one per two substations on a large
  grid), more in summer (thunderstorms) and winter (ice, overload), more in the afternoon than at night;
  durations log-normal (a feeder's median about 1.5 h), a fifth of the feeder faults are momentary
  (a successful auto-reclose, under 5 minutes, no restoration estimate); the sustained ones carry
  the dispatcher's ETR and, when it proved short, its revision (:class:`~okno.outages.models.EtrChange`);
  some feeder faults are restored in steps, substation by substation (one
  :class:`~okno.outages.models.OutageNode` per substation, disjoint, each with its own restoration);
* planned works on weekdays 9:00–17:00 local time, published a month ahead (some late), a few
  cancelled, a few overrunning with a revised end;
* three storm days (a summer thunderstorm, an autumn gale, a winter ice storm), each hitting one or
  two branches: most feeders of the branch out for hours during the same local day, so that day's
  SAIDI stands far above the others and comes out as a Major Event Day (2.5-beta method).

Then the live picture around ``now``: two unplanned outages off now with an ETR (one on a feeder of
the first branch, one on a substation elsewhere, both below the mass-outage threshold) and four
planned outages scheduled in the next 30 days, published. Numbers follow the live format
``О-<year>-<5-digit sequence>`` (Cyrillic О), in the order of registration.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from okno.demo import words
from okno.demo.writer import TableWriter, flush_all, next_id
from okno.outages.choices import Cause, OutageEventType, OutageKind, OutageStatus
from okno.outages.models import EtrChange, Outage, OutageCounter, OutageEvent, OutageNode, OutageSettings

if TYPE_CHECKING:
    from okno.demo.grid import BranchGrid, Feeder, GridSeed
    from okno.org.models import User

MIN_FAULTS_PER_BRANCH = 160
FAULTS_PER_FEEDER = 5.0
FAULTS_PER_SUBSTATION = 0.5
PLANNED_PER_FEEDER = 1.5
PLANNED_PER_SUBSTATION = 0.4
MIN_PLANNED_PER_BRANCH = 40
MOMENTARY_SHARE = 0.2
# Relative number of faults per month (January first): summer storms and winter ice and load.
MONTH_WEIGHT = [1.3, 1.1, 0.9, 0.8, 1.0, 1.3, 1.5, 1.3, 0.9, 1.0, 1.2, 1.4]
# Relative number of faults per local hour: fewer at night, most in the afternoon.
HOUR_WEIGHT = [1, 1, 1, 1, 1, 1.2, 1.5, 2, 2, 2, 2.2, 2.4, 2.6, 2.8, 3, 3, 3, 2.8, 2.5, 2.2, 2, 1.6, 1.3, 1.1]
CAUSES_SUMMER: list[tuple[str, float]] = [
    (Cause.LIGHTNING, 3),
    (Cause.WEATHER, 3),
    (Cause.VEGETATION, 3),
    (Cause.EQUIPMENT, 3),
    (Cause.ANIMAL, 1.5),
    (Cause.THIRD_PARTY, 1.5),
    (Cause.PROTECTION, 0.5),
]
CAUSES_WINTER: list[tuple[str, float]] = [
    (Cause.WEATHER, 4),
    (Cause.EQUIPMENT, 4),
    (Cause.OVERLOAD, 2),
    (Cause.VEGETATION, 1.5),
    (Cause.THIRD_PARTY, 1),
    (Cause.PROTECTION, 0.5),
]
CAUSES_MOMENTARY = [Cause.LIGHTNING, Cause.VEGETATION, Cause.ANIMAL, Cause.WEATHER, Cause.PROTECTION]
# (storm kind, months it may fall in).
STORMS = [("thunderstorm", (6, 7, 8)), ("wind", (10, 11)), ("ice", (12, 1, 2))]
HOLIDAYS = {(1, d) for d in range(1, 9)} | {(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)}


@dataclass
class Step:
    node_id: int
    customers: int
    off: dt.datetime | None
    restored: dt.datetime | None


@dataclass
class Draft:
    """An outage before it is numbered and written."""

    kind: str
    status: str
    branch_id: int
    node_id: int
    cause: str
    reason: str
    detected: dt.datetime
    started: dt.datetime | None
    restored: dt.datetime | None
    steps: list[Step]
    etrs: list[tuple[dt.datetime, dt.datetime, str]] = field(default_factory=list)  # changed, etr, why
    momentary: bool = False
    planned_start: dt.datetime | None = None
    planned_end: dt.datetime | None = None
    published: dt.datetime | None = None
    works_order: str = ""
    crews: int = 0
    created_by: int | None = None
    note: str = ""

    @property
    def customers(self) -> int:
        return sum(s.customers for s in self.steps)


def _minutes(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=round(value * 60))


def _ceil_quarter(value: dt.datetime) -> dt.datetime:
    """Up to the next quarter of an hour (how dispatchers state a restoration time)."""
    value = value.replace(second=0, microsecond=0)
    return value + dt.timedelta(minutes=(-value.minute) % 15)


def _local(day: dt.date, minutes: float, tz: dt.tzinfo) -> dt.datetime:
    return (dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz) + _minutes(minutes)).astimezone(dt.UTC)


def _pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    return rng.choices([c for c, _ in weighted], weights=[w for _, w in weighted])[0]


def _etrs(
    rng: random.Random, detected: dt.datetime, restored: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, str]]:
    """The dispatcher's first estimate soon after detection and, if it proved short, a revision."""
    duration = (restored - detected).total_seconds() / 60
    first_at = detected + _minutes(rng.uniform(3, 15))
    first = _ceil_quarter(detected + _minutes(max(30.0, duration * rng.uniform(0.55, 1.3))))
    first = max(first, _ceil_quarter(first_at + dt.timedelta(minutes=15)))
    out = [(first_at, first, "")]
    if first < restored - dt.timedelta(minutes=10):
        at = max(first_at + dt.timedelta(minutes=5), first - _minutes(rng.uniform(5, 30)))
        at = min(at, restored - dt.timedelta(minutes=5))
        revised = _ceil_quarter(max(restored, at) + _minutes(rng.uniform(0, 40)))
        out.append((at, revised, rng.choice(words.ETR_REASONS)))
    return out


class _Year:
    """Draws the days and hours of one branch's history (in its local time)."""

    def __init__(self, rng: random.Random, anchor: dt.datetime, tz: dt.tzinfo) -> None:
        self.rng, self.anchor, self.tz = rng, anchor, tz
        first = (anchor - dt.timedelta(days=365)).astimezone(tz).date()
        self.days = [first + dt.timedelta(days=i) for i in range(365)]
        self.cum: list[float] = []
        total = 0.0
        for day in self.days:
            total += MONTH_WEIGHT[day.month - 1]
            self.cum.append(total)

    def day(self) -> dt.date:
        return self.rng.choices(self.days, cum_weights=self.cum)[0]

    def moment(self, day: dt.date) -> dt.datetime:
        hour = self.rng.choices(range(24), weights=HOUR_WEIGHT)[0]
        return _local(day, hour * 60 + self.rng.uniform(0, 60), self.tz)


def _fault(rng: random.Random, year: _Year, grid: BranchGrid, feeders: list[Feeder]) -> Draft | None:
    """One unplanned outage on a feeder, a substation or (rarely) a power centre."""
    day = year.day()
    start = year.moment(day)
    summer = day.month in (5, 6, 7, 8, 9)
    r = rng.random()
    steps: list[Step]
    cause: str
    momentary = False
    if r < 0.02:
        pcs = [pc for pc in grid.power_centres if pc.customers]
        pc = rng.choice(pcs)
        node_id, cause = pc.id, rng.choice([Cause.UPSTREAM, Cause.EQUIPMENT, Cause.PROTECTION])
        duration = min(rng.lognormvariate(math.log(45), 0.5), 180)
        steps = [Step(pc.id, pc.customers, None, None)]
    elif r < 0.7:
        feeder = rng.choice(feeders)
        node_id = feeder.id
        if rng.random() < MOMENTARY_SHARE:
            momentary = True
            cause = rng.choice(CAUSES_MOMENTARY)
            duration = rng.uniform(0.3, 4.0)
        else:
            cause = _pick(rng, CAUSES_SUMMER if summer else CAUSES_WINTER)
            duration = min(max(rng.lognormvariate(math.log(95), 0.8), 8), 16 * 60)
        subs = [s for s in feeder.substations if s.customers]
        if not momentary and len(subs) > 1 and duration > 60 and rng.random() < 0.35:
            steps = [Step(s.id, s.customers, None, None) for s in subs]
        else:
            steps = [Step(feeder.id, feeder.customers, None, None)]
    else:
        subs = [s for f in feeders for s in f.substations if s.customers]
        sub = rng.choice(subs)
        node_id = sub.id
        cause = _pick(rng, CAUSES_SUMMER if summer else CAUSES_WINTER)
        duration = min(max(rng.lognormvariate(math.log(150), 0.7), 10), 20 * 60)
        steps = [Step(sub.id, sub.customers, None, None)]
    restored = start + _minutes(duration)
    if restored >= year.anchor:
        return None
    detected = start if momentary else start + _minutes(rng.uniform(1, 8))
    _restore_in_steps(rng, steps, start, duration)
    draft = Draft(
        kind=OutageKind.UNPLANNED,
        status=OutageStatus.RESTORED,
        branch_id=grid.branch.pk,
        node_id=node_id,
        cause=cause,
        reason=rng.choice(words.FAULT_REASONS.get(cause, [""])),
        detected=detected,
        started=start,
        restored=max(s.restored for s in steps if s.restored),
        steps=steps,
        momentary=momentary,
        crews=0 if momentary else 1 + int(rng.random() < 0.3),
        created_by=grid.dispatcher_id,
        note="Успешное АПВ" if momentary else "",
    )
    if not momentary:
        draft.etrs = _etrs(rng, detected, draft.restored)  # type: ignore[arg-type]
    return draft


def _restore_in_steps(rng: random.Random, steps: list[Step], start: dt.datetime, duration: float) -> None:
    """Every step goes off at the start; with several, they come back one after another, the last at the end."""
    rng.shuffle(steps)
    m = len(steps)
    for k, step in enumerate(steps):
        share = 1.0 if k == m - 1 else 0.35 + 0.6 * (k + rng.uniform(0.2, 0.9)) / m
        step.off = start
        step.restored = start + _minutes(max(duration * share, 0.2))


def _storms(rng: random.Random, grids: list[BranchGrid], anchor: dt.datetime, out: GridSeed) -> list[Draft]:
    """Two or three storm days, each hitting most feeders of one or two branches for hours."""
    drafts: list[Draft] = []
    used: set[dt.date] = set()
    last = (anchor - dt.timedelta(days=2)).date()
    for n, (storm, months) in enumerate(STORMS):
        # One weather front: the same local date in every branch it hits.
        hit = [grids[0]] if n == 0 else rng.sample(grids, k=min(len(grids), 1 + int(rng.random() < 0.5)))
        cause, reason = words.STORM_REASONS[storm]
        days = [
            last - dt.timedelta(days=i)
            for i in range(360)
            if (last - dt.timedelta(days=i)).month in months and last - dt.timedelta(days=i) not in used
        ]
        if not days:
            continue
        day = rng.choice(days)
        used.add(day)
        for grid in hit:
            tz = grid.branch.tz
            midnight = _local(day + dt.timedelta(days=1), 0, tz)
            hits = 0
            for feeder in grid.feeders:
                if not feeder.customers or rng.random() > 0.9:
                    continue
                start = _local(day, 3 * 60 + rng.uniform(0, 240), tz)
                duration = min(max(rng.lognormvariate(math.log(480), 0.35), 180), 16 * 60)
                duration = min(duration, (midnight - start).total_seconds() / 60 - 10)
                subs = [s for s in feeder.substations if s.customers]
                if len(subs) > 1 and rng.random() < 0.75:
                    steps = [Step(s.id, s.customers, None, None) for s in subs]
                else:
                    steps = [Step(feeder.id, feeder.customers, None, None)]
                _restore_in_steps(rng, steps, start, duration)
                detected = start + _minutes(rng.uniform(1, 10))
                restored = max(s.restored for s in steps if s.restored)
                drafts.append(
                    Draft(
                        kind=OutageKind.UNPLANNED,
                        status=OutageStatus.RESTORED,
                        branch_id=grid.branch.pk,
                        node_id=feeder.id,
                        cause=cause,
                        reason=reason,
                        detected=detected,
                        started=start,
                        restored=restored,
                        steps=steps,
                        etrs=_etrs(rng, detected, restored),
                        crews=2 + int(rng.random() * 3),
                        created_by=grid.dispatcher_id,
                        note="Штормовое предупреждение МЧС; работы в режиме ЧС",
                    )
                )
                hits += 1
            if hits:
                out.storm_days.append((grid.branch.code, day))
    return drafts


def _planned_history(rng: random.Random, grid: BranchGrid, year: _Year, seq: list[int]) -> list[Draft]:
    feeders = [f for f in grid.feeders if f.customers]
    subs = [s for s in grid.substations if s.customers]
    if not feeders:
        return []
    n = max(
        MIN_PLANNED_PER_BRANCH, round(len(feeders) * PLANNED_PER_FEEDER + len(subs) * PLANNED_PER_SUBSTATION)
    )
    tz = grid.branch.tz
    drafts: list[Draft] = []
    busy: set[tuple[int, dt.date]] = set()
    for _ in range(n):
        day = year.day()
        if day.weekday() >= 5 or (day.month, day.day) in HOLIDAYS:
            continue
        on_feeder = rng.random() < 0.4
        if on_feeder:
            f = rng.choice(feeders)
            node_id, customers, target = f.id, f.customers, "feeder"
        else:
            s = rng.choice(subs)
            node_id, customers, target = s.id, s.customers, "substation"
        if (node_id, day) in busy:
            continue
        busy.add((node_id, day))
        start = _local(day, rng.choice([9, 9, 10]) * 60, tz)
        end = start + dt.timedelta(hours=rng.choice([2, 3, 4, 4, 5, 6, 8]))
        if end >= year.anchor:
            continue
        ahead = rng.uniform(30, 40) if rng.random() < 0.85 else rng.uniform(5, 20)
        published = (start - dt.timedelta(days=ahead)).replace(second=0, microsecond=0)
        seq[0] += 1
        draft = Draft(
            kind=OutageKind.PLANNED,
            status=OutageStatus.RESTORED,
            branch_id=grid.branch.pk,
            node_id=node_id,
            cause=Cause.PLANNED_WORKS,
            reason=rng.choice(words.PLANNED_WORKS[target]),
            detected=published - dt.timedelta(hours=rng.uniform(1, 48)),
            started=None,
            restored=None,
            steps=[Step(node_id, customers, None, None)],
            planned_start=start,
            planned_end=end,
            published=published,
            works_order=f"НР-{grid.branch.code[:3].upper()}-{seq[0]:05d}",
            crews=1,
            created_by=grid.dispatcher_id,
        )
        if rng.random() < 0.05:
            draft.status = OutageStatus.CANCELLED
            draft.note = "Работы перенесены: неблагоприятные погодные условия"
        else:
            off = start + _minutes(rng.uniform(0, 15))
            if rng.random() < 0.1:
                back = end + _minutes(rng.uniform(20, 120))
                draft.etrs = [
                    (end - dt.timedelta(minutes=15), _ceil_quarter(back), rng.choice(words.ETR_REASONS))
                ]
            else:
                back = end - _minutes(rng.uniform(0, 90))
            draft.started, draft.restored = off, back
            draft.steps[0].off, draft.steps[0].restored = off, back
        drafts.append(draft)
    return drafts


def _live(
    rng: random.Random, grids: list[BranchGrid], now: dt.datetime, threshold: int, seq: list[int]
) -> list[Draft]:
    """Two unplanned outages off now and four planned ones in the next 30 days."""
    drafts: list[Draft] = []
    taken: set[int] = set()  # feeders touched, so live outages never overlap
    now = now.replace(second=0, microsecond=0)
    # 1. A feeder of the first branch (the demo logins' branch), the largest below the threshold.
    grid = grids[0]
    feeders = sorted((f for f in grid.feeders if 0 < f.customers < threshold), key=lambda f: -f.customers)
    if feeders:
        f = feeders[0]
        taken.add(f.id)
        start = now - dt.timedelta(minutes=47)
        detected = start + dt.timedelta(minutes=4)
        first = _ceil_quarter(start + dt.timedelta(minutes=100))
        revised = _ceil_quarter(now + dt.timedelta(hours=2))
        drafts.append(
            Draft(
                kind=OutageKind.UNPLANNED,
                status=OutageStatus.ACTIVE,
                branch_id=grid.branch.pk,
                node_id=f.id,
                cause=Cause.WEATHER,
                reason="Обрыв провода при сильном ветре",
                detected=detected,
                started=start,
                restored=None,
                steps=[Step(f.id, f.customers, start, None)],
                etrs=[
                    (detected + dt.timedelta(minutes=6), first, ""),
                    (now - dt.timedelta(minutes=8), revised, "Требуется замена опоры"),
                ],
                crews=2,
                created_by=grid.dispatcher_id,
            )
        )
    # 2. A substation in another branch.
    grid = grids[1] if len(grids) > 1 else grids[0]
    subs = sorted(
        (s for f in grid.feeders if f.id not in taken for s in f.substations if 0 < s.customers < threshold),
        key=lambda s: -s.customers,
    )
    if subs:
        s = subs[0]
        taken.update(f.id for f in grid.feeders if s in f.substations)
        start = now - dt.timedelta(minutes=25)
        detected = start + dt.timedelta(minutes=3)
        drafts.append(
            Draft(
                kind=OutageKind.UNPLANNED,
                status=OutageStatus.ACTIVE,
                branch_id=grid.branch.pk,
                node_id=s.id,
                cause=Cause.EQUIPMENT,
                reason="Повреждение кабельной линии",
                detected=detected,
                started=start,
                restored=None,
                steps=[Step(s.id, s.customers, start, None)],
                etrs=[(detected + dt.timedelta(minutes=10), _ceil_quarter(now + dt.timedelta(hours=3)), "")],
                crews=1,
                created_by=grid.dispatcher_id,
            )
        )
    # 3. Four planned works, two in the first branch.
    for k, (gi, ahead, hours) in enumerate([(0, 6, 4), (0, 13, 6), (1, 9, 5), (2, 21, 8)]):
        grid = grids[gi % len(grids)]
        feeders = [f for f in grid.feeders if f.customers and f.id not in taken]
        if not feeders:
            continue
        f = feeders[(k * 7) % len(feeders)]
        taken.add(f.id)
        if k % 2 == 0 and any(s.customers for s in f.substations):
            sub = next(s for s in f.substations if s.customers)
            node_id, customers, target = sub.id, sub.customers, "substation"
        else:
            node_id, customers, target = f.id, f.customers, "feeder"
        tz = grid.branch.tz
        day = now.astimezone(tz).date() + dt.timedelta(days=ahead)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        start = _local(day, 9 * 60, tz)
        published = now - dt.timedelta(days=1 + k, hours=rng.randrange(1, 8))
        seq[0] += 1
        drafts.append(
            Draft(
                kind=OutageKind.PLANNED,
                status=OutageStatus.SCHEDULED,
                branch_id=grid.branch.pk,
                node_id=node_id,
                cause=Cause.PLANNED_WORKS,
                reason=rng.choice(words.PLANNED_WORKS[target]),
                detected=published - dt.timedelta(hours=2),
                started=None,
                restored=None,
                steps=[Step(node_id, customers, None, None)],
                planned_start=start,
                planned_end=start + dt.timedelta(hours=hours),
                published=published,
                works_order=f"НР-{grid.branch.code[:3].upper()}-{seq[0]:05d}",
                crews=1,
                created_by=grid.dispatcher_id,
            )
        )
    return drafts


def build_outages(
    rng: random.Random,
    grids: list[BranchGrid],
    *,
    anchor: dt.datetime,
    now: dt.datetime,
    actor: User | None,
    out: GridSeed,
) -> None:
    """Draw the history and the live picture, number them in order of registration and write them."""
    threshold = OutageSettings.current().mass_threshold
    grids = [g for g in grids if any(f.customers for f in g.feeders)]
    if not grids:
        return
    history: list[Draft] = []
    works_seq = [0]
    for grid in grids:
        year = _Year(rng, anchor, grid.branch.tz)
        feeders = [f for f in grid.feeders if f.customers]
        n_subs = sum(1 for f in feeders for s in f.substations if s.customers)
        n = max(
            MIN_FAULTS_PER_BRANCH, round(len(feeders) * FAULTS_PER_FEEDER + n_subs * FAULTS_PER_SUBSTATION)
        )
        for _ in range(n):
            draft = _fault(rng, year, grid, feeders)
            if draft is not None:
                history.append(draft)
        history.extend(_planned_history(rng, grid, year, works_seq))
    history.extend(_storms(rng, grids, anchor, out))
    live = _live(rng, grids, now, threshold, works_seq)
    out.history = len(history)
    out.momentary = sum(1 for d in history if d.momentary)
    out.planned = sum(1 for d in history if d.kind == OutageKind.PLANNED)
    zones = {g.branch.pk: g.branch.tz for g in grids}
    numbers = _write(history + live, threshold, actor, zones)
    out.active = [numbers[id(d)] for d in live if d.status == OutageStatus.ACTIVE]
    out.scheduled = [numbers[id(d)] for d in live if d.status == OutageStatus.SCHEDULED]


def _write(
    drafts: list[Draft], threshold: int, actor: User | None, zones: Mapping[int, dt.tzinfo]
) -> dict[int, str]:
    """Number the drafts in order of registration (the year in the branch's time zone, as the live
    actions do) and COPY them with their nodes, ETRs and timelines; the yearly counters follow."""
    drafts.sort(key=lambda d: (d.detected, d.node_id))
    base = next_id(Outage)
    seq: dict[int, int] = defaultdict(int)
    numbers: dict[int, str] = {}
    w_outage = TableWriter(
        Outage,
        [
            "id",
            "number",
            "kind",
            "status",
            "branch_id",
            "node_id",
            "cause",
            "reason",
            "works_order",
            "planned_start",
            "planned_end",
            "detected_at",
            "started_at",
            "restored_at",
            "etr",
            "published_at",
            "is_momentary",
            "customers_affected",
            "crews",
            "mass_mode_at",
            "note",
            "created_by_id",
            "created_at",
        ],
    )
    w_node = TableWriter(OutageNode, ["outage_id", "node_id", "off_at", "restored_at", "customers"])
    w_etr = TableWriter(EtrChange, ["outage_id", "etr", "previous", "changed_at", "actor_id", "reason"])
    w_event = TableWriter(OutageEvent, ["outage_id", "type", "time", "actor_id", "payload"])
    system = actor.pk if actor is not None else None

    def event(pk: int, kind: str, at: dt.datetime | None, by: int | None, **payload: object) -> None:
        w_event.add((pk, kind, at, by, json.dumps(payload, ensure_ascii=False)))

    for i, d in enumerate(drafts):
        pk = base + i
        year = d.detected.astimezone(zones[d.branch_id]).year
        seq[year] += 1
        number = f"О-{year}-{seq[year]:05d}"  # noqa: RUF001 - the Cyrillic О of the live numbers
        numbers[id(d)] = number
        customers = d.customers
        etr = d.etrs[-1][1] if d.etrs else None
        mass = (
            d.started + dt.timedelta(minutes=15)
            if d.started and d.restored and customers >= threshold
            else None
        )
        w_outage.add(
            (
                pk,
                number,
                d.kind,
                d.status,
                d.branch_id,
                d.node_id,
                d.cause,
                d.reason,
                d.works_order,
                d.planned_start,
                d.planned_end,
                d.detected,
                d.started,
                d.restored,
                etr,
                d.published,
                d.momentary,
                customers,
                d.crews if d.status == OutageStatus.ACTIVE else 0,
                mass,
                d.note,
                d.created_by,
                d.detected,
            )
        )
        for step in d.steps:
            w_node.add((pk, step.node_id, step.off, step.restored, step.customers))
        by = d.created_by
        if d.kind == OutageKind.PLANNED:
            event(pk, OutageEventType.REGISTERED, d.detected, by)
            event(pk, OutageEventType.SCHEDULED, d.published, by, customers=customers)
        else:
            event(pk, OutageEventType.REGISTERED, d.detected, by, customers=customers, cause=d.cause)
        previous: dt.datetime | None = None
        for changed, new, why in d.etrs:
            w_etr.add((pk, new, previous, changed, by, why))
            event(
                pk,
                OutageEventType.ETR_CHANGED,
                changed,
                by,
                etr=new.isoformat(),
                previous=previous.isoformat() if previous else None,
            )
            previous = new
        if d.status == OutageStatus.CANCELLED and d.planned_start is not None:
            event(pk, OutageEventType.CANCELLED, d.planned_start - dt.timedelta(days=2), by, reason=d.note)
        elif d.kind == OutageKind.PLANNED and d.started is not None:
            event(pk, OutageEventType.STARTED, d.started, by)
        if mass is not None:
            event(pk, OutageEventType.MASS_MODE, mass, system, customers=customers)
        if d.restored is not None:
            if len(d.steps) > 1:
                for step in sorted(d.steps, key=lambda s: s.restored or d.detected)[:-1]:
                    event(
                        pk,
                        OutageEventType.NODE_RESTORED,
                        step.restored,
                        by,
                        node_id=step.node_id,
                        customers=step.customers,
                    )
            event(pk, OutageEventType.RESTORED, d.restored, by, customers=customers)
        if (i + 1) % 20_000 == 0:
            flush_all(w_outage, w_node, w_etr, w_event)
    flush_all(w_outage, w_node, w_etr, w_event)
    for year, last in seq.items():
        OutageCounter.objects.update_or_create(year=year, defaults={"last": last})
    return numbers
