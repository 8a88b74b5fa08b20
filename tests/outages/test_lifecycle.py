"""The outage lifecycle through its actions: unplanned, proposed, planned, ETR, partial restoration."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from okno.appeals.models import Incident
from okno.core.errors import Conflict
from okno.outages import actions
from okno.outages.choices import OutageEventType, OutageStatus
from okno.outages.models import EtrChange, Outage, OutageSettings
from okno.outages.tasks import tick

pytestmark = pytest.mark.django_db


def test_unplanned_outage_on_a_feeder_counts_every_customer_under_it(grid, org):
    etr = timezone.now() + dt.timedelta(hours=3)
    outage = actions.register_unplanned(node=grid.f1, actor=org.dispatcher_a, cause="equipment", etr=etr)
    # ТП-11: houses 1, 2 × 2 flats + Иванов = 5; ТП-12: houses 3, 4 × 2 flats = 4.
    assert outage.customers_affected == 9
    assert outage.status == OutageStatus.ACTIVE
    assert outage.number.startswith(f"О-{timezone.localtime(outage.started_at).year}-")
    assert Incident.objects.get(pk=outage.incident_id).topic == "outage"
    assert list(EtrChange.objects.filter(outage=outage).values_list("etr", flat=True)) == [etr]
    assert outage.events.filter(type=OutageEventType.REGISTERED).exists()


def test_numbers_follow_each_other(grid, org):
    one = actions.register_unplanned(node=grid.tp11, actor=org.dispatcher_a)
    two = actions.register_unplanned(node=grid.tp21, actor=org.dispatcher_a)
    assert int(two.number[-5:]) == int(one.number[-5:]) + 1


def test_a_node_already_off_cannot_go_off_again(grid, org):
    first = actions.register_unplanned(node=grid.f1, actor=org.dispatcher_a)
    with pytest.raises(Conflict, match=first.number):
        actions.register_unplanned(node=grid.tp12, actor=org.dispatcher_a)
    assert Outage.objects.count() == 1


def test_etr_in_the_past_is_refused(grid, org):
    with pytest.raises(ValidationError) as err:
        actions.register_unplanned(
            node=grid.f1, actor=org.dispatcher_a, etr=timezone.now() - dt.timedelta(minutes=1)
        )
    assert "etr" in err.value.message_dict
    assert not Outage.objects.exists()
    outage = actions.register_unplanned(node=grid.f1, actor=org.dispatcher_a)
    with pytest.raises(ValidationError):
        actions.change_etr(outage, etr=timezone.now() - dt.timedelta(hours=1), actor=org.dispatcher_a)


def test_etr_changes_are_kept_in_order(grid, org):
    now = timezone.now()
    outage = actions.register_unplanned(node=grid.f1, actor=org.dispatcher_a, etr=now + dt.timedelta(hours=2))
    actions.change_etr(outage, etr=now + dt.timedelta(hours=4), actor=org.dispatcher_a, reason="cable damage")
    changes = list(EtrChange.objects.filter(outage=outage))
    assert [c.etr for c in changes] == [now + dt.timedelta(hours=2), now + dt.timedelta(hours=4)]
    assert changes[1].previous == now + dt.timedelta(hours=2)
    assert changes[1].reason == "cable damage"
    outage.refresh_from_db()
    assert outage.etr == now + dt.timedelta(hours=4)


def test_partial_restoration_then_full(grid, org):
    start = timezone.now() - dt.timedelta(hours=2)
    outage = actions.register_unplanned(
        node=grid.tp11, extra_nodes=[grid.tp12], actor=org.dispatcher_a, started_at=start
    )
    assert outage.customers_affected == 9
    outage = actions.restore_nodes(outage, node_ids=[grid.tp12.pk], actor=org.dispatcher_a)
    assert outage.status == OutageStatus.PARTIALLY_RESTORED
    assert outage.restored_at is None
    with pytest.raises(ValidationError):
        actions.restore_nodes(outage, node_ids=[grid.tp12.pk], actor=org.dispatcher_a)
    outage = actions.restore(outage, actor=org.dispatcher_a)
    assert outage.status == OutageStatus.RESTORED
    assert outage.restored_at is not None
    assert outage.is_momentary is False
    assert Incident.objects.get(pk=outage.incident_id).closed_at == outage.restored_at
    with pytest.raises(Conflict):
        actions.restore(outage, actor=org.dispatcher_a)


def test_an_interruption_under_five_minutes_is_momentary(grid, org):
    start = timezone.now() - dt.timedelta(minutes=4)
    outage = actions.register_unplanned(node=grid.tp21, actor=org.dispatcher_a, started_at=start)
    outage = actions.restore(outage, actor=org.dispatcher_a)
    assert outage.is_momentary is True
    OutageSettings.objects.create(momentary_min=3)
    start = timezone.now() - dt.timedelta(minutes=4)
    second = actions.register_unplanned(node=grid.tp21, actor=org.dispatcher_a, started_at=start)
    assert actions.restore(second, actor=org.dispatcher_a).is_momentary is False


def test_restoration_before_the_start_is_refused(grid, org):
    outage = actions.register_unplanned(node=grid.tp21, actor=org.dispatcher_a)
    with pytest.raises(ValidationError):
        actions.restore(outage, actor=org.dispatcher_a, at=outage.started_at - dt.timedelta(minutes=1))


def test_planned_outage_is_scheduled_and_overlaps_are_refused_or_merged(grid, org):
    tz = org.a.tz
    day = (timezone.localtime(timezone.now(), tz) + dt.timedelta(days=35)).date()
    start = dt.datetime.combine(day, dt.time(9), tzinfo=tz)
    outage = actions.schedule_planned(
        node=grid.tp12,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=6),
        reason="Замена трансформатора",
        works_order="НР-17",
        actor=org.dispatcher_a,
    )
    assert outage.status == OutageStatus.SCHEDULED
    assert outage.customers_affected == 4
    assert outage.published_at is not None
    assert outage.etr == start + dt.timedelta(hours=6)
    assert outage.events.get(type=OutageEventType.SCHEDULED).payload["short_notice"] is False
    with pytest.raises(Conflict, match=outage.number):
        actions.schedule_planned(
            node=grid.tp12,
            planned_start=start + dt.timedelta(hours=5),
            planned_end=start + dt.timedelta(hours=8),
            reason="Ремонт ввода",
            actor=org.dispatcher_a,
        )
    merged = actions.schedule_planned(
        node=grid.tp12,
        planned_start=start + dt.timedelta(hours=5),
        planned_end=start + dt.timedelta(hours=8),
        reason="Ремонт ввода",
        actor=org.dispatcher_a,
        merge=True,
    )
    assert merged.pk == outage.pk
    assert merged.planned_end == start + dt.timedelta(hours=8)
    assert "Ремонт ввода" in merged.reason
    # Another node at the same time is no overlap.
    other = actions.schedule_planned(
        node=grid.tp21,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=2),
        reason="Обрезка деревьев",
        actor=org.dispatcher_a,
    )
    assert other.pk != outage.pk


def test_planned_outage_validation(grid, org):
    now = timezone.now()
    with pytest.raises(ValidationError) as err:
        actions.schedule_planned(
            node=grid.tp12,
            planned_start=now - dt.timedelta(hours=1),
            planned_end=now - dt.timedelta(hours=2),
            reason="",
            actor=org.dispatcher_a,
        )
    assert set(err.value.message_dict) == {"planned_start", "planned_end", "reason"}
    with pytest.raises(ValidationError) as err:
        actions.schedule_planned(
            node=grid.tp12,
            planned_start=now + dt.timedelta(days=2),
            planned_end=now + dt.timedelta(days=10),
            reason="Долгие работы",
            actor=org.dispatcher_a,
        )
    assert "planned_end" in err.value.message_dict


def test_short_notice_is_recorded(grid, org):
    now = timezone.now()
    outage = actions.schedule_planned(
        node=grid.tp12,
        planned_start=now + dt.timedelta(days=2),
        planned_end=now + dt.timedelta(days=2, hours=3),
        reason="Срочная замена опоры",
        actor=org.dispatcher_a,
    )
    assert outage.events.get(type=OutageEventType.SCHEDULED).payload["short_notice"] is True


def test_tick_starts_planned_works_at_their_time(grid, org):
    now = timezone.now()
    outage = actions.schedule_planned(
        node=grid.tp12,
        planned_start=now + dt.timedelta(hours=1),
        planned_end=now + dt.timedelta(hours=4),
        reason="Ремонт",
        actor=org.dispatcher_a,
    )
    assert tick(now=now.isoformat())["started"] == 0
    assert tick(now=(now + dt.timedelta(hours=1, minutes=1)).isoformat())["started"] == 1
    outage.refresh_from_db()
    assert outage.status == OutageStatus.ACTIVE
    assert outage.started_at == outage.planned_start
    assert outage.nodes.get().off_at == outage.planned_start


def test_cancel_needs_a_reason_and_only_before_the_start(grid, org):
    now = timezone.now()
    outage = actions.schedule_planned(
        node=grid.tp12,
        planned_start=now + dt.timedelta(days=3),
        planned_end=now + dt.timedelta(days=3, hours=2),
        reason="Ремонт",
        actor=org.dispatcher_a,
    )
    with pytest.raises(ValidationError):
        actions.cancel(outage, actor=org.dispatcher_a, reason=" ")
    outage = actions.cancel(outage, actor=org.dispatcher_a, reason="Работы перенесены")
    assert outage.status == OutageStatus.CANCELLED
    unplanned = actions.register_unplanned(node=grid.tp21, actor=org.dispatcher_a)
    with pytest.raises(Conflict):
        actions.cancel(unplanned, actor=org.dispatcher_a, reason="ошибка")


def test_stale_version_is_a_conflict(grid, org):
    outage = actions.register_unplanned(node=grid.tp21, actor=org.dispatcher_a)
    actions.set_crews(outage, crews=2, actor=org.dispatcher_a)
    with pytest.raises(Conflict):
        actions.change_etr(
            outage,
            etr=timezone.now() + dt.timedelta(hours=1),
            actor=org.dispatcher_a,
            expected_version=outage.version,
        )


def test_customers_already_off_are_not_counted_again(grid, org):
    small = actions.register_unplanned(node=grid.tp11, actor=org.dispatcher_a)
    assert small.nodes.get().customers == 5
    # The feeder trips while ТП-11 is still out: only ТП-12's four customers lose power now.
    big = actions.register_unplanned(node=grid.f1, actor=org.dispatcher_a)
    assert big.nodes.get().customers == 4
    assert big.customers_affected == 9
    one = actions.register_unplanned(node=grid.tp21, actor=org.dispatcher_a)
    actions.add_node(one, node=grid.f2, actor=org.dispatcher_a)
    assert sorted(one.nodes.values_list("customers", flat=True)) == [0, 4]


def test_a_restoration_step_over_many_nodes_keeps_its_event_key_short():
    label = actions._step_label(list(range(100_000, 100_060)))
    assert label.startswith("h") and len(label) == 17
    assert actions._step_label([12, 34]) == "12-34"
