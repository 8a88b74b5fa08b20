"""Read-side selectors of the public outage page, its map and its feeds.

What the public sees of an outage is computed, not typed in: the houses without power are the service
points fed from the outage's nodes that are still off (:func:`okno.outages.topology.service_points_under`),
grouped settlement → street → houses and compacted to ranges (``1–15, 17``). A restored node drops out
(partial restoration), a restored or cancelled outage drops out altogether, and a proposed one (reports
not yet confirmed by a dispatcher) is never public.

Times are shown in the outage's branch time zone with the zone named, because a company with branches in
Moscow and Yekaterinburg time must not make a caller do the arithmetic.

Nothing here returns a name, an account number or a flat: the public sees houses and, for debt
disconnections, streets only.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Count, Max, Prefetch, Q
from django.utils import timezone

from okno.customers.models import Address, fold
from okno.outages.choices import OFF_STATUSES, OutageKind, OutageStatus
from okno.outages.models import GridNode, Outage, OutageNode
from okno.outages.topology import service_points_under

# Statuses the public sees: announced works and outages on now. PROPOSED (unconfirmed reports),
# RESTORED and CANCELLED never appear.
PUBLIC_STATUSES = (OutageStatus.SCHEDULED, OutageStatus.ACTIVE, OutageStatus.PARTIALLY_RESTORED)
# A sane cap on what one page or feed computes (a storm with more open outages than this is shown
# newest first; the cap is documented in docs/outages/public-page.md).
MAX_OUTAGES = 500
# How long the computed addresses of one outage state are reused (seconds). A change of the outage's
# nodes changes the cache key, so this only bounds how late a change of the topology (new feeds) shows.
PLACES_TTL = 300.0
DEFAULT_DAYS = 30
MAX_RANGE_DAYS = 366


# --- houses and ranges -------------------------------------------------------------------------

_HOUSE = re.compile(r"^(\d+)(.*)$")


def house_key(house: str) -> tuple[int, str]:
    """Natural order of house numbers: 2 < 10 < 10А < 11 (non-numeric ones last, alphabetically)."""
    m = _HOUSE.match(house.strip())
    if m is None:
        return (10**9, house.lower())
    return (int(m.group(1)), m.group(2).strip().lower())


def compact_houses(houses: Iterable[str]) -> str:
    """``1, 2, 3, …, 15, 17, 19А`` → ``1–15, 17, 19А``: runs of three or more plain numbers become ranges.

    Plain numbers come first in runs, then the houses with letters, fractions or buildings in natural
    order, because that is how printed outage notices read.
    """
    unique = sorted({h.strip() for h in houses if h and h.strip()}, key=house_key)
    plain = sorted(int(h) for h in unique if h.isdigit())
    other = [h for h in unique if not h.isdigit()]
    parts: list[str] = []
    i = 0
    while i < len(plain):
        j = i
        while j + 1 < len(plain) and plain[j + 1] == plain[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{plain[i]}–{plain[j]}")
        else:
            parts.extend(str(n) for n in plain[i : j + 1])
        i = j + 1
    return ", ".join(parts + other)


@dataclass(frozen=True)
class Street:
    """One street of an outage with its houses; the texts are made once, when the addresses are cached."""

    name: str  # "" for a settlement without streets
    houses: tuple[str, ...]
    houses_text: str = ""
    text: str = ""  # ``ул. Ленина, 1–15, 17`` — the line a resident looks for

    @classmethod
    def of(cls, name: str, houses: Iterable[str]) -> Street:
        ordered = tuple(sorted(houses, key=house_key))
        compact = compact_houses(ordered)
        return cls(
            name=name, houses=ordered, houses_text=compact, text=", ".join(p for p in (name, compact) if p)
        )


@dataclass(frozen=True)
class Place:
    settlement: str
    streets: tuple[Street, ...]


def group_addresses(rows: Iterable[tuple[str, str, str, str]]) -> tuple[Place, ...]:
    """(settlement, street, house, building) rows → settlements → streets → houses, sorted."""
    tree: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for settlement, street, house, building in rows:
        label = house.strip()
        if label and building and building.strip():
            label = f"{label} к{building.strip()}"
        houses = tree[settlement.strip()][street.strip()]
        if label:
            houses.add(label)
    return tuple(
        Place(
            settlement=s,
            streets=tuple(Street.of(st, hs) for st, hs in sorted(streets.items())),
        )
        for s, streets in sorted(tree.items())
    )


# --- which nodes are off, and the houses under them ---------------------------------------------


def split_nodes(outage: Outage) -> tuple[list[GridNode], list[GridNode]]:
    """The nodes still off and the restored nodes that lie under one of them (to subtract).

    An outage without OutageNode rows (registered before its nodes were recorded) is its own node.
    A restored node that is *not* under an open node (a feeder back on while one substation under it
    stays off) is not subtracted: the open substation is what is left of the outage.
    """
    rows = list(outage.nodes.all())
    if not rows:
        return [outage.node], []
    still_off = [r.node for r in rows if r.restored_at is None]
    back = [
        r.node
        for r in rows
        if r.restored_at is not None
        and any(r.node.path.startswith(o.path) and r.node.pk != o.pk for o in still_off)
    ]
    return still_off, back


class _PlacesCache:
    """A small per-process TTL cache of the addresses of one outage state.

    The key holds everything about the outage that changes the answer (the outage and its creation time,
    the open and restored nodes) and nothing that does not (an ETR change keeps the entry), so a partial
    restoration shows at once; a topology change (new feeds) shows within :data:`PLACES_TTL` seconds.
    """

    def __init__(self, size: int = 512) -> None:
        self._rows: dict[tuple, tuple[float, tuple[Place, ...]]] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple[Place, ...] | None:
        hit = self._rows.get(key)
        if hit is None or time.monotonic() - hit[0] > PLACES_TTL:
            return None
        return hit[1]

    def put(self, key: tuple, value: tuple[Place, ...]) -> None:
        with self._lock:
            if len(self._rows) >= self._size:
                self._rows.clear()
            self._rows[key] = (time.monotonic(), value)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


_places_cache = _PlacesCache()


def clear_cache() -> None:
    _places_cache.clear()


def places_of(outage: Outage) -> tuple[Place, ...]:
    """Settlements, streets and houses that are (or will be) without power in this outage."""
    still_off, back = split_nodes(outage)
    key = (
        outage.pk,
        outage.created_at.isoformat() if outage.created_at else "",
        tuple(sorted(n.pk for n in still_off)),
        tuple(sorted(n.pk for n in back)),
    )
    cached = _places_cache.get(key)
    if cached is not None:
        return cached
    places: tuple[Place, ...] = ()
    if still_off:
        points = service_points_under(still_off, exclude=back)
        rows = (
            Address.objects.filter(service_points__pk__in=points)
            .values_list("settlement", "street", "house", "building")
            .distinct()
        )
        places = group_addresses(rows)
        if not places:
            # Nodes without customers recorded yet: the settlement of the node is all we can say.
            places = tuple(
                Place(settlement=s, streets=())
                for s in sorted({n.settlement for n in still_off if n.settlement})
            )
    _places_cache.put(key, places)
    return places


# --- times ----------------------------------------------------------------------------------------


def utc_offset(tz: zoneinfo.ZoneInfo, at: dt.datetime) -> str:
    """``UTC+3``, ``UTC+5``, ``UTC+5:30`` — the offset of ``tz`` at that moment."""
    offset = at.astimezone(tz).utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h}" + (f":{m:02d}" if m else "")


@dataclass(frozen=True)
class LocalTime:
    """A moment in the branch's time zone, ready to print (``23.11.2026 14:30``) and to serialise."""

    value: dt.datetime

    @property
    def text(self) -> str:
        return self.value.strftime("%d.%m.%Y %H:%M")

    @property
    def date_text(self) -> str:
        return self.value.strftime("%d.%m.%Y")

    @property
    def time_text(self) -> str:
        return self.value.strftime("%H:%M")

    @property
    def iso(self) -> str:
        return self.value.isoformat()


