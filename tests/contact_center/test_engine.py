"""The live call engine: identification by the calling number, the outage's restoration time read for an
address, queueing and the agent who takes the call, abandonment, callbacks, wrap-up, queue_log events and
the customer's contact history."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from django.db.models import F
from django.utils import timezone

from okno.contact_center import engine
from okno.contact_center.flows import MAIN_FLOW, ensure_defaults
from okno.contact_center.ivr import Session
from okno.contact_center.models import Agent, Call, CallEvent, Queue, Skill
from okno.customers.models import ContactEvent
from okno.outages import actions as outage_actions
from okno.outages import lookup

pytestmark = pytest.mark.django_db

IVANOV_PHONE = "+79123456789"


@pytest.fixture
def cc(org):
    ensure_defaults()
    queues = {q.code: q for q in Queue.objects.all()}
    alice = Agent.objects.create(user=org.cc_operator, extension="101")
    bob = Agent.objects.create(user=org.operator_a, extension="102")
    for code in ("general", "outage", "billing", "readings", "connection"):
        Skill.objects.create(agent=alice, queue=queues[code], penalty=0)
    Skill.objects.create(agent=bob, queue=queues["general"], penalty=1)
    return type("CC", (), {"alice": alice, "bob": bob, "queues": queues})


def _events(call):
    return [
        (e.event, e.queue, e.agent, e.data) for e in CallEvent.objects.filter(call=call).order_by("at", "id")
    ]


def _back(seconds):
    return timezone.now() - dt.timedelta(seconds=seconds)


def test_caller_is_identified_by_phone_and_hears_the_menu(cc, customers):
    call, turn = engine.incoming_call(caller="8 (912) 345-67-89", telephony_id="1700000000.1")
    assert call.caller == IVANOV_PHONE
    assert call.customer_id == customers.ivanov.pk
    assert call.account_id == customers.acc_ivanov.pk
    assert call.outcome == "in_ivr"
    assert "press 1" in turn.text and turn.expect is not None and turn.expect.max_digits == 1
    assert call.ivr_state["session"]["_step"] == "menu"


def test_unknown_caller_types_the_account_number_and_the_meter_serial_for_the_balance(cc, metered):
    call, _turn = engine.incoming_call(caller="+79990000001")
    assert call.customer_id is None
    turn = engine.ivr_input(call, "3")
    assert "enter your account number" in turn.text
    turn = engine.ivr_input(call, "123#")
    assert "Account not found" in turn.text
    turn = engine.ivr_input(call, metered.account.number + "#")
    assert "your account is found" in turn.text
    # a typed account number is not enough for confidential data: the meter's serial 41234567
    assert "last 4 digits of your meter" in turn.text
    assert "owe" not in turn.text and "debt" not in turn.text and "advance" not in turn.text
    assert turn.expect is not None and turn.expect.max_digits == 4
    turn = engine.ivr_input(call, "1111#")
    assert "do not match the meter" in turn.text and "debt" not in turn.text
    turn = engine.ivr_input(call, "4567#")
    assert f"account {metered.account.number} has no debt" in turn.text
    call.refresh_from_db()
    assert call.account_id == metered.account.pk and call.customer_id == metered.account.customer_id
    assert call.ivr_path[:4] == ["greeting", "emergency", "menu", "3"]


def test_a_wrong_meter_serial_after_the_retries_goes_to_the_operator(cc, metered):
    call, _turn = engine.incoming_call(caller="+79990000001")
    engine.ivr_input(call, "2")  # readings: confidential too
    turn = engine.ivr_input(call, metered.account.number + "#")
    assert "last 4 digits" in turn.text
    assert "do not match" in engine.ivr_input(call, "0000#").text
    assert "do not match" in engine.ivr_input(call, "9999#").text
    turn = engine.ivr_input(call, "1234#")
    assert (
        turn.transfer_to == "readings" and "Enter the reading" not in turn.text
    )  # the reading step's operator


def test_unknown_caller_hears_power_status_without_the_flat_number(cc, customers):
    customers.acc_ivanov.service_point.address.flat = "77"
    customers.acc_ivanov.service_point.address.save()
    call, _turn = engine.incoming_call(caller="+79990000001")
    engine.ivr_input(call, "1")
    turn = engine.ivr_input(call, customers.acc_ivanov.number + "#")
    assert "power" in turn.text and "last 4 digits" not in turn.text  # not confidential: no 2nd factor
    assert "кв." not in turn.text and "77" not in turn.text
    assert customers.acc_ivanov.service_point.address.settlement in turn.text


def test_a_known_number_may_choose_only_among_its_own_accounts(cc, customers):
    from okno.contact_center.ivr_services import OknoServices

    own = OknoServices().accounts_by_phone(IVANOV_PHONE)
    assert [a.id for a in own] == [customers.acc_ivanov.pk]
    other = customers.acc_romashka
    flow = copy.deepcopy(MAIN_FLOW)
    flow["steps"]["emergency"]["next"] = "ask"
    flow["steps"]["ask"] = {"type": "say", "prompt": "greeting", "next": "menu"}
    # with one account identify() is silent; a typed number is asked only with several: simulate it
    services = OknoServices(caller=IVANOV_PHONE)
    session = Session(flow, services, caller=IVANOV_PHONE)
    session.start()
    session._stage, session._after_identify = "account", "balance"
    turn = session.digits(other.number + "#")
    assert "Account not found" in turn.text and session.account is None
    turn = session.digits(customers.acc_ivanov.number + "#")
    assert "your account is found" in turn.text and session._verified
    assert "last 4 digits" not in turn.text


def test_outage_status_reads_the_restoration_time_in_the_branch_zone(cc, org, grid):
    lookup.invalidate_outages()
    etr = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=3)
    outage = outage_actions.register_unplanned(
        node=grid.tp11, actor=org.dispatcher_a, cause="equipment", etr=etr, reason="повреждение кабеля"
    )
    lookup.invalidate_outages()
    account = grid.accounts["ТП-11"][0]
    phone = account.customer.contacts.get(kind="phone").value
    call, _turn = engine.incoming_call(caller=phone)
    turn = engine.ivr_input(call, "1")
    local = timezone.localtime(etr, org.a.tz)
    assert f"outage {outage.number}" in turn.text
    assert local.strftime("%d.%m.%Y %H:%M") in turn.text and "Europe/Moscow" in turn.text
    # A neighbour under another substation has power.
    other = grid.accounts["ТП-21"][0]
    call2, _ = engine.incoming_call(caller=other.customer.contacts.get(kind="phone").value)
    assert "There is power at" in engine.ivr_input(call2, "1").text


def test_mass_outage_announcement_plays_first(cc, org, customers):
    from okno.outages.models import Announcement

    Announcement.objects.create(
        branch=org.a, settlements=["Северск"], text="Авария", text_en="A storm hit Seversk."
    )
    _call, turn = engine.incoming_call(caller=IVANOV_PHONE)
    assert turn.prompts[1].key == "emergency" and turn.prompts[1].text == "A storm hit Seversk."


def test_enqueue_waits_then_the_agent_who_becomes_available_takes_the_call(cc, org, customers):
    call, _ = engine.incoming_call(caller=IVANOV_PHONE)
    turn = engine.ivr_input(call, "0")
    assert turn.transfer_to == "general"
    place = engine.enqueue(call, turn.transfer_to)
    assert place.agent is None and place.position == 1
    assert place.expected_wait_s == float("inf") and place.callback_offered  # nobody logged on
    call.refresh_from_db()
    assert call.outcome == "queued" and call.topic == "other"

    taken = engine.set_agent_state(cc.alice, "available", actor=org.cc_operator)
    assert taken is not None and taken.pk == call.pk
    call.refresh_from_db()
    cc.alice.refresh_from_db()
    assert call.outcome == "answered" and call.agent_id == cc.alice.pk and call.answered_at is not None
    assert cc.alice.state == "on_call"
    assert engine.current_call(cc.alice).pk == call.pk
    names = [e[0] for e in _events(call)]
    assert names == ["ENTERQUEUE", "CONNECT"]
    assert _events(call)[0][3] == ["", IVANOV_PHONE, "1"]
    assert _events(call)[1][2] == "PJSIP/101"


def test_available_agent_takes_a_new_call_at_once_and_the_longest_idle_first(cc, org):
    engine.set_agent_state(cc.bob, "available", actor=org.operator_a)
    engine.set_agent_state(cc.alice, "available", actor=org.cc_operator)
    call, _ = engine.incoming_call(caller="+79990000002")
    place = engine.enqueue(call, "general")
    assert place.agent is not None and place.agent.pk == cc.bob.pk  # idle longer
    assert list(
        CallEvent.objects.filter(agent="PJSIP/102", queue="general").values_list("event", flat=True)
    ) == ["ADDMEMBER", "CONNECT"]


def test_waiting_calls_are_served_in_order_of_entry(cc, org):
    first, _ = engine.incoming_call(caller="+79990000003")
    second, _ = engine.incoming_call(caller="+79990000004")
    engine.enqueue(first, "general")
    p2 = engine.enqueue(second, "general")
    assert p2.position == 2
    taken = engine.set_agent_state(cc.alice, "available", actor=org.cc_operator)
    assert taken.pk == first.pk
    assert engine.placement(second).position == 1


def test_abandoned_call_keeps_its_wait(cc):
    call, _ = engine.incoming_call(caller=IVANOV_PHONE)
    engine.enqueue(call, "general")
    Call.objects.filter(pk=call.pk).update(enqueued_at=_back(42), queue_entered_at=_back(42))
    engine.hangup(call)
    call.refresh_from_db()
    assert call.outcome == "abandoned" and call.answered_at is None
    assert 41 <= call.wait_s <= 44
    abandon = _events(call)[-1]
    assert abandon[0] == "ABANDON" and abandon[1] == "general"
    assert abandon[3][:2] == ["1", "1"] and 41 <= int(abandon[3][2]) <= 44


def test_callback_keeps_the_place_and_is_dialled_to_the_free_agent(cc, org, customers):
    first, _ = engine.incoming_call(caller=IVANOV_PHONE)
    second, _ = engine.incoming_call(caller="+79990000005")
    place = engine.enqueue(first, "general")
    assert place.callback_offered
    engine.enqueue(second, "general")
    callback = engine.request_callback(first)
    first.refresh_from_db()
    assert first.outcome == "callback" and callback.status == "pending" and callback.number == IVANOV_PHONE
    assert _events(first)[-1][0] == "EXITWITHKEY"
    # The second caller is still behind the callback.
    assert engine.placement(second).position == 2

    taken = engine.set_agent_state(cc.alice, "available", actor=org.cc_operator)
    assert taken is not None and taken.direction == "outbound" and taken.called == IVANOV_PHONE
    callback.refresh_from_db()
    assert callback.status == "dialling" and callback.attempts == 1
    assert taken.customer_id == customers.ivanov.pk
    engine.wrap_up(taken, code="resolved", actor=org.cc_operator)
    callback.refresh_from_db()
    assert callback.status == "done"
    # Alice is free again and takes the second caller.
    second.refresh_from_db()
    assert second.agent_id == cc.alice.pk and second.outcome == "answered"


def test_callback_that_rings_out_is_retried_later(cc, org):
    call, _ = engine.incoming_call(caller="+79990000006")
    engine.enqueue(call, "general")
    callback = engine.request_callback(call)
    out = engine.set_agent_state(cc.alice, "available", actor=org.cc_operator)
    engine.hangup(out, by="no_answer")
    callback.refresh_from_db()
    cc.alice.refresh_from_db()
    assert callback.status == "pending" and callback.next_attempt_at > timezone.now()
    assert cc.alice.state == "available"
    assert engine.current_call(cc.alice) is None


def test_wrap_up_links_the_appeal_and_records_the_contact(cc, org, customers, register):
    engine.set_agent_state(cc.alice, "available", actor=org.cc_operator)
    call, _ = engine.incoming_call(caller=IVANOV_PHONE)
    engine.enqueue(call, "general")
    call.refresh_from_db()
    engine.hangup(call, by="caller")
    call.refresh_from_db()
    cc.alice.refresh_from_db()
    assert call.ended_at is not None and cc.alice.state == "wrap_up"
    assert _events(call)[-1][0] == "COMPLETECALLER"
    with pytest.raises(engine.EngineError):
        engine.set_agent_state(cc.alice, "break", actor=org.cc_operator)
    appeal = register()
    engine.wrap_up(call, code="appeal", actor=org.cc_operator, appeal=appeal)
    call.refresh_from_db()
    cc.alice.refresh_from_db()
    assert call.appeal_id == appeal.pk and call.wrapup_code.code == "appeal"
    assert cc.alice.state == "available"
    line = ContactEvent.objects.get(customer=customers.ivanov, kind="call")
    assert line.channel == "contact_center" and line.ref_id == appeal.pk
    assert "Answered by an operator" in line.summary
    with pytest.raises(engine.EngineError):
        engine.wrap_up(call, code="resolved", actor=org.cc_operator)


def test_overflow_moves_a_long_wait_to_the_overflow_queue(cc, org):
    engine.set_agent_state(cc.bob, "break", actor=org.operator_a)
    call, _ = engine.incoming_call(caller="+79990000007")
    engine.enqueue(call, "billing")
    Call.objects.filter(pk=call.pk).update(queue_entered_at=_back(120), enqueued_at=_back(120))
    assert engine.tick()["overflowed"] == 1
    call.refresh_from_db()
    assert call.queue.code == "general"
    assert [e[0] for e in _events(call)] == ["ENTERQUEUE", "EXITWITHTIMEOUT", "ENTERQUEUE"]
    taken = engine.set_agent_state(cc.bob, "available", actor=org.operator_a)
    assert taken.pk == call.pk
    call.refresh_from_db()
    assert call.wait_s >= 119  # the wait counts from the first entry
    assert list(CallEvent.objects.filter(agent="PJSIP/102").values_list("event", flat=True)) == [
        "ADDMEMBER",
        "PAUSE",
        "UNPAUSE",
        "CONNECT",
    ]


def test_self_service_call_ends_in_the_history(cc, customers):
    call, _ = engine.incoming_call(caller=IVANOV_PHONE)
    turn = engine.ivr_input(call, "9")
    assert turn.hangup
    call.refresh_from_db()
    assert call.outcome == "self_service" and call.ended_at is not None
    assert (
        ContactEvent.objects.filter(
            customer=customers.ivanov, kind="call", ref_type="contact_center.call"
        ).count()
        == 1
    )


def test_wallboard_counts_today(cc, org):
    engine.set_agent_state(cc.alice, "available", actor=org.cc_operator)
    answered, _ = engine.incoming_call(caller="+79990000008")
    engine.enqueue(answered, "general")
    waiting, _ = engine.incoming_call(caller="+79990000009")
    engine.enqueue(waiting, "general")
    gone, _ = engine.incoming_call(caller="+79990000010")
    engine.enqueue(gone, "general")
    engine.hangup(gone)
    board = engine.wallboard()["general"]
    assert board["offered"] == 3 and board["answered"] == 1 and board["abandoned"] == 1
    assert board["waiting"] == 1 and board["agents"]["on_call"] == 1
    assert board["service_level"] == 0.5


@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_agree(org):
    """Callers and agents in parallel threads (own connections): every call is taken once, no agent has
    two calls. Meaningful on PostgreSQL (row locks); SQLite serialises writers anyway."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter")
    ensure_defaults()
    general = Queue.objects.get(code="general")
    agents = []
    for i, user in enumerate([org.cc_operator, org.operator_a, org.operator_b]):
        agent = Agent.objects.create(user=user, extension=str(201 + i))
        Skill.objects.create(agent=agent, queue=general)
        agents.append(agent)

    def caller(n):
        from django.db import connection as conn

        try:
            call, _ = engine.incoming_call(caller=f"+7999100{n:04d}")
            return engine.enqueue(call, "general").position
        finally:
            conn.close()

    def agent_on(agent):
        from django.db import connection as conn

        try:
            return engine.set_agent_state(agent, "available", actor=org.admin)
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(caller, n) for n in range(12)] + [pool.submit(agent_on, a) for a in agents]
        for f in futures:
            f.result()
    answered = Call.objects.filter(outcome="answered")
    assert answered.count() == 3
    assert sorted(answered.values_list("agent_id", flat=True)) == sorted(a.pk for a in agents)
    waiting = Call.objects.filter(outcome="queued").count()
    assert waiting == 9
    positions = sorted(engine.placement(c).position for c in Call.objects.filter(outcome="queued"))
    assert positions == list(range(1, 10))
    assert CallEvent.objects.filter(event="CONNECT").count() == 3


