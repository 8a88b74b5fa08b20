"""The demo's grid: topology over the demo company, a year of outages, local authorities, subscriptions.

:func:`build_grid` runs at the end of ``okno seed`` (same transaction, system actor ``system:seed``),
after the people (and billing) exist, and reads what it needs back from the database, so it depends
only on the seed and the anchor. It writes:

* the topology — per settlement one power centre (110 kV in towns, 35 kV elsewhere; capacities, a
  few closed for new connections, one or two with a reconstruction schedule), 10(6) kV feeders out of
  it and 10(6)/0.4 kV transformer substations on each feeder. The service points of a settlement are
  grouped by house (settlement, street, house: a house is fed from one substation), the houses are
  sorted along the streets and cut into substations of about :data:`SP_PER_SUBSTATION` service
  points, the substations into feeders of about :data:`SUBSTATIONS_PER_FEEDER`. Coordinates are
  fictional: each settlement gets a stable point inside a box per branch
  (:data:`okno.demo.words.GRID_BOXES`, from the settlement's name, not the seed), the nodes small
  offsets around it;
* one :class:`~okno.outages.models.Feed` per service point: one GROUP BY of the service points by
  house (with their ids) and a COPY, so ``okno seed --accounts 1000000`` stays a matter of seconds;
* a dispatcher login per branch (``dispatcher`` in the first branch, ``dispatcher_<code>`` in the others);
* the outage history and the live picture (:mod:`okno.demo.outages`);
* a head of administration per district and per settlement (:class:`~okno.outages.models.LocalAuthority`);
* subscriptions for about 30 % of the customers with an e-mail (:func:`build_subscriptions`).

Deterministic for a given seed: its own ``random.Random`` and everything read back in a fixed order.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import secrets
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.db import connection, models

from okno.customers.models import Address, ServicePoint
from okno.demo import words
from okno.demo.org import DEMO_PASSWORD
from okno.demo.writer import TableWriter, bulk_load, next_id, reset_sequences
from okno.org.choices import Role
from okno.org.models import Branch, GridDistrict, User
from okno.outages.choices import NodeKind
from okno.outages.models import (
    Announcement,
    EtrChange,
    Feed,
    GridNode,
    LocalAuthority,
    Outage,
    OutageCounter,
    OutageEvent,
    OutageNode,
)

# Tables of the outages capability in the order they can be emptied (children first).
OUTAGE_MODELS: list[type[models.Model]] = [
    OutageEvent,
    EtrChange,
    OutageNode,
    Announcement,
    Outage,
    Feed,
    LocalAuthority,
    GridNode,
    OutageCounter,
]

SP_PER_SUBSTATION = 120  # service points per transformer substation in a dense settlement
MIN_SUBSTATIONS = 3  # per settlement (when it has that many houses), so a small demo still has a grid
SUBSTATIONS_PER_FEEDER = 8

House = tuple[str, str, int, list[int]]  # street, house, service points, their ids


def grid_models() -> list[type[models.Model]]:
    """Every table :func:`build_grid` fills, children first, that exists: the notification tables
    (whatever the ``notify`` app holds: they point at customers and grid nodes), any other table of
    the outages app, then the outage tables. Settings and template rows are reference data and stay."""
    tables = set(connection.introspection.table_names())
    notify: list[type[models.Model]] = []
    if apps.is_installed("okno.notify"):
        notify = list(apps.get_app_config("notify").get_models())[::-1]
    others = [m for m in apps.get_app_config("outages").get_models() if m not in OUTAGE_MODELS]
    return [
        m for m in [*notify, *others, *OUTAGE_MODELS] if not _is_settings(m) and m._meta.db_table in tables
    ]


def _is_settings(model: type[models.Model]) -> bool:
    # Reference rows (templates shipped by a data migration, settings) outlive a reseed.
    name = model.__name__.lower()
    return name.endswith(("settings", "template"))


@dataclass
class Substation:
    id: int
    customers: int
    street_span: str


@dataclass
class Feeder:
    id: int
    pc_id: int
    voltage: int
    settlement: str
    substations: list[Substation]

    @property
    def customers(self) -> int:
        return sum(s.customers for s in self.substations)


@dataclass
class PowerCentre:
    id: int
    voltage: int
    settlement: str
    feeders: list[Feeder] = field(default_factory=list)

    @property
    def customers(self) -> int:
        return sum(f.customers for f in self.feeders)


@dataclass
class BranchGrid:
    """The nodes of one branch as the outage generator needs them (ids and customers under each)."""

    branch: Branch
    power_centres: list[PowerCentre] = field(default_factory=list)
    dispatcher_id: int | None = None

    @property
    def feeders(self) -> list[Feeder]:
        return [f for pc in self.power_centres for f in pc.feeders]

    @property
    def substations(self) -> list[Substation]:
        return [s for f in self.feeders for s in f.substations]

    @property
    def customers(self) -> int:
        return sum(pc.customers for pc in self.power_centres)


@dataclass
class GridSeed:
    power_centres: int = 0
    feeders: int = 0
    substations: int = 0
    feeds: int = 0
    closed_power_centres: int = 0
    history: int = 0
    momentary: int = 0
    planned: int = 0
    storm_days: list[tuple[str, dt.date]] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    scheduled: list[str] = field(default_factory=list)
    landmark: str = ""  # "г. …, ул. Ленина, д. 15": a building under the first live outage
    authorities: int = 0
    subscriptions: int = 0
    subscriptions_note: str = ""
    logins: list[tuple[str, Any, str]] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)


LANDMARK_STREET, LANDMARK_HOUSE = "ул. Ленина", "15"


def mark_landmark(outage_number: str) -> str:
    """Make one building fed by the outage ``ul. Lenina, 15`` of its settlement, the address the
    demo's script asks about ("is there power at Lenina 15" in the chat, the IVR, the outage page), and
    return it written out. Buildings that already had that address are renumbered (15/1)."""
    from okno.customers.models import Address
    from okno.outages.models import Feed, Outage

    outage = Outage.objects.select_related("node").filter(number=outage_number).first()
    if outage is None or outage.node is None:
        return ""
    feed = (
        Feed.objects.filter(node__path__startswith=outage.node.path)
        .select_related("service_point__address")
        .order_by("service_point_id")
        .first()
    )
    if feed is None:
        return ""
    a = feed.service_point.address
    building = Address.objects.filter(
        settlement=a.settlement, street=a.street, house=a.house, building=a.building
    )
    # The only Lenina 15 of the demo, so that the question needs no settlement.
    Address.objects.filter(street=LANDMARK_STREET, house=LANDMARK_HOUSE).exclude(
        pk__in=building.values("pk")
    ).update(house=f"{LANDMARK_HOUSE}/1")
    building.update(street=LANDMARK_STREET, house=LANDMARK_HOUSE, building="")
    return f"{a.settlement}, {LANDMARK_STREET}, д. {LANDMARK_HOUSE}"


def build_grid(
    *,
    seed: int,
    anchor: dt.datetime,
    now: dt.datetime | None = None,
    actor: User | None = None,
    say: Callable[[str], None] | None = None,
) -> GridSeed:
    """Topology, feeds, dispatchers, a year of outages ending at ``anchor``, the live picture around
    ``now`` (default: the current time), local authorities and subscriptions."""
    from django.utils import timezone

    from okno.demo.outages import build_outages

    say = say or (lambda message: None)
    started = time.monotonic()
    now = now or timezone.now()
    rng = random.Random(seed * 1_000_033 + 11)
    out = GridSeed()
    grids = build_topology(rng, out, anchor)
    out.timings["topology"] = time.monotonic() - started
    say(
        f"grid: {out.power_centres} power centres, {out.feeders} feeders, {out.substations} substations, "
        f"{out.feeds} service points fed ({out.timings['topology']:.1f} s)"
    )
    out.logins = _dispatchers(rng, grids)
    t = time.monotonic()
    build_outages(rng, grids, anchor=anchor, now=now, actor=actor, out=out)
    out.timings["outages"] = time.monotonic() - t
    say(
        f"outages: {out.history} in the year before {anchor:%Y-%m-%d} ({out.momentary} momentary, "
        f"{out.planned} planned), storm days {', '.join(sorted({f'{d:%Y-%m-%d}' for _, d in out.storm_days}))}; "
        f"now: {len(out.active)} active, {len(out.scheduled)} scheduled ({out.timings['outages']:.1f} s)"
    )
    out.landmark = mark_landmark(out.active[0]) if out.active else ""
    out.authorities = build_authorities(grids)
    t = time.monotonic()
    out.subscriptions, out.subscriptions_note = build_subscriptions(rng, now)
    out.timings["subscriptions"] = time.monotonic() - t
    say(f"local authorities: {out.authorities}; subscriptions: {out.subscriptions} {out.subscriptions_note}")
    reset_sequences(OUTAGE_MODELS)
    out.seconds = time.monotonic() - started
    return out


# --- topology ----------------------------------------------------------------------------------


def _house_key(street: str, house: str) -> tuple[str, int, str]:
    digits = "".join(ch for ch in house if ch.isdigit())
    return street, int(digits) if digits else 10**6, house


def _centre(branch_code: str, settlement: str) -> tuple[float, float]:
    """A stable point for a settlement: from its name, inside its branch's box (10 % margin)."""
    south, north, west, east = words.GRID_BOXES.get(branch_code, words.DEFAULT_GRID_BOX)
    h = zlib.crc32(f"{branch_code}/{settlement}".encode())
    fy, fx = (h & 0xFFFF) / 0xFFFF, (h >> 16) / 0xFFFF
    return (
        south + (north - south) * (0.1 + 0.8 * fy),
        west + (east - west) * (0.1 + 0.8 * fx),
    )