def anchor_of(number: str) -> str:
    return "outage-" + re.sub(r"\s+", "-", number.strip())


def local(value: dt.datetime | None, tz: zoneinfo.ZoneInfo) -> LocalTime | None:
    return None if value is None else LocalTime(value.astimezone(tz))


# --- the public view of an outage -----------------------------------------------------------------


@dataclass
class PublicOutage:
    """What the public may know about one outage (no dispatcher's note, no crews' names, no customers)."""

    outage: Outage = field(repr=False)
    number: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    cause: str
    cause_label: str
    reason: str
    branch_id: int
    branch_name: str
    tz: zoneinfo.ZoneInfo
    zone_label: str
    is_off: bool
    start: LocalTime | None  # off since (or the planned start of works not yet begun)
    planned_start: LocalTime | None
    planned_end: LocalTime | None
    etr: LocalTime | None
    updated: dt.datetime
    places: tuple[Place, ...]
    nodes: list[GridNode] = field(repr=False)
    etr_passed: bool = False  # the estimate is behind us and power is still off: it is being revised

    @property
    def anchor(self) -> str:
        """The list entry's id (and the map marker's link): HTML ids may hold any character but spaces."""
        return anchor_of(self.number)

    @property
    def settlements(self) -> list[str]:
        return [p.settlement for p in self.places]

    @property
    def street_count(self) -> int:
        return sum(len(p.streets) for p in self.places)

    @property
    def end(self) -> LocalTime | None:
        """The end the public is promised: the planned end of works, else the estimate."""
        return self.planned_end if self.kind == OutageKind.PLANNED else self.etr

    def in_settlement(self, settlement: str) -> bool:
        wanted = fold(settlement)
        return any(fold(p.settlement) == wanted for p in self.places) or any(
            fold(n.settlement) == wanted for n in self.nodes if n.settlement
        )

    def interval(self, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """When the outage keeps (or will keep) power off; one that is off now lasts at least until now."""
        o = self.outage
        start = o.started_at or o.planned_start or o.detected_at
        end = o.planned_end or o.etr or start
        if self.is_off:
            end = max(end, now)
        return start, max(start, end)


def _base() -> Iterable[Outage]:
    return (
        Outage.objects.filter(status__in=PUBLIC_STATUSES)
        .select_related("branch", "node")
        .prefetch_related(
            Prefetch("nodes", queryset=OutageNode.objects.select_related("node").order_by("id"))
        )
        .annotate(last_event=Max("events__time"), last_etr=Max("etr_changes__changed_at"))
    )


def to_public(outage: Outage) -> PublicOutage:
    tz = outage.branch.tz
    now = timezone.now()
    is_off = outage.status in OFF_STATUSES
    still_off, _back = split_nodes(outage)
    stamps = [
        outage.created_at,
        outage.detected_at,
        outage.published_at,
        outage.started_at,
        getattr(outage, "last_event", None),
        getattr(outage, "last_etr", None),
    ]
    updated = max(s for s in stamps if s is not None)
    if outage.kind == OutageKind.PLANNED and not is_off:
        start_at = outage.planned_start
    else:
        start_at = outage.started_at or outage.detected_at
    return PublicOutage(
        outage=outage,
        number=outage.number,
        kind=outage.kind,
        kind_label=str(outage.get_kind_display()),
        status=outage.status,
        status_label=str(outage.get_status_display()),
        cause=outage.cause,
        cause_label=str(outage.get_cause_display()),
        reason=outage.reason,
        branch_id=outage.branch_id,
        branch_name=outage.branch.name,
        tz=tz,
        zone_label=f"{utc_offset(tz, start_at or now)}, {tz.key}",
        is_off=is_off,
        start=local(start_at, tz),
        planned_start=local(outage.planned_start, tz),
        planned_end=local(outage.planned_end, tz),
        etr=local(outage.etr, tz) if is_off or outage.kind == OutageKind.UNPLANNED else None,
        updated=updated,
        places=places_of(outage),
        nodes=still_off,
        etr_passed=is_off and outage.etr is not None and outage.etr < now,
    )


def unplanned_now(*, settlement: str = "") -> list[PublicOutage]:
    """Unplanned outages with customers off right now, newest first."""
    qs = (
        _base()
        .filter(kind=OutageKind.UNPLANNED, status__in=OFF_STATUSES)  # type: ignore[attr-defined]
        .order_by("-started_at", "-detected_at", "-id")
    )
    out = [to_public(o) for o in qs[:MAX_OUTAGES]]
    return [o for o in out if o.in_settlement(settlement)] if settlement else out


def day_bounds(tz: zoneinfo.ZoneInfo, first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """From the midnight starting ``first`` to the midnight ending ``last`` in ``tz``."""
    start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def planned(
    *, settlement: str = "", date_from: dt.date | None = None, date_to: dt.date | None = None
) -> list[PublicOutage]:
    """Planned works announced or under way that overlap the days ``date_from``–``date_to``.

    The days are read in each outage's own branch time zone ("works on 24 November" means the local
    24 November). Default: today and the next :data:`DEFAULT_DAYS` days.
    """
    now = timezone.now()
    today = timezone.localdate()
    first = date_from or today
    last = date_to or (first + dt.timedelta(days=DEFAULT_DAYS))
    # A day of slack either side covers every time zone; the exact test runs per outage below.
    lo = dt.datetime.combine(first - dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    hi = dt.datetime.combine(last + dt.timedelta(days=2), dt.time.min, tzinfo=dt.UTC)
    qs = (
        _base()
        .filter(kind=OutageKind.PLANNED)  # type: ignore[attr-defined]
        .filter(
            Q(status__in=OFF_STATUSES)
            | Q(planned_start__lt=hi, planned_end__gte=lo)
            | Q(planned_start__lt=hi, planned_end__isnull=True)
        )
        .order_by("planned_start", "started_at", "id")
    )
    out: list[PublicOutage] = []
    for o in qs[:MAX_OUTAGES]:
        public = to_public(o)
        start, end = public.interval(now)
        day_start, day_end = day_bounds(public.tz, first, last)
        if start >= day_end or end < day_start:
            continue
        if settlement and not public.in_settlement(settlement):
            continue
        out.append(public)
    return out


def feed_outages(*, settlement: str = "", kind: str = "") -> list[PublicOutage]:
    """What the feeds carry: every unplanned outage on now and every planned one not yet over."""
    now = timezone.now()
    qs = _base().filter(Q(status__in=OFF_STATUSES) | Q(planned_end__gte=now) | Q(planned_end__isnull=True))  # type: ignore[attr-defined]
    if kind:
        qs = qs.filter(kind=kind)
    qs = qs.exclude(kind=OutageKind.UNPLANNED, status=OutageStatus.SCHEDULED).order_by("-detected_at", "-id")
    out = [to_public(o) for o in qs[:MAX_OUTAGES]]
    return [o for o in out if o.in_settlement(settlement)] if settlement else out


def settlement_options(outages: Iterable[PublicOutage]) -> list[str]:
    names = {p.settlement for o in outages for p in o.places if p.settlement}
    names.update(n.settlement for o in outages for n in o.nodes if n.settlement)
    return sorted(names, key=lambda s: fold(s))


# --- debt disconnections (streets only) -------------------------------------------------------------


@dataclass(frozen=True)
class DebtStreet:
    """Planned restrictions or suspensions for debt on one street on one day: a count, never a name."""

    day: dt.date
    settlement: str
    street: str
    kind: str
    kind_label: str
    count: int


def debt_disconnections(
    date_from: dt.date, date_to: dt.date, *, settlement: str = ""
) -> list[DebtStreet] | None:
    """Planned debt restrictions/suspensions by street; ``None`` when billing is not run here.

    Only a case whose current step is the order's (a restriction order of a RESTRICTED case, a
    suspension order of a SUSPENDED case) counts: a paid case no longer disconnects anyone.
    """
    if not apps.is_installed("okno.billing"):
        return None
    from okno.billing.models import DebtCase, DebtOrder

    addr = "case__account__service_point__address__"
    qs = (
        DebtOrder.objects.filter(scheduled_on__gte=date_from, scheduled_on__lte=date_to)
        .filter(
            Q(kind=DebtOrder.Kind.RESTRICTION, case__status=DebtCase.Status.RESTRICTED)
            | Q(kind=DebtOrder.Kind.SUSPENSION, case__status=DebtCase.Status.SUSPENDED)
        )
        .values("scheduled_on", "kind", f"{addr}settlement", f"{addr}street")
        .annotate(n=Count("case", distinct=True))
        .order_by("scheduled_on", f"{addr}settlement", f"{addr}street", "kind")
    )
    labels = dict(DebtOrder.Kind.choices)
    rows = [
        DebtStreet(
            day=r["scheduled_on"],
            settlement=r[f"{addr}settlement"],
            street=r[f"{addr}street"],
            kind=r["kind"],
            kind_label=str(labels[r["kind"]]),
            count=r["n"],
        )
        for r in qs[:MAX_OUTAGES]
    ]
    if settlement:
        wanted = fold(settlement)
        rows = [r for r in rows if fold(r.settlement) == wanted]
    return rows


__all__ = [
    "DebtStreet",
    "LocalTime",
    "Place",
    "PublicOutage",
    "Street",
    "compact_houses",
    "debt_disconnections",
    "feed_outages",
    "group_addresses",
    "places_of",
    "planned",
    "unplanned_now",
]
