"""``okno seed`` builds the grid: topology feeding every service point, a year of outages, the live ones,
local authorities and subscriptions."""

from __future__ import annotations

import datetime as dt
import math
import re
import statistics
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from okno.customers.models import Consent, ContactPoint, ServicePoint
from okno.demo import words
from okno.demo.generator import seed
from okno.org.choices import Role
from okno.org.models import Branch, User
from okno.outages.choices import PARENT_KINDS, NodeKind, OutageKind, OutageStatus
from okno.outages.models import (
    EtrChange,
    Feed,
    GridNode,
    LocalAuthority,
    Outage,
    OutageCounter,
    OutageNode,
    OutageSettings,
)
from okno.outages.topology import chain_of_service_point, service_points_under

ANCHOR = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


@pytest.fixture
def demo(db):
    return seed(accounts=500, appeals=30, seed=5, anchor=ANCHOR)


def _sustained_daily_saidi(branch: Branch) -> dict[dt.date, float]:
    """Customer-minutes of sustained (≥ 5 min) interruption steps per local day / customers served."""
    served = Feed.objects.filter(node__branch=branch).count()
    minutes: dict[dt.date, float] = defaultdict(float)
    steps = OutageNode.objects.filter(
        outage__branch=branch, off_at__isnull=False, restored_at__isnull=False
    ).values_list("off_at", "restored_at", "customers")
    for off, back, customers in steps:
        duration = (back - off).total_seconds() / 60
        if duration >= 5:
            minutes[off.astimezone(branch.tz).date()] += duration * customers
    return {day: value / served for day, value in minutes.items() if value}


def _t_med(daily: dict[dt.date, float]) -> float:
    """IEEE 1366 2.5-beta: exp(α + 2.5 β) over the logs of the non-zero days (sample deviation)."""
    logs = [math.log(v) for v in daily.values() if v > 0]
    return math.exp(statistics.mean(logs) + 2.5 * statistics.stdev(logs))


def test_every_service_point_is_fed_by_a_substation_and_a_house_by_exactly_one(demo):
    assert demo.grid is not None
    assert Feed.objects.count() == ServicePoint.objects.count() == demo.grid.feeds == 500
    assert not Feed.objects.exclude(node__kind=NodeKind.SUBSTATION).exists()
    per_house = (
        Feed.objects.values(
            "service_point__branch_id",
            "service_point__address__settlement",
            "service_point__address__street",
            "service_point__address__house",
        )
        .annotate(nodes=Count("node_id", distinct=True))
        .filter(nodes__gt=1)
    )
    assert not per_house.exists()
    # The chain upstream of a point runs power centre → feeder → substation, all in the point's branch.
    sp = ServicePoint.objects.order_by("pk").first()
    chain = chain_of_service_point(sp)
    assert [n.kind for n in chain] == [NodeKind.POWER_CENTRE, NodeKind.FEEDER, NodeKind.SUBSTATION]
    assert {n.branch_id for n in chain} == {sp.branch_id}
    assert chain[-1].settlement == sp.address.settlement


def test_paths_depths_kinds_and_coordinates_are_consistent(demo):
    nodes = {n.pk: n for n in GridNode.objects.select_related("branch")}
    assert demo.grid.power_centres == sum(1 for n in nodes.values() if n.kind == NodeKind.POWER_CENTRE)
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id else None
        expected = f"{parent.path if parent else '/'}{node.pk}/"
        assert node.path == expected
        assert node.depth == expected.count("/") - 2
        assert (parent.kind if parent else None) in (PARENT_KINDS[node.kind] or (None,))
        if parent:
            assert parent.branch_id == node.branch_id
            assert node.voltage_kv <= parent.voltage_kv
        south, north, west, east = words.GRID_BOXES[node.branch.code]
        assert south <= float(node.latitude) <= north
        assert west <= float(node.longitude) <= east
    # Every settlement of every district has its power centre, and each has at least one feeder.
    pcs = [n for n in nodes.values() if n.kind == NodeKind.POWER_CENTRE]
    assert all(any(c.parent_id == pc.pk for c in nodes.values()) for pc in pcs)
    assert {pc.voltage_kv for pc in pcs} == {110, 35}
    assert all(pc.installed_mva and pc.load_mva is not None and pc.free_mva is not None for pc in pcs)
    closed = [pc for pc in pcs if pc.closed_for_connection]
    assert closed and all(pc.closed_reason for pc in closed)
    assert 1 <= sum(1 for pc in pcs if pc.reconstruction_from) <= 2