def test_reading_by_keypad_through_the_flow(cc, metered):
    call, _ = engine.incoming_call(caller=IVANOV_PHONE)
    turn = engine.ivr_input(call, "2")
    assert "Enter the reading of zone 1 of 1" in turn.text and turn.expect.terminator == "#"
    turn = engine.ivr_input(call, "999#")
    assert "lower than the previous one" in turn.text and "zone 1 of 1" in turn.text
    turn = engine.ivr_input(call, "1100*5#")
    assert "Your readings are accepted: 1100.5." in turn.text and "press 1" in turn.text  # back to the menu
    engine.hangup(call)
    call.refresh_from_db()
    assert call.outcome == "self_service"


def test_a_flow_naming_a_missing_queue_is_refused_and_a_call_falls_back_to_the_default(cc, caplog):
    from django.core.exceptions import ValidationError

    from okno.contact_center.ivr import FlowError, validate_queues
    from okno.contact_center.models import IvrFlowVersion

    flow = copy.deepcopy(MAIN_FLOW)
    flow["steps"]["connection"]["queue"] = "nosuch"
    with pytest.raises(FlowError, match="step 'connection': the queue 'nosuch' does not exist"):
        validate_queues(flow, Queue.objects.values_list("code", flat=True))
    version = IvrFlowVersion.objects.get()
    version.definition = flow
    with pytest.raises(ValidationError, match="nosuch"):
        version.clean()
    # a queue deleted after publishing: the engine puts the call in the default queue, with a warning
    call, _turn = engine.incoming_call(caller="+79990000009")
    with caplog.at_level("WARNING", logger="okno.contact_center.engine"):
        place = engine.enqueue(call, "nosuch")
    call.refresh_from_db()
    assert call.queue.code == "general" and call.queue.is_default and place.position == 1
    assert "nosuch" in caplog.text


