"""The consumer–operator–dispatcher loop: reports attach to outages, propose them, and are closed on restoration."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from okno.appeals.actions import register_appeal
from okno.appeals.choices import EventType, Status
from okno.appeals.models import Appeal
from okno.outages import actions, loop
from okno.outages.choices import OutageStatus
from okno.outages.models import Outage, OutageSettings

pytestmark = pytest.mark.django_db(transaction=True)


def report(org, account, channel="contact_center", **extra):
    return register_appeal(
        channel=channel,
        kind="report",
        topic="outage",
        text="Нет света",
        actor=org.cc_operator,
        account=account,
        **extra,
    )


def test_report_under_an_active_outage_is_attached_and_told_the_etr(grid, org, customers):
    etr = timezone.now() + dt.timedelta(hours=3)
    outage = actions.register_unplanned(
        node=grid.f1, actor=org.dispatcher_a, etr=etr, reason="Повреждение кабеля"
    )
    appeal = report(org, customers.acc_ivanov)
    appeal.refresh_from_db()
    assert appeal.incident_id == outage.incident_id
    outage.refresh_from_db()
    assert outage.reports == 1
    comment = appeal.events.filter(type=EventType.COMMENT).get()
    local = timezone.localtime(etr, org.a.tz).strftime("%d.%m.%Y %H:%M")
    assert outage.number in comment.reason
    assert local in comment.reason


def test_report_elsewhere_waits_for_the_dispatcher(grid, org):
    actions.register_unplanned(node=grid.tp11, actor=org.dispatcher_a)
    appeal = report(org, grid.accounts["ТП-21"][0])
    appeal.refresh_from_db()
    assert appeal.incident_id is None
    assert list(loop.waiting_reports([org.a.pk])) == [appeal]


def test_other_topics_are_left_alone(grid, org):
    actions.register_unplanned(node=grid.f1, actor=org.dispatcher_a)
    appeal = register_appeal(
        channel="office",
        kind="info_request",
        topic="billing",
        text="Сколько платить?",
        actor=org.operator_a,
        account=grid.accounts["ТП-11"][0],
    )
    appeal.refresh_from_db()
    assert appeal.incident_id is None


def test_three_reports_under_one_substation_propose_an_outage_there(grid, org):
    accounts = grid.accounts["ТП-21"]
    report(org, accounts[0])
    report(org, accounts[1])
    assert not Outage.objects.exists()
    report(org, accounts[2])
    proposal = Outage.objects.get()
    assert proposal.status == OutageStatus.PROPOSED
    assert proposal.node == grid.tp21
    # A fourth report does not propose it again.
    report(org, accounts[3])
    assert Outage.objects.count() == 1
    # Confirmation switches it on and takes in the waiting reports.
    outage = actions.confirm(proposal, actor=org.dispatcher_a, etr=timezone.now() + dt.timedelta(hours=2))
    assert outage.status == OutageStatus.ACTIVE
    assert Appeal.objects.filter(incident_id=outage.incident_id).count() == 4
    outage.refresh_from_db()
    assert outage.reports == 4


def test_reports_spread_over_a_feeder_propose_the_feeder(grid, org):
    OutageSettings.objects.create(report_threshold=3, report_window_min=30)
    report(org, grid.accounts["ТП-11"][0])
    report(org, grid.accounts["ТП-12"][0])
    report(org, grid.accounts["ТП-11"][1])
    proposal = Outage.objects.get()
    # ТП-11 has two reports and ТП-12 one: the lowest node with three under it is the feeder.
    assert proposal.node == grid.f1


def test_old_reports_do_not_count_towards_a_proposal(grid, org):
    first = report(org, grid.accounts["ТП-21"][0])
    Appeal.objects.filter(pk=first.pk).update(registered_at=timezone.now() - dt.timedelta(hours=2))
    report(org, grid.accounts["ТП-21"][1])
    report(org, grid.accounts["ТП-21"][2])
    assert not Outage.objects.exists()


def test_registering_an_outage_takes_in_waiting_reports_and_cancels_covered_proposals(grid, org):
    for acc in grid.accounts["ТП-21"][:3]:
        report(org, acc)
    proposal = Outage.objects.get(status=OutageStatus.PROPOSED)
    outage = actions.register_unplanned(node=grid.f2, actor=org.dispatcher_a)
    assert Appeal.objects.filter(incident_id=outage.incident_id).count() == 3
    proposal.refresh_from_db()
    assert proposal.status == OutageStatus.CANCELLED


def test_restoration_answers_and_closes_every_attached_report(grid, org, customers):
    outage = actions.register_unplanned(
        node=grid.tp11,
        extra_nodes=[grid.tp12],
        actor=org.dispatcher_a,
        started_at=timezone.now() - dt.timedelta(hours=1),
    )
    by_phone = report(org, grid.accounts["ТП-11"][0])  # contact centre: answered by phone, at once
    by_mail = report(
        org,
        grid.accounts["ТП-12"][0],
        channel="email",
        contact_email="r@example.ru",
    )
    outage = actions.restore_nodes(outage, node_ids=[grid.tp11.pk], actor=org.dispatcher_a)
    by_phone.refresh_from_db()
    by_mail.refresh_from_db()
    assert by_phone.status == Status.CLOSED
    assert "restored" in by_phone.answers.get().text or "восстановлено" in by_phone.answers.get().text
    assert by_mail.status == Status.IN_PROGRESS or by_mail.status in (Status.REGISTERED, Status.ASSIGNED)
    mail.outbox.clear()
    actions.restore(outage, actor=org.dispatcher_a)
    by_mail.refresh_from_db()
    # The e-mail answer went out through the mail job; its delivery closed the report.
    assert by_mail.status == Status.CLOSED
    assert any(by_mail.number in m.subject for m in mail.outbox)


def test_the_last_restoration_answers_every_report_still_open_on_the_outage(grid, org):
    start = timezone.now() - dt.timedelta(hours=2)
    outage = actions.register_unplanned(
        node=grid.tp11, extra_nodes=[grid.tp12], actor=org.dispatcher_a, started_at=start
    )
    early = report(org, grid.accounts["ТП-11"][0])
    first_step = timezone.now() - dt.timedelta(minutes=30)
    outage = actions.restore_nodes(outage, node_ids=[grid.tp11.pk], actor=org.dispatcher_a, at=first_step)
    early.refresh_from_db()
    assert early.status == Status.CLOSED
    # After the first step a neighbour at ТП-11 still has no power; ТП-11 is back, so the report waits
    # until the dispatcher attaches it by hand. A report from ТП-21 (not in this outage) is attached too.
    late = report(org, grid.accounts["ТП-11"][1])
    late.refresh_from_db()
    assert late.incident_id is None
    assert loop.attach(late, outage)
    elsewhere = report(org, grid.accounts["ТП-21"][0])
    assert loop.attach(elsewhere, outage)
    under_last_step = report(org, grid.accounts["ТП-12"][0])
    outage = actions.restore(outage, actor=org.dispatcher_a)
    assert outage.status == OutageStatus.RESTORED
    end = timezone.localtime(outage.restored_at, org.a.tz).strftime("%d.%m.%Y %H:%M")
    for appeal in (late, elsewhere, under_last_step):
        appeal.refresh_from_db()
        assert appeal.status == Status.CLOSED, appeal.number
        answer = appeal.answers.get()
        assert outage.number in answer.text
        # Reported after its node came back: answered with the end of the outage, not the earlier step.
        assert end in answer.text
    assert early.answers.count() == 1


def test_answering_the_restoration_twice_answers_nobody_twice(grid, org):
    outage = actions.register_unplanned(
        node=grid.tp21, actor=org.dispatcher_a, started_at=timezone.now() - dt.timedelta(hours=1)
    )
    reports = [report(org, acc) for acc in grid.accounts["ТП-21"][:2]]
    outage = actions.restore(outage, actor=org.dispatcher_a)
    assert loop.answer_restored(outage.pk, [grid.tp21.pk], f"outage:{outage.pk}:restored:{grid.tp21.pk}") == 0
    assert loop.answer_restored(outage.pk, None) == 0
    for appeal in reports:
        appeal.refresh_from_db()
        assert appeal.status == Status.CLOSED
        assert appeal.answers.count() == 1


def test_a_partial_step_leaves_reports_under_nodes_still_off_open(grid, org):
    outage = actions.register_unplanned(
        node=grid.tp11, extra_nodes=[grid.tp12], actor=org.dispatcher_a, started_at=timezone.now()
    )
    still_off = report(org, grid.accounts["ТП-12"][0])
    actions.restore_nodes(outage, node_ids=[grid.tp11.pk], actor=org.dispatcher_a)
    still_off.refresh_from_db()
    assert still_off.status != Status.CLOSED
    assert not still_off.answers.exists()


def test_place_many_places_like_place_by_account_building_and_only_account(grid, org, customers):
    from okno.customers.models import Address

    by_account = report(org, grid.accounts["ТП-12"][0])
    neighbour = Address.objects.create(
        region="Тестовая область",
        settlement="Берёзовка",
        street="ул. Мира",
        house="6",
        flat="99",
        grid_district=org.district_a,
    )
    by_building = register_appeal(
        channel="web",
        kind="report",
        topic="outage",
        text="Нет света",
        actor=org.cc_operator,
        address=neighbour,
        contact_name="Соседка",
        contact_email="n@example.ru",
    )
    by_customer = register_appeal(
        channel="contact_center",
        kind="report",
        topic="outage",
        text="Нет света",
        actor=org.cc_operator,
        customer=customers.ivanov,
    )
    nowhere = register_appeal(
        channel="contact_center",
        kind="report",
        topic="outage",
        text="Нет света",
        actor=org.cc_operator,
        contact_name="Прохожий",
        contact_phone="+79120009999",
        branch=org.a,
    )
    appeals = list(
        Appeal.objects.filter(pk__in=[a.pk for a in (by_account, by_building, by_customer, nowhere)])
    )
    appeals.sort(key=lambda a: a.pk)
    many = loop.place_many(appeals)
    assert many == [loop.place(a) for a in appeals]
    assert [p.node_id if p else None for p in many] == [grid.tp12.pk, grid.tp21.pk, grid.tp11.pk, None]


def test_clustering_places_the_waiting_reports_in_a_few_queries(grid, org, django_assert_max_num_queries):
    OutageSettings.objects.create(report_threshold=100, report_window_min=30)
    accounts = [acc for accs in grid.accounts.values() for acc in accs]
    for acc in accounts[:-1]:
        report(org, acc)
    last = register_appeal(
        channel="contact_center",
        kind="report",
        topic="outage",
        text="Нет света",
        actor=org.cc_operator,
        customer=accounts[-1].customer,
    )
    placement = loop.place(last)
    assert placement is not None
    assert loop.waiting_reports([org.a.pk]).count() == len(accounts)
    # The settings row, the waiting reports, accounts, customers' accounts, feeds, addresses, buildings.
    with django_assert_max_num_queries(8):
        assert loop.propose_if_clustered(last, placement) is None