def test_outage_customers_match_the_topology(demo):
    for step in OutageNode.objects.select_related("node").order_by("pk")[:60]:
        assert step.customers == service_points_under([step.node]).count()
    for outage in Outage.objects.annotate(n=Count("nodes")).filter(n__gt=1)[:20]:
        steps = list(outage.nodes.all())
        assert outage.customers_affected == sum(s.customers for s in steps)
        # Restored in steps: disjoint substations under the outage's feeder, the last one at the end.
        assert {s.node.parent_id for s in steps} == {outage.node_id}
        assert max(s.restored_at for s in steps) == outage.restored_at


def test_a_year_of_history_with_momentary_planned_and_storm_days(demo):
    history = Outage.objects.filter(restored_at__isnull=False)
    assert history.count() == Outage.objects.filter(status=OutageStatus.RESTORED).count()
    assert not history.filter(restored_at__gte=ANCHOR).exists()
    months = {(o.year, o.month) for o in history.values_list("started_at", flat=True)}
    assert len(months) >= 12  # the twelve months before the anchor (and the one it starts in)
    first = min(history.values_list("started_at", flat=True))
    assert first < ANCHOR - dt.timedelta(days=330)
    momentary = history.filter(is_momentary=True)
    assert momentary.exists()
    assert all(o.restored_at - o.started_at < dt.timedelta(minutes=5) for o in momentary)
    assert not EtrChange.objects.filter(outage__is_momentary=True).exists()
    sustained = history.filter(is_momentary=False)
    assert all(o.restored_at - o.started_at >= dt.timedelta(minutes=5) for o in sustained)
    planned = history.filter(kind=OutageKind.PLANNED)
    assert planned.count() > 50
    assert all(o.published_at < o.planned_start and o.started_at >= o.planned_start for o in planned)
    assert Outage.objects.filter(kind=OutageKind.PLANNED, status=OutageStatus.CANCELLED).exists()
    causes = Counter(history.filter(kind=OutageKind.UNPLANNED).values_list("cause", flat=True))
    assert len(causes) >= 6 and "unknown" not in causes
    # ETR histories: the revision starts from the previous estimate.
    revised = EtrChange.objects.filter(previous__isnull=False).select_related("outage")[:30]
    assert revised
    for change in revised:
        earlier = change.outage.etr_changes.filter(changed_at__lt=change.changed_at).last()
        assert earlier is not None and earlier.etr == change.previous
    # Numbers: "О-<year>-<5 digits>", unique, in order of registration within a year.
    numbers = list(Outage.objects.order_by("detected_at", "node_id").values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)
    assert all(re.fullmatch(r"О-\d{4}-\d{5}", n) for n in numbers)  # noqa: RUF001 - Cyrillic О
    # The live actions continue the yearly counters after the bulk-loaded numbers.
    last: dict[int, int] = {}
    for n in numbers:
        year, serial = int(n[2:6]), int(n[7:])
        last[year] = max(last.get(year, 0), serial)
    assert dict(OutageCounter.objects.values_list("year", "last")) == last
    # The storm days are Major Event Days of their branches by the 2.5-beta method.
    assert 2 <= len({day for _, day in demo.grid.storm_days}) <= 3
    for code, day in demo.grid.storm_days:
        branch = Branch.objects.get(code=code)
        daily = _sustained_daily_saidi(branch)
        assert daily[day] > _t_med(daily), (code, day)