def test_engine_errors_are_translated_messages(cc, org):
    from django.utils import translation

    call, _turn = engine.incoming_call(caller="+79990000009")
    with translation.override("en"), pytest.raises(engine.EngineError, match="Only a waiting call"):
        engine.request_callback(call)
    with pytest.raises(engine.EngineError, match="is not a state an agent chooses"):
        engine.set_agent_state(cc.alice, "on_call", actor=org.cc_operator)


def test_service_level_is_one_definition_on_the_wallboard_and_in_the_statistics(cc, org):
    """Worked by hand: one caller hangs up after 1 s (a short abandon, S = 5 s), one is answered at once:
    SL = 1 answered within / (2 offered − 1 short abandon) = 1.0 on both."""
    from okno.contact_center import stats

    short, _t = engine.incoming_call(caller="+79990000001")
    engine.enqueue(short, "general")
    engine.hangup(short)
    Call.objects.filter(pk=short.pk).update(ended_at=F("enqueued_at") + dt.timedelta(seconds=1))
    answered, _t = engine.incoming_call(caller="+79990000002")
    engine.enqueue(answered, "general")
    engine.set_agent_state(cc.alice, "available", actor=org.cc_operator)
    board = engine.wallboard()["general"]
    assert (board["offered"], board["answered"], board["short_abandons"]) == (2, 1, 1)
    assert board["service_level"] == 1.0
    now = timezone.now()
    report = stats.report(now - dt.timedelta(hours=1), now + dt.timedelta(hours=1))
    row = {r.key: r for r in report.rows}["general"]
    assert (row.offered, row.answered_within, row.short_abandons) == (2, 1, 1)
    assert row.service_level == 1.0 == board["service_level"]
    assert stats.service_level(1, 2, 1) == 1.0 and stats.SHORT_ABANDON_S == 5.0