def _coord(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def _span(houses: list[House]) -> str:
    first, last = houses[0], houses[-1]
    if first[0] == last[0]:
        return f"{first[0]}, {first[1]}–{last[1]}" if first[1] != last[1] else f"{first[0]}, {first[1]}"
    return f"{first[0]}, {first[1]} – {last[0]}, {last[1]}"


def _settlements(branches: list[Branch]) -> dict[int, list[tuple[GridDistrict, str]]]:
    """Per branch, its settlements in the order of the districts' lists."""
    out: dict[int, list[tuple[GridDistrict, str]]] = {b.pk: [] for b in branches}
    for district in GridDistrict.objects.filter(branch__in=branches).order_by("branch_id", "code", "pk"):
        for name in (s.strip() for s in district.settlements.splitlines()):
            if name and all(name != known for _, known in out[district.branch_id]):
                out[district.branch_id].append((district, name))
    return out


def build_topology(rng: random.Random, out: GridSeed, anchor: dt.datetime) -> list[BranchGrid]:
    """Write the nodes and the feeds; return the grid per branch for the outage generator."""
    branches = list(Branch.objects.order_by("pk"))
    settlements = _settlements(branches)
    # Service points per house: the only per-service-point read, one GROUP BY.
    houses: dict[tuple[int, str], list[House]] = defaultdict(list)
    rows = sorted(_houses())
    for branch_id, settlement, street, house, n, ids in rows:
        houses[(branch_id, settlement)].append((street, house, n, ids))
        if all(settlement != known for _, known in settlements.get(branch_id, [])):
            district = next((d for d, _ in settlements.get(branch_id, [])), None)
            settlements.setdefault(branch_id, []).append((district, settlement))  # type: ignore[arg-type]
    next_node = next_id(GridNode)
    nodes: list[GridNode] = []
    fed: list[tuple[list[int], int]] = []  # (service point ids of a house, its substation)
    grids: list[BranchGrid] = []
    tp_serial: dict[int, int] = defaultdict(int)
    reconstruction_left = 2
    for branch in branches:
        grid = BranchGrid(branch)
        grids.append(grid)
        code = branch.code
        for pc_no, (district, settlement) in enumerate(settlements.get(branch.pk, []), start=1):
            hs = sorted(houses.get((branch.pk, settlement), []), key=lambda h: _house_key(h[0], h[1]))
            total = sum(h[2] for h in hs)
            town = settlement.startswith("г.")
            lat0, lon0 = _centre(code, settlement)
            base = settlement.split(" ", 1)[-1] if " " in settlement else settlement
            pc_kv = 110 if town else 35
            f_kv = 6 if (not town and rng.random() < 0.25) else 10
            pc = PowerCentre(next_node, pc_kv, settlement)
            next_node += 1
            installed = Decimal(str(rng.choice([25, 40, 63] if town else [6.3, 10, 16]))) * 2
            load_share = rng.uniform(0.35, 0.8)
            closed = rng.random() < 0.18
            if closed:
                load_share = rng.uniform(0.82, 0.95)
            load = (installed * Decimal(f"{load_share:.3f}")).quantize(Decimal("0.001"))
            reserved = (installed * Decimal(f"{rng.uniform(0.03, 0.15):.3f}")).quantize(Decimal("0.001"))
            if closed:
                reserved = max(reserved, installed - load)
            pc_node = GridNode(
                pk=pc.id,
                code=f"{code}-PS{pc_no:02d}",
                name=f"ПС {pc_kv}/{f_kv} кВ № {pc_no} «{base}»",
                kind=NodeKind.POWER_CENTRE,
                branch=branch,
                grid_district=district,
                voltage_kv=Decimal(pc_kv),
                settlement=settlement,
                location=f"{settlement}, промзона",
                latitude=_coord(lat0 + rng.uniform(-0.02, 0.02)),
                longitude=_coord(lon0 + rng.uniform(-0.03, 0.03)),
                path=f"/{pc.id}/",
                depth=0,
                installed_mva=installed,
                load_mva=load,
                reserved_mva=reserved,
                closed_for_connection=closed,
                closed_reason=(
                    "Нет свободной мощности: загрузка с учётом резерва по договорам выше допустимой (N-1)"
                    if closed
                    else ""
                ),
            )
            if closed:
                out.closed_power_centres += 1
            if reconstruction_left and town and (closed or rng.random() < 0.3):
                reconstruction_left -= 1
                year = anchor.year
                pc_node.reconstruction_from = dt.date(year, 4, 1)
                pc_node.reconstruction_until = dt.date(year + 1, 10, 31)
                pc_node.reconstruction_note = (
                    f"Замена трансформаторов 2×{installed / 2} МВА на 2×{installed} МВА "
                    "по инвестиционной программе"
                )
            nodes.append(pc_node)
            grid.power_centres.append(pc)
            # Houses → substations (contiguous along the streets, about equal service points each).
            n_subs = max(min(MIN_SUBSTATIONS, len(hs)), math.ceil(total / SP_PER_SUBSTATION), 1)
            chunks: list[list[House]] = [[] for _ in range(n_subs)]
            before = 0
            for h in hs:
                chunks[min(n_subs - 1, before * n_subs // max(total, 1))].append(h)
                before += h[2]
            chunks = [c for c in chunks if c] or [[]]
            n_feeders = max(min(2, len(chunks)), math.ceil(len(chunks) / SUBSTATIONS_PER_FEEDER))
            spread = 0.01 + 0.004 * math.sqrt(len(chunks))
            for k in range(n_feeders):
                feeder = Feeder(next_node, pc.id, f_kv, settlement, [])
                next_node += 1
                cable = town and rng.random() < 0.6
                nodes.append(
                    GridNode(
                        pk=feeder.id,
                        code=f"{code}-PS{pc_no:02d}-F{k + 1:02d}",
                        name=f"{'КЛ' if cable else 'ВЛ'} {f_kv} кВ Ф-{k + 1} ПС № {pc_no}",
                        kind=NodeKind.FEEDER,
                        parent_id=pc.id,
                        path=f"/{pc.id}/{feeder.id}/",
                        depth=1,
                        branch=branch,
                        grid_district=district,
                        voltage_kv=Decimal(f_kv),
                        settlement=settlement,
                        location=f"{settlement}: от ПС № {pc_no}",
                        latitude=_coord(lat0 + rng.uniform(-spread, spread)),
                        longitude=_coord(lon0 + rng.uniform(-spread, spread) * 1.8),
                    )
                )
                pc.feeders.append(feeder)
                lo = k * len(chunks) // n_feeders
                hi = (k + 1) * len(chunks) // n_feeders
                for chunk in chunks[lo:hi]:
                    tp_serial[branch.pk] += 1
                    tp_no = tp_serial[branch.pk]
                    span = _span(chunk) if chunk else ""
                    sub = Substation(next_node, sum(h[2] for h in chunk), span)
                    next_node += 1
                    nodes.append(
                        GridNode(
                            pk=sub.id,
                            code=f"{code}-TP{tp_no:05d}",
                            name=f"ТП-{tp_no} {f_kv}/0,4 кВ",
                            kind=NodeKind.SUBSTATION,
                            parent_id=feeder.id,
                            path=f"/{pc.id}/{feeder.id}/{sub.id}/",
                            depth=2,
                            branch=branch,
                            grid_district=district,
                            voltage_kv=Decimal(f_kv),
                            settlement=settlement,
                            location=f"{settlement}, {span}" if span else settlement,
                            latitude=_coord(lat0 + rng.uniform(-spread, spread)),
                            longitude=_coord(lon0 + rng.uniform(-spread, spread) * 1.8),
                        )
                    )
                    feeder.substations.append(sub)
                    fed.extend((h[3], sub.id) for h in chunk)
    # The materialised paths are written with the nodes: the tree is built here, so they are known
    # (topology.rebuild_paths() gives the same result, but its bulk UPDATE costs seconds per thousand nodes).
    GridNode.objects.bulk_create(nodes, batch_size=2000)
    out.feeds = _write_feeds(fed)
    out.power_centres = sum(len(g.power_centres) for g in grids)
    out.feeders = sum(len(g.feeders) for g in grids)
    out.substations = sum(len(g.substations) for g in grids)
    return grids


def _houses() -> list[tuple[int, str, str, str, int, list[int]]]:
    """Service points per house (branch, settlement, street, house, count, service point ids): the
    only per-service-point read, one GROUP BY (bytewise on PostgreSQL: equality is the same, and a
    million rows group several times faster than under a linguistic collation)."""
    qn = connection.ops.quote_name
    sp_table, address_table = qn(ServicePoint._meta.db_table), qn(Address._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(
                'SELECT sp.branch_id, a.settlement COLLATE "C", a.street COLLATE "C", a.house COLLATE "C", '  # noqa: S608
                f"COUNT(*), array_agg(sp.id) FROM {sp_table} sp JOIN {address_table} a ON a.id = sp.address_id "
                'GROUP BY sp.branch_id, a.settlement COLLATE "C", a.street COLLATE "C", a.house COLLATE "C"'
            )
            return cursor.fetchall()
        cursor.execute(
            "SELECT sp.branch_id, a.settlement, a.street, a.house, COUNT(*), group_concat(sp.id) "  # noqa: S608
            f"FROM {sp_table} sp JOIN {address_table} a ON a.id = sp.address_id "
            "GROUP BY sp.branch_id, a.settlement, a.street, a.house"
        )
        return [(*row[:5], [int(x) for x in row[5].split(",")]) for row in cursor.fetchall()]


def _write_feeds(fed: list[tuple[list[int], int]]) -> int:
    """One Feed per service point: COPY (PostgreSQL) with the secondary index rebuilt afterwards."""
    writer = TableWriter(Feed, ["service_point_id", "node_id"])
    with bulk_load([Feed]):
        for ids, node_id in fed:
            for sp_id in ids:
                writer.add((sp_id, node_id))
            if len(writer.rows) >= 100_000:
                writer.flush()
        writer.flush()
    return writer.written


# --- people -------------------------------------------------------------------------------------


def _person(rng: random.Random) -> tuple[str, str, str]:
    last = rng.choice(words.LAST_NAMES)
    pat = rng.choice(words.PATRONYMICS)
    if rng.random() < 0.6:
        return last, rng.choice(words.MALE_FIRST), pat[0]
    return words.female_last_name(last), rng.choice(words.FEMALE_FIRST), pat[1]


def _dispatchers(rng: random.Random, grids: list[BranchGrid]) -> list[tuple[str, Any, str]]:
    """A dispatcher per branch (kept if the organisation builder already made one)."""
    password = ""
    logins: list[tuple[str, Any, str]] = []
    for i, grid in enumerate(grids):
        branch = grid.branch
        username = "dispatcher" if i == 0 else f"dispatcher_{branch.code}"
        existing = (
            User.objects.filter(role=Role.DISPATCHER, branches=branch).order_by("pk").first()
            or User.objects.filter(username=username).first()
        )
        if existing is None:
            password = password or make_password(DEMO_PASSWORD)
            last, first, pat = _person(rng)
            existing = User.objects.create(
                username=username,
                password=password,
                role=Role.DISPATCHER,
                last_name=last,
                first_name=first,
                patronymic=pat,
                position="Диспетчер оперативно-диспетчерской службы",
                email=f"{username}@szsk.example",
                all_branches=False,
            )
            existing.branches.add(branch)
            if i == 0:
                logins.append((username, Role.DISPATCHER, branch.name))
        grid.dispatcher_id = existing.pk
    return logins


def _translit(text: str) -> str:
    out = text.lower().translate(words.TRANSLIT)
    return "".join(ch if ch.isalnum() else "-" for ch in out).strip("-")


def build_authorities(grids: list[BranchGrid]) -> int:
    """A head of administration per district and per settlement, with work contacts at .example."""
    rng = random.Random(len(grids) * 7 + 1)  # names only; independent of the outage draws
    rows: list[LocalAuthority] = []
    seen_districts: set[tuple[int, str]] = set()
    for grid in grids:
        branch = grid.branch
        for district, settlement in _settlements([branch])[branch.pk]:
            area = district.name.removesuffix(" РЭС").strip()
            if (branch.pk, district.name) not in seen_districts:
                seen_districts.add((branch.pk, district.name))
                last, first, pat = _person(rng)
                slug = _translit(area)
                rows.append(
                    LocalAuthority(
                        branch=branch,
                        name=f"Администрация муниципального района «{area}»",
                        head_name=f"{last} {first} {pat}",
                        district=district.name,
                        settlement="",
                        email=f"glava@{slug}-rayon.example",
                        phone=f"+7 800 {rng.randrange(100, 999)}-{rng.randrange(10, 99)}-{rng.randrange(10, 99)}",
                    )
                )
            kind, _, name = settlement.partition(" ")
            town = kind in ("г.", "пгт")
            last, first, pat = _person(rng)
            slug = _translit(name or settlement)
            rows.append(
                LocalAuthority(
                    branch=branch,
                    name=(
                        f"Администрация города {name}"
                        if kind == "г."
                        else f"Администрация городского поселения {settlement}"
                        if town
                        else f"Администрация сельского поселения {settlement}"
                    ),
                    head_name=f"{last} {first} {pat}",
                    district=district.name,
                    settlement=settlement,
                    email=f"admin@{slug}.example",
                    phone=f"+7 800 {rng.randrange(100, 999)}-{rng.randrange(10, 99)}-{rng.randrange(10, 99)}",
                )
            )
    LocalAuthority.objects.bulk_create(rows)
    return len(rows)


def build_subscriptions(rng: random.Random, now: dt.datetime) -> tuple[int, str]:
    """ "Есть свет!" subscriptions for about 30 % of the customers with an e-mail: owned by the customer,
    by their first account, e-mail channel, confirmed; a ``service_notices`` consent for e-mail is
    added where the customer has none (for e-mail or any channel). Returns the count and a note when
    skipped (the ``notify`` app's tables are not there).

    The link tokens are random secrets (not drawn from the seed): everything else is deterministic."""
    try:
        from okno.notify.models import Subscription
    except ImportError:
        return 0, "(skipped: okno.notify.models not available)"
    if Subscription._meta.db_table not in connection.introspection.table_names():
        return 0, "(skipped: the notify tables are not migrated)"
    from okno.customers.choices import ConsentPurpose, ContactKind
    from okno.customers.models import Account, Consent, ContactPoint

    emails = ContactPoint.objects.filter(kind=ContactKind.EMAIL).order_by("customer_id", "pk")
    first_email: dict[int, str] = {}
    for customer_id, value in emails.values_list("customer_id", "value"):
        first_email.setdefault(customer_id, value)
    if not first_email:
        return 0, ""
    chosen = [c for c in sorted(first_email) if rng.random() < 0.3]
    accounts: dict[int, tuple[int, int]] = {}
    wanted = set(chosen)
    rows = (
        Account.objects.filter(closed_on__isnull=True, customer_id__in=emails.values("customer_id"))
        .order_by("pk")
        .values_list("customer_id", "pk", "service_point__branch_id")
    )
    for customer_id, account_id, branch_id in rows.iterator(chunk_size=20_000):
        if customer_id in wanted:
            accounts.setdefault(customer_id, (account_id, branch_id))
    consented = set(
        Consent.objects.filter(
            purpose=ConsentPurpose.SERVICE_NOTICES,
            channel__in=[ContactKind.EMAIL, "any"],
            withdrawn_at__isnull=True,
        ).values_list("customer_id", flat=True)
    )
    w_sub = TableWriter(
        Subscription,
        [
            "token",
            "customer_id",
            "account_id",
            "branch_id",
            "language",
            "preferred_channel",
            "email",
            "source",
            "active",
            "confirmed_at",
            "confirm_code",
            "created_at",
        ],
    )
    w_consent = TableWriter(
        Consent, ["customer_id", "channel", "purpose", "given_at", "withdrawn_at", "source"]
    )
    count = 0
    for customer_id in chosen:
        if customer_id not in accounts:
            continue
        account_id, branch_id = accounts[customer_id]
        created = now - dt.timedelta(days=rng.randrange(1, 700), seconds=rng.randrange(86_400))
        source = "cabinet" if rng.random() < 0.7 else "operator"
        language = "en" if rng.random() < 0.04 else "ru"
        w_sub.add(
            (
                secrets.token_urlsafe(32),
                customer_id,
                account_id,
                branch_id,
                language,
                "email",
                first_email[customer_id],
                source,
                True,
                created,
                f"{rng.randrange(10**6):06d}",
                created,
            )
        )
        if customer_id not in consented:
            w_consent.add(
                (
                    customer_id,
                    ContactKind.EMAIL,
                    ConsentPurpose.SERVICE_NOTICES,
                    created,
                    None,
                    "подписка «Есть свет!»",
                )
            )
        count += 1
        if count % 50_000 == 0:
            w_sub.flush()
            w_consent.flush()
    w_sub.flush()
    w_consent.flush()
    reset_sequences([Subscription, Consent])
    return count, ""