def test_live_picture_two_off_now_and_planned_ones_published_ahead(demo):
    now = timezone.now()
    threshold = OutageSettings.current().mass_threshold
    active = list(Outage.objects.filter(status=OutageStatus.ACTIVE))
    assert 1 <= len(active) <= 2
    for outage in active:
        assert outage.kind == OutageKind.UNPLANNED
        assert outage.started_at < now < outage.etr
        assert outage.restored_at is None and outage.mass_mode_at is None
        assert 0 < outage.customers_affected < threshold
        assert outage.nodes.filter(restored_at__isnull=True, off_at__isnull=False).count() == 1
        assert outage.etr_changes.count() >= 1
    assert Outage.objects.filter(status=OutageStatus.ACTIVE, node__kind=NodeKind.FEEDER).exists()
    scheduled = list(Outage.objects.filter(status=OutageStatus.SCHEDULED))
    assert 3 <= len(scheduled) <= 5
    for outage in scheduled:
        assert outage.kind == OutageKind.PLANNED
        assert outage.published_at <= now < outage.planned_start < outage.planned_end
        assert outage.planned_start < now + dt.timedelta(days=31)
        local = outage.planned_start.astimezone(outage.branch.tz)
        assert local.weekday() < 5 and local.hour == 9
        assert outage.nodes.get().off_at is None
    assert not Outage.objects.filter(mass_mode_at__isnull=False, restored_at__isnull=True).exists()
    assert sorted(demo.grid.active + demo.grid.scheduled) == sorted(o.number for o in active + scheduled)
    # A dispatcher login in the demo branch registered them.
    dispatcher = User.objects.get(username="dispatcher")
    assert dispatcher.role == Role.DISPATCHER
    assert ("dispatcher", Role.DISPATCHER, dispatcher.branches.get().name) in demo.logins
    assert Outage.objects.filter(created_by=dispatcher).exists()


def test_local_authorities_per_district_and_settlement(demo):
    for branch in Branch.objects.prefetch_related("districts"):
        for district in branch.districts.all():
            heads = LocalAuthority.objects.filter(branch=branch, district=district.name)
            assert heads.filter(settlement="").count() == 1
            settlements = {s for s in district.settlements.splitlines() if s}
            assert set(heads.exclude(settlement="").values_list("settlement", flat=True)) == settlements
    assert all(e.endswith(".example") for e in LocalAuthority.objects.values_list("email", flat=True))
    assert all(LocalAuthority.objects.values_list("head_name", flat=True))


def test_subscriptions_for_a_third_of_customers_with_an_email(demo):
    notify = pytest.importorskip("okno.notify.models")
    if demo.grid.subscriptions_note:
        pytest.skip(demo.grid.subscriptions_note)
    subs = list(notify.Subscription.objects.select_related("account"))
    with_email = ContactPoint.objects.filter(kind="email").values("customer_id").distinct().count()
    assert len(subs) == demo.grid.subscriptions
    assert 0.15 * with_email <= len(subs) <= 0.45 * with_email
    for sub in subs:
        assert sub.is_usable and sub.account.customer_id == sub.customer_id
        assert ContactPoint.objects.filter(
            customer_id=sub.customer_id, kind="email", value=sub.email
        ).exists()
        assert Consent.objects.filter(
            customer_id=sub.customer_id,
            purpose="service_notices",
            channel__in=["email", "any"],
            withdrawn_at__isnull=True,
        ).exists()
    assert len({s.token for s in subs}) == len(subs)


def _grid_fingerprint() -> dict:
    return {
        "nodes": list(
            GridNode.objects.order_by("code").values_list("code", "name", "latitude", "installed_mva")
        ),
        "feeds": sorted(Feed.objects.values_list("service_point__address__house", "node__code")),
        "history": list(
            Outage.objects.filter(status=OutageStatus.RESTORED)
            .order_by("number")
            .values_list("number", "node__code", "cause", "started_at", "restored_at", "customers_affected")
        ),
    }


