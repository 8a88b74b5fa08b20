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
