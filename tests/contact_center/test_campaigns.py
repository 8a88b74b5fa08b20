"""Outbound campaigns: who is called (planned outage, debt, survey, callbacks), the calling window in the
customer's zone, the do-not-call list and consent, retries and the final failure, results, the customer's
history, the survey answer, the dialler job and the staff pages."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from okno.appeals import actions as appeal_actions
from okno.contact_center import campaigns, dialler, engine
from okno.contact_center.dialler import DialResult, ScriptedDialer
from okno.contact_center.flows import ensure_defaults
from okno.contact_center.models import Agent, Call, Campaign, CampaignTarget, DoNotCall, Queue, Skill
from okno.core import jobs
from okno.customers.actions import give_consent
from okno.customers.models import Consent, ContactEvent
from okno.outages import actions as outage_actions

pytestmark = pytest.mark.django_db

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
IVANOV_PHONE = "+79123456789"
ROMASHKA_PHONE = "+73432000000"


def _tomorrow_msk(hour: int, minute: int = 0) -> dt.datetime:
    day = timezone.localtime(timezone.now(), MSK).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=MSK)


def _consent(*people, channel="phone", purpose="service_notices", actor):
    for customer in people:
        give_consent(customer, channel=channel, purpose=purpose, actor=actor)


def _answered(register, org, customers, account, customer):
    appeal = register(account=account, customer=customer) if customer else register(account=account)
    appeal_actions.answer_appeal(appeal, actor=org.admin, text="Счётчик заменён.", channel="phone")
    appeal.refresh_from_db()
    return appeal


@pytest.fixture
def survey(org, customers, register):
    """A survey of two answered appeals: Иванов's (branch A, Moscow) and ООО «Ромашка»'s (branch B,
    Yekaterinburg), both customers consenting to service calls."""
    ivanov = _answered(register, org, customers, customers.acc_ivanov, None)
    romashka = _answered(register, org, customers, customers.acc_romashka, customers.romashka)
    _consent(customers.ivanov, customers.romashka, actor=org.admin)
    campaign = campaigns.create_campaign(kind="survey", name="Опрос", actor=org.admin, days=7)
    return campaign, ivanov, romashka


@pytest.fixture
def outage_campaign(org, customers, grid):
    """Planned works on ТП-11 (ул. Ленина 1 and 2, two flats each, and Иванов at ул. Ленина 10: 5
    customers), a draft campaign."""
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=2)
    outage = outage_actions.schedule_planned(
        node=grid.tp11,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=4),
        reason="замена трансформатора",
        actor=org.dispatcher_a,
    )
    campaign = campaigns.create_campaign(
        kind="planned_outage",
        name="Работы на ТП-11",
        actor=org.head_a,
        outage=outage,
        max_attempts=3,
        retry_after_min=30,
    )
    return campaign, outage


# --------------------------------------------------------------------------------------------------- who


def test_planned_outage_campaign_calls_every_customer_under_the_works(outage_campaign, grid, customers):
    campaign, outage = outage_campaign
    targets = list(campaign.targets.all())
    assert campaign.status == "draft" and len(targets) == 5
    assert {t.account_id for t in targets} == {a.pk for a in grid.accounts["ТП-11"]}
    ivanov = campaign.targets.get(customer=customers.ivanov)
    assert ivanov.number == IVANOV_PHONE and ivanov.time_zone == "Europe/Moscow"
    start = timezone.localtime(outage.planned_start, MSK).strftime("%d.%m.%Y %H:%M")
    assert ivanov.context["start"] == start and ivanov.context["outage"] == outage.number
    assert start in campaigns.message_for(ivanov) and "ул. Ленина" in campaigns.message_for(ivanov)


def test_debt_reminder_takes_accounts_with_an_open_debt_case(org, customers):
    from okno.billing.models import DebtCase

    DebtCase.objects.create(
        account=customers.acc_romashka,
        opened_on=timezone.localdate(),
        debt_kop=500_000,
        threshold_kop=257_200,
    )
    DebtCase.objects.create(
        account=customers.acc_ivanov,
        opened_on=timezone.localdate(),
        debt_kop=300_000,
        threshold_kop=257_200,
        status="closed",
    )
    campaign = campaigns.create_campaign(kind="debt_reminder", name="Долги", actor=org.admin)
    assert [(t.account_id, t.time_zone) for t in campaign.targets.all()] == [
        (customers.acc_romashka.pk, "Asia/Yekaterinburg")
    ]


def test_branch_staff_make_campaigns_for_their_branch_only(org, customers, register):
    from okno.billing.models import DebtCase

    for account in (customers.acc_ivanov, customers.acc_romashka):
        DebtCase.objects.create(account=account, opened_on=timezone.localdate(), debt_kop=1, threshold_kop=1)
    campaign = campaigns.create_campaign(kind="debt_reminder", name="Долги А", actor=org.head_a)
    assert [t.account_id for t in campaign.targets.all()] == [customers.acc_ivanov.pk]
    with pytest.raises(campaigns.PermissionDenied):
        campaigns.create_campaign(kind="debt_reminder", name="Долги Б", actor=org.head_a, branch_id=org.b.pk)
    with pytest.raises(campaigns.PermissionDenied):
        campaigns.create_campaign(kind="debt_reminder", name="Долги", actor=org.operator_a)


def test_survey_takes_answered_appeals_once_per_customer(survey, customers):
    campaign, ivanov, romashka = survey
    targets = {t.customer_id: t for t in campaign.targets.all()}
    assert set(targets) == {customers.ivanov.pk, customers.romashka.pk}
    assert targets[customers.romashka.pk].time_zone == "Asia/Yekaterinburg"
    assert targets[customers.ivanov.pk].context["appeal_id"] == ivanov.pk
    assert ivanov.number in campaigns.message_for(targets[customers.ivanov.pk])


# --------------------------------------------------------------------------------------------------- when


def test_window_is_read_in_the_customers_time_zone(survey, org, customers):
    campaign, _i, _r = survey
    campaigns.start(campaign, actor=org.admin)
    # 08:30 in Moscow is 10:30 in Yekaterinburg: only ООО «Ромашка» is inside 09:00–20:00.
    due = campaigns.next_due(_tomorrow_msk(8, 30))
    assert [t.customer_id for t in due] == [customers.romashka.pk]
    assert due[0].status == "dialling"
    campaigns.record_result(due[0], "no_answer", now=_tomorrow_msk(8, 31))
    # 19:30 in Moscow is 21:30 in Yekaterinburg: now only Иванов is.
    due = campaigns.next_due(_tomorrow_msk(19, 30))
    assert [t.customer_id for t in due] == [customers.ivanov.pk]
    assert campaigns.next_due(_tomorrow_msk(19, 31)) == []


def test_a_paused_or_draft_campaign_dials_nobody(survey, org):
    campaign, _i, _r = survey
    assert campaigns.next_due(_tomorrow_msk(12)) == []
    campaigns.start(campaign, actor=org.admin)
    campaigns.pause(campaign, actor=org.admin)
    assert campaigns.next_due(_tomorrow_msk(12)) == []


# --------------------------------------------------------------------------------------------------- who not


def test_do_not_call_number_is_skipped(outage_campaign, org, grid, customers):
    campaign, _outage = outage_campaign
    _consent(*[a.customer for a in grid.accounts["ТП-11"]], actor=org.admin)
    campaigns.add_do_not_call("8 (912) 345-67-89", reason="просил не звонить", actor=org.admin)
    neighbour = grid.accounts["ТП-11"][0].customer.contacts.get(kind="phone").value
    DoNotCall.objects.create(number="8" + neighbour[2:])  # typed in the admin as 8…
    campaigns.start(campaign, actor=org.admin)
    dialer = ScriptedDialer()
    counts = dialler.dial_due(now=_tomorrow_msk(12), dialer=dialer)
    assert counts["dialled"] == 3
    assert {IVANOV_PHONE, neighbour}.isdisjoint(r.number for r in dialer.placed)
    assert campaign.targets.get(number=neighbour).result == "do_not_call"
    target = campaign.targets.get(number=IVANOV_PHONE)
    assert (target.status, target.result, target.attempts) == ("skipped", "do_not_call", 0)
    assert not Call.objects.filter(called=IVANOV_PHONE).exists()


def test_customer_without_consent_to_calls_is_skipped(outage_campaign, org, grid, customers):
    campaign, _outage = outage_campaign
    others = [a.customer for a in grid.accounts["ТП-11"] if a.customer_id != customers.ivanov.pk]
    _consent(others[0], actor=org.admin)  # phone, service notices
    _consent(others[1], channel="any", actor=org.admin)  # any channel counts too
    _consent(others[2], channel="email", actor=org.admin)  # e-mail only: not a call
    _consent(others[3], purpose="marketing", actor=org.admin)  # another purpose
    give_consent(customers.ivanov, channel="phone", purpose="service_notices", actor=org.admin)
    Consent.objects.filter(customer=customers.ivanov).update(withdrawn_at=timezone.now())  # withdrawn
    campaigns.start(campaign, actor=org.admin)
    due = campaigns.next_due(_tomorrow_msk(12))
    assert sorted(t.customer_id for t in due) == sorted([others[0].pk, others[1].pk])
    skipped = campaign.targets.filter(status="skipped")
    assert sorted(skipped.values_list("customer_id", flat=True)) == sorted(
        [others[2].pk, others[3].pk, customers.ivanov.pk]
    )
    assert set(skipped.values_list("result", flat=True)) == {"no_consent"}


# --------------------------------------------------------------------------------------------------- attempts


def test_retries_after_retry_after_min_up_to_max_attempts_then_failed(outage_campaign, org, customers):
    campaign, _outage = outage_campaign
    _consent(customers.ivanov, actor=org.admin)
    campaigns.start(campaign, actor=org.admin)
    dialer = ScriptedDialer({IVANOV_PHONE: ["no_answer", "busy", "no_answer"]})
    t0 = _tomorrow_msk(10)
    assert dialler.dial_due(now=t0, dialer=dialer)["no_answer"] == 1  # the others lack consent
    target = campaign.targets.get(number=IVANOV_PHONE)
    assert (target.status, target.attempts, target.result) == ("pending", 1, "no_answer")
    assert target.next_attempt_at == t0 + dt.timedelta(minutes=30)
    assert dialler.dial_due(now=t0 + dt.timedelta(minutes=29), dialer=dialer)["dialled"] == 0
    assert dialler.dial_due(now=t0 + dt.timedelta(minutes=30), dialer=dialer)["busy"] == 1
    counts = dialler.dial_due(now=t0 + dt.timedelta(minutes=60), dialer=dialer)
    assert counts["no_answer"] == 1 and counts["finished"] == 1
    target.refresh_from_db()
    campaign.refresh_from_db()
    assert (target.status, target.attempts, target.result) == ("failed", 3, "no_answer")
    assert campaign.status == "finished"
    assert dialler.dial_due(now=t0 + dt.timedelta(minutes=90), dialer=dialer)["dialled"] == 0
    lines = list(
        ContactEvent.objects.filter(customer=customers.ivanov, ref_type="contact_center.call")
        .order_by("occurred_at", "id")
        .values_list("summary", flat=True)
    )
    assert lines == [
        f"Campaign “Работы на ТП-11”: call to {IVANOV_PHONE}, no answer; attempt 1 of 3",
        f"Campaign “Работы на ТП-11”: call to {IVANOV_PHONE}, busy; attempt 2 of 3",
        f"Campaign “Работы на ТП-11”: call to {IVANOV_PHONE}, no answer; no more attempts",
    ]
    calls = Call.objects.filter(campaign_target=target).order_by("started_at")
    assert [c.outcome for c in calls] == ["no_answer", "busy", "no_answer"]
    assert all(c.direction == "outbound" and c.customer_id == customers.ivanov.pk for c in calls)


def test_a_target_left_dialling_by_a_dead_dialler_is_dialled_again(outage_campaign, org, customers):
    campaign, _outage = outage_campaign
    _consent(customers.ivanov, actor=org.admin)
    campaigns.start(campaign, actor=org.admin)
    t0 = _tomorrow_msk(10)
    assert len(campaigns.next_due(t0)) == 1
    assert campaigns.next_due(t0 + dt.timedelta(minutes=5)) == []  # taken, not dialled twice
    assert len(campaigns.next_due(t0 + campaigns.DIALLING_STALE)) == 1


# --------------------------------------------------------------------------------------------------- results


def test_results_count_by_status_and_outcome_and_write_history(outage_campaign, org, grid, customers):
    campaign, _outage = outage_campaign
    people = [a.customer for a in grid.accounts["ТП-11"]]
    _consent(*people[:4], actor=org.admin)
    phones = {c.pk: c.contacts.get(kind="phone").value for c in people}
    script = {
        phones[people[0].pk]: ["answered"],
        phones[people[1].pk]: ["busy"],
        phones[people[2].pk]: ["failed"],
    }
    for person in people[3:4]:
        script[phones[person.pk]] = [DialResult("answered", telephony_id="ast-1", ring_s=5, talk_s=20)]
    campaigns.start(campaign, actor=org.admin)
    counts = dialler.dial_due(now=_tomorrow_msk(11), dialer=ScriptedDialer(script))
    assert counts == {
        "dialled": 4,
        "answered": 2,
        "no_answer": 0,
        "busy": 1,
        "failed": 1,
        "put_through": 0,
        "finished": 0,
    }
    results = campaigns.results(campaign)
    assert results["total"] == 5 and results["attempts"] == 4 and results["reached"] == 2
    assert results["by_status"] == {"pending": 2, "dialling": 0, "done": 2, "failed": 0, "skipped": 1}
    assert results["by_result"] == {"answered": 2, "busy": 1, "failed": 1, "no_consent": 1}
    first = ContactEvent.objects.get(customer=people[0], kind="call")
    assert first.summary == f"Campaign “Работы на ТП-11”: call to {phones[people[0].pk]}, answered"
    call = Call.objects.get(called=phones[people[3].pk])
    assert call.outcome == "self_service" and call.telephony_id == "ast-1"
    assert (call.ended_at - call.started_at).total_seconds() == 25
    assert "замена" not in call.ivr_state["message"] and "Planned works" in call.ivr_state["message"]
    # The engine does not add a second history line for the same call.
    assert ContactEvent.objects.filter(customer=people[3]).filter(kind="call").count() == 1


def test_survey_answer_is_recorded_on_the_target_and_as_the_appeals_rating(survey, org, customers):
    campaign, ivanov_appeal, _r = survey
    campaigns.start(campaign, actor=org.admin)
    dialer = ScriptedDialer({IVANOV_PHONE: ["answered:4"], ROMASHKA_PHONE: ["answered:9"]})
    dialler.dial_due(now=_tomorrow_msk(12), dialer=dialer)
    assert all(r.collect_digit for r in dialer.placed)
    target = campaign.targets.get(customer=customers.ivanov)
    assert (target.status, target.answer) == ("done", "4")
    ivanov_appeal.refresh_from_db()
    assert ivanov_appeal.rating == 4 and "Опрос" in ivanov_appeal.rating_comment
    assert ContactEvent.objects.filter(
        customer=customers.ivanov, kind="feedback", summary__contains="4 of 5"
    ).exists()
    line = ContactEvent.objects.get(customer=customers.ivanov, kind="call", ref_type="contact_center.call")
    assert line.summary.endswith("answered; rating 4 of 5")
    # A key that is not 1–5 is no answer; the call still counts as answered.
    other = campaign.targets.get(customer=customers.romashka)
    assert (other.status, other.answer) == ("done", "")
    results = campaigns.results(campaign)
    assert results["answers"]["4"] == 1 and results["average_answer"] == 4.0


def test_callback_campaign_leaves_the_dialling_to_the_engine_which_keeps_the_place(org, customers):
    ensure_defaults()
    agent = Agent.objects.create(user=org.cc_operator, extension="101")
    Skill.objects.create(agent=agent, queue=Queue.objects.get(code="general"))
    first, _turn = engine.incoming_call(caller=IVANOV_PHONE)
    engine.enqueue(first, "general")
    second, _turn = engine.incoming_call(caller="+79990000002")
    engine.enqueue(second, "general")
    callback = engine.request_callback(first)  # Иванов leaves the line, first in the queue
    campaign = campaigns.create_campaign(kind="callback", name="Перезвоны", actor=org.admin)
    target = campaign.targets.get()
    assert target.customer_id == customers.ivanov.pk and target.context["queue"] == "general"
    campaigns.start(campaign, actor=org.admin)
    # the dialler does not call him out of turn (nor while no agent is free)
    counts = dialler.dial_due(now=_tomorrow_msk(12), dialer=ScriptedDialer({IVANOV_PHONE: ["answered"]}))
    assert counts["dialled"] == 0
    assert not Call.objects.filter(direction="outbound").exists()
    # the agent frees: the callback is at the front (its original arrival), so it goes first
    engine.set_agent_state(agent, "available", actor=org.cc_operator)
    out = engine.current_call(agent)
    assert out.direction == "outbound" and out.called == IVANOV_PHONE
    second.refresh_from_db()
    assert second.answered_at is None
    callback.refresh_from_db()
    assert callback.status == "dialling"  # connected, not done before the wrap-up
    dialler.dial_due(now=_tomorrow_msk(12), dialer=ScriptedDialer({}))
    target.refresh_from_db()
    assert target.status == "pending"
    engine.wrap_up(out, code="resolved", actor=org.cc_operator)
    callback.refresh_from_db()
    assert callback.status == "done"
    dialler.dial_due(now=_tomorrow_msk(12), dialer=ScriptedDialer({}))
    target.refresh_from_db()
    assert (target.status, target.result) == ("done", "answered")
    campaign.refresh_from_db()
    assert campaign.status == "finished"


def test_callback_on_the_do_not_call_list_is_skipped_and_failed(org, customers):
    ensure_defaults()
    call, _turn = engine.incoming_call(caller=IVANOV_PHONE)
    engine.enqueue(call, "general")
    callback = engine.request_callback(call)
    campaign = campaigns.create_campaign(kind="callback", name="Перезвоны", actor=org.admin)
    campaigns.start(campaign, actor=org.admin)
    DoNotCall.objects.create(number=IVANOV_PHONE)
    assert campaigns.next_due(_tomorrow_msk(12)) == []
    assert campaign.targets.get().result == "do_not_call"
    callback.refresh_from_db()
    assert callback.status == "failed"


# --------------------------------------------------------------------------------------------------- state


def test_finish_skips_the_numbers_not_called_and_cannot_be_undone(outage_campaign, org):
    campaign, _outage = outage_campaign
    campaigns.finish(campaign, actor=org.admin)
    assert set(campaign.targets.values_list("status", "result")) == {("skipped", "cancelled")}
    with pytest.raises(campaigns.CampaignError):
        campaigns.start(campaign, actor=org.admin)


def test_the_dialler_job_is_registered_and_runs_on_the_simulated_line(outage_campaign, org, grid, settings):
    campaign, _outage = outage_campaign
    _consent(*[a.customer for a in grid.accounts["ТП-11"]], actor=org.admin)
    campaigns.start(campaign, actor=org.admin)
    assert jobs.REGISTRY["contact_center.dial_campaigns"].every == dt.timedelta(minutes=1)
    settings.OKNO_CC_DIALER = "okno.contact_center.dialler.SimulatedDialer"
    first = dialler.dial_campaigns(now=_tomorrow_msk(12).isoformat())
    assert first["dialled"] == 5
    assert first["answered"] + first["no_answer"] + first["busy"] == 5
    assert CampaignTarget.objects.filter(campaign=campaign, status="dialling").count() == 0
    # Reproducible: the same target and attempt give the same outcome.
    request = dialler.DialRequest(
        target_id=1, campaign_id=1, kind="survey", number="+7", message="", attempt=1, collect_digit=True
    )
    assert dialler.SimulatedDialer().dial(request) == dialler.SimulatedDialer().dial(request)


# --------------------------------------------------------------------------------------------------- pages


def test_pages_need_campaign_change(client, org):
    client.force_login(org.operator_a)
    assert client.get(reverse("cc:campaigns")).status_code == 403
    assert client.get(reverse("cc:campaign_create")).status_code == 403


def test_head_makes_starts_and_reads_a_campaign(client, org, customers, grid, outage_campaign):
    _campaign, outage = outage_campaign
    client.force_login(org.head_a)
    page = client.get(reverse("cc:campaign_create"))
    assert page.status_code == 200 and outage.number in page.content.decode()
    response = client.post(
        reverse("cc:campaign_create"),
        {
            "kind": "planned_outage",
            "name": "Повторное оповещение",
            "outage": outage.pk,
            "branch": org.a.pk,
            "window_start": "09:00",
            "window_end": "20:00",
            "max_attempts": 2,
            "retry_after_min": 45,
        },
    )
    campaign = Campaign.objects.get(name="Повторное оповещение")
    assert response.status_code == 302 and response["Location"] == reverse("cc:campaign", args=[campaign.pk])
    assert campaign.targets.count() == 5 and campaign.max_attempts == 2 and campaign.created_by == org.head_a
    client.post(reverse("cc:campaign_action", args=[campaign.pk, "start"]))
    campaign.refresh_from_db()
    assert campaign.status == "running"
    client.post(reverse("cc:campaign_action", args=[campaign.pk, "pause"]))
    campaign.refresh_from_db()
    assert campaign.status == "paused"
    client.post(reverse("cc:campaign_action", args=[campaign.pk, "start"]))
    _consent(customers.ivanov, actor=org.admin)
    dialler.dial_due(now=_tomorrow_msk(12), dialer=ScriptedDialer({IVANOV_PHONE: ["answered"]}))
    page = client.get(reverse("cc:campaign", args=[campaign.pk])).content.decode()
    assert 'data-status="done">1<' in page and 'data-status="skipped">4<' in page
    assert "No consent to calls" in page and "Answered" in page
    csv = client.get(reverse("cc:campaign_csv", args=[campaign.pk])).content.decode("utf-8-sig")
    lines = csv.strip().splitlines()
    assert lines[0].startswith("number,customer,account") and len(lines) == 6
    assert any(
        line.startswith(f"{IVANOV_PHONE},Иванов Пётр Сергеевич,") and ",done,1,answered," in line
        for line in lines
    )
    assert client.get(reverse("cc:campaigns")).content.decode().count("Повторное оповещение") == 1
    campaign.refresh_from_db()
    assert campaign.status == "finished"  # nothing left to dial
    response = client.post(reverse("cc:campaign_action", args=[campaign.pk, "start"]), follow=True)
    assert "A campaign that is finished cannot be started." in response.content.decode()


def test_create_form_shows_errors_next_to_the_field(client, org):
    client.force_login(org.admin)
    response = client.post(
        reverse("cc:campaign_create"),
        {
            "kind": "planned_outage",
            "name": "Без работ",
            "window_start": "09:00",
            "window_end": "20:00",
            "max_attempts": 3,
            "retry_after_min": 60,
        },
    )
    page = response.content.decode()
    assert response.status_code == 200 and "Choose the planned outage." in page
    assert 'id="id_outage_error"' in page and 'aria-invalid="true"' in page
    assert not Campaign.objects.exists()