@pytest.mark.django_db
def test_same_seed_same_grid_and_no_grid_flag():
    seed(accounts=80, appeals=5, seed=9, anchor=ANCHOR)
    first = _grid_fingerprint()
    seed(accounts=80, appeals=5, seed=9, anchor=ANCHOR, reset=True)
    assert _grid_fingerprint() == first
    call_command("seed", "--accounts", "40", "--appeals", "5", "--no-billing", "--no-grid", "--reset")
    assert not GridNode.objects.exists() and not Outage.objects.exists() and not Feed.objects.exists()


def test_the_reliability_report_for_the_year_finds_the_storm_days(demo):
    reliability = pytest.importorskip("okno.outages.reliability_data")
    first, last = (ANCHOR - dt.timedelta(days=365)).date(), (ANCHOR - dt.timedelta(days=1)).date()
    for code in sorted({code for code, _ in demo.grid.storm_days}):
        report = reliability.branch_report(Branch.objects.get(code=code), first, last)
        assert report.all_days.as_dict()["saifi"] > 0
        med_days = {day for day, _ in report.med_days}
        assert {day for c, day in demo.grid.storm_days if c == code} <= med_days
        assert report.excluding_med.as_dict()["saidi_min"] < report.all_days.as_dict()["saidi_min"]


def test_the_live_outages_answer_lookups_and_a_dispatcher_continues_the_numbering(demo):
    lookup = pytest.importorskip("okno.outages.lookup")
    actions = pytest.importorskip("okno.outages.actions")
    from okno.customers.models import Account

    lookup.invalidate_outages()
    active = Outage.objects.filter(status=OutageStatus.ACTIVE, node__kind=NodeKind.FEEDER).get()
    sp_id = service_points_under([active.node]).first()
    account = Account.objects.filter(service_point_id=sp_id).values_list("number", flat=True).first()
    answer = lookup.power_at(account=account)
    assert answer.power_on is False
    assert active.number in [o.number for o in answer.outages]
    # A dispatcher registers an outage on another feeder of the demo branch: the customers come from
    # the demo's feeds and the number follows the bulk-loaded ones.
    dispatcher = User.objects.get(username="dispatcher")
    feeder = (
        GridNode.objects.filter(kind=NodeKind.FEEDER, branch=active.branch)
        .exclude(pk=active.node_id)
        .exclude(pk__in=Outage.objects.filter(status=OutageStatus.SCHEDULED).values("node__parent_id"))
        .exclude(pk__in=Outage.objects.filter(status=OutageStatus.SCHEDULED).values("node_id"))
        .order_by("code")
        .first()
    )
    outage = actions.register_unplanned(
        node=feeder, actor=dispatcher, cause="weather", etr=timezone.now() + dt.timedelta(hours=2)
    )
    assert outage.customers_affected == service_points_under([feeder]).count() > 0
    year = int(outage.number[2:6])
    assert int(outage.number[7:]) == OutageCounter.objects.get(year=year).last
    assert Outage.objects.filter(number=outage.number).count() == 1


def test_lenina_15_is_under_the_first_live_outage_and_the_chat_says_so(demo):
    """The demo's script: «есть ли свет на Ленина 15» in the chat is answered from the outage data."""
    from okno.assistant.dialogue import engine
    from okno.customers.models import Address
    from okno.outages import lookup

    landmark = demo.grid.landmark
    settlement = landmark.split(", ")[0]
    assert landmark == f"{settlement}, ул. Ленина, д. 15"
    assert Address.objects.filter(settlement=settlement, street="ул. Ленина", house="15").exists()
    lookup.invalidate_outages()
    lookup.invalidate_directory()
    conversation = engine.start("chat")
    replies = engine.respond(conversation, "есть ли свет на Ленина 15")
    text = " ".join(m.text for m in replies if m.author == "bot")
    assert demo.grid.active[0] in text  # the outage's number
    assert "ул. Ленина, д. 15" in text
