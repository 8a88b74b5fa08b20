"""The agent desktop and the supervisors' wallboard: who may open them, the agent's state, the customer
card that pops up with a call, appeal registration from the card, wrap-up, and the wallboard's figures."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.urls import include, path, reverse
from django.utils import timezone

from okno.appeals.models import Appeal
from okno.contact_center import engine
from okno.contact_center.desktop_views import ivr_steps
from okno.contact_center.flows import ensure_defaults
from okno.contact_center.models import Agent, Call, CallEvent, Queue, Skill
from okno.notify.models import Notice, NoticeEvent
from okno.outages import actions as outage_actions
from okno.outages import lookup
from okno.urls import urlpatterns as _project
from tests.outages.conftest import grid  # noqa: F401  (the fixture)

# The project's URLs with the contact centre at /cc/, whether or not the lead has mounted it yet.
urlpatterns = [
    path("cc/", include("okno.contact_center.urls")),
    *[p for p in _project if "cc/" not in str(p.pattern)],
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

IVANOV_PHONE = "+79123456789"


@pytest.fixture
def cc(org):
    """Default queues, wrap-up codes and flow; cc_operator is an agent in every queue."""
    ensure_defaults()
    queues = {q.code: q for q in Queue.objects.all()}
    agent = Agent.objects.create(user=org.cc_operator, extension="101")
    for code in queues:
        Skill.objects.create(agent=agent, queue=queues[code], penalty=0)
    return type("CC", (), {"agent": agent, "queues": queues})


def _login(client, user):
    client.force_login(user)
    return client


def _call_to_agent(cc, caller=IVANOV_PHONE, queue="outage"):
    """A caller goes through the IVR start and is put in ``queue`` while the agent is available."""
    engine.set_agent_state(cc.agent, "available", actor=cc.agent.user)
    call, _turn = engine.incoming_call(caller=caller)
    placement = engine.enqueue(call, queue)
    assert placement.agent is not None and placement.agent.pk == cc.agent.pk
    call.refresh_from_db()
    return call


def _messages(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# ---------------------------------------------------------------- permissions


@pytest.mark.parametrize(
    ("persona", "desktop", "wallboard"),
    [
        ("cc_operator", 200, 403),
        ("operator_a", 200, 403),
        ("specialist_a1", 403, 403),
        ("dispatcher_a", 403, 403),
        ("head_a", 403, 200),
        ("branch_head_a", 403, 200),
        ("quality", 403, 200),
        ("security", 403, 403),
        ("admin", 200, 200),
    ],
)
def test_desktop_needs_call_handle_and_wallboard_call_supervise(client, org, cc, persona, desktop, wallboard):
    _login(client, getattr(org, persona))
    assert client.get(reverse("cc:desktop")).status_code == desktop
    assert client.get(reverse("cc:desktop_state_json")).status_code == desktop
    assert client.post(reverse("cc:desktop_state"), {"state": "available"}).status_code in (
        (302,) if desktop == 200 else (403,)
    )
    assert client.get(reverse("cc:wallboard")).status_code == wallboard
    assert client.get(reverse("cc:wallboard_json")).status_code == wallboard


def test_anonymous_visitors_are_sent_to_the_login_page(client, cc):
    for name in ("cc:desktop", "cc:desktop_state_json", "cc:wallboard", "cc:wallboard_json"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_staff_without_an_agent_row_are_told_to_ask_a_supervisor(client, org, cc):
    _login(client, org.operator_a)  # an operator, but not set up as an agent
    response = client.get(reverse("cc:desktop"))
    assert "You are not set up as an agent" in response.content.decode()
    assert client.get(reverse("cc:desktop_state_json")).json() == {
        "agent": False,
        "state": None,
        "state_since": None,
        "call": None,
        "call_phase": None,
    }
    response = client.post(reverse("cc:desktop_state"), {"state": "available"}, follow=True)
    assert "You are not set up as an agent" in " ".join(_messages(response))


# ---------------------------------------------------------------- agent state


def test_agent_changes_state_through_the_engine(client, org, cc):
    _login(client, org.cc_operator)
    assert cc.agent.state == "offline"
    response = client.post(reverse("cc:desktop_state"), {"state": "available"})
    assert response.status_code == 302 and response["Location"] == reverse("cc:desktop")
    cc.agent.refresh_from_db()
    assert cc.agent.state == "available"
    assert CallEvent.objects.filter(event="ADDMEMBER", agent="PJSIP/101").count() == len(cc.queues)
    data = client.get(reverse("cc:desktop_state_json")).json()
    assert (data["agent"], data["state"], data["call"]) == (True, "available", None)

    client.post(reverse("cc:desktop_state"), {"state": "break"})
    cc.agent.refresh_from_db()
    assert cc.agent.state == "break"
    page = client.get(reverse("cc:desktop")).content.decode()
    assert 'value="break" class="cc-break" aria-pressed="true"' in page


def test_agent_cannot_choose_on_call_or_leave_during_a_call(client, org, cc, customers):
    _login(client, org.cc_operator)
    response = client.post(reverse("cc:desktop_state"), {"state": "on_call"}, follow=True)
    assert "Choose available, break or offline." in _messages(response)
    _call_to_agent(cc)
    response = client.post(reverse("cc:desktop_state"), {"state": "offline"}, follow=True)
    assert "Finish the call and its wrap-up first." in _messages(response)
    cc.agent.refresh_from_db()
    assert cc.agent.state == "on_call"


def test_a_waiting_call_is_taken_at_once_when_the_agent_becomes_available(client, org, cc, customers):
    call, _turn = engine.incoming_call(caller=IVANOV_PHONE)
    placement = engine.enqueue(call, "general")
    assert placement.agent is None and placement.position == 1
    _login(client, org.cc_operator)
    response = client.post(reverse("cc:desktop_state"), {"state": "available"}, follow=True)
    assert f"A call from {IVANOV_PHONE} is yours now." in _messages(response)
    page = response.content.decode()
    assert f"Call from {IVANOV_PHONE}" in page
    assert "Иванов Пётр Сергеевич" in page
    cc.agent.refresh_from_db()
    assert cc.agent.state == "on_call"
    data = client.get(reverse("cc:desktop_state_json")).json()
    assert (data["state"], data["call"], data["call_phase"]) == ("on_call", str(call.uid), "talking")


# ---------------------------------------------------------------- the customer card


@pytest.fixture
def outage_at_ivanov(org, grid):  # noqa: F811
    lookup.invalidate_outages()
    etr = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(hours=3)
    outage = outage_actions.register_unplanned(
        node=grid.tp11, actor=org.dispatcher_a, cause="equipment", etr=etr, reason="повреждение кабеля"
    )
    lookup.invalidate_outages()
    return outage


def test_offered_call_pops_the_card_with_accounts_outage_appeals_notices_and_ivr_path(
    client, org, cc, customers, outage_at_ivanov, register
):
    appeal = register(text="Счёт пришёл дважды.", topic="billing", kind="complaint")
    event = NoticeEvent.objects.create(key="outage:test", template="outage_unplanned")
    Notice.objects.create(
        event=event,
        dedup_key="c1",
        channel="sms",
        recipient=IVANOV_PHONE,
        customer=customers.ivanov,
        subject="Отключение: восстановим к 18:00",
        status="delivered",
    )
    engine.set_agent_state(cc.agent, "available", actor=org.cc_operator)
    call, _turn = engine.incoming_call(caller="8 912 345-67-89")
    engine.ivr_input(call, "1")  # "no power": the IVR reads the outage, then the menu
    turn = engine.ivr_input(call, "1")  # "speak to an operator about it"
    assert turn.transfer_to == "outage"
    engine.enqueue(call, turn.transfer_to)
    call.refresh_from_db()
    assert call.agent_id == cc.agent.pk

    _login(client, org.cc_operator)
    response = client.get(reverse("cc:desktop"))
    page = response.content.decode()
    assert response.status_code == 200
    assert f"Call from {IVANOV_PHONE}" in page
    assert "Иванов Пётр Сергеевич" in page
    assert customers.acc_ivanov.number in page and "identified in the IVR" in page
    assert "Северск, ул. Ленина, д. 10, кв. 5" in page
    assert "no power now" in page and outage_at_ivanov.number in page
    etr = timezone.localtime(outage_at_ivanov.etr)
    assert f"restoration expected by {etr:%d.%m %H:%M}" in page
    assert appeal.number in page
    assert f"{timezone.localtime(appeal.deadline_at, org.a.tz):%d.%m.%Y %H:%M}" in page
    assert "Отключение: восстановим к 18:00" in page
    assert "menu [1] → outage → outage_menu [1] → outage_queue" in page
    # the registration form knows the call and has the identified account picked
    assert f'name="call" value="{call.uid}"' in page
    assert f'value="account:{customers.acc_ivanov.pk}" checked' in page
    card = response.context["card"]
    assert card.outages_now is True
    assert [a.match.account for a in card.power] == [customers.acc_ivanov.number]


def test_unknown_caller_gets_a_search_by_their_number_and_by_surname(client, org, cc, customers):
    call = _call_to_agent(cc, caller="+79990000001", queue="general")
    assert call.customer_id is None
    _login(client, org.cc_operator)
    page = client.get(reverse("cc:desktop")).content.decode()
    assert "Not identified by the calling number" in page
    assert 'value="+79990000001"' in page  # the search is pre-filled with the number
    page = client.get(reverse("cc:desktop"), {"q": "Иванов"}).content.decode()
    assert f'value="account:{customers.acc_ivanov.pk}"' in page


# ---------------------------------------------------------------- registration and wrap-up


def _appeal_post(call, customers, **extra):
    data = {
        "call": str(call.uid),
        "pick": f"account:{customers.acc_ivanov.pk}",
        "channel": "office",  # whatever is posted, the desktop registers contact-centre appeals
        "kind": "report",
        "topic": "outage",
        "text": "Нет света с утра, соседи тоже без света.",
        "contact_phone": call.caller,
    }
    data.update(extra)
    return data


def test_registering_from_the_card_creates_a_contact_centre_appeal_linked_to_the_call(
    client, org, cc, customers
):
    call = _call_to_agent(cc)
    _login(client, org.cc_operator)
    response = client.post(reverse("cc:desktop_register"), _appeal_post(call, customers), follow=True)
    appeal = Appeal.objects.get()
    assert (appeal.channel, appeal.kind, appeal.topic) == ("contact_center", "report", "outage")
    assert (appeal.account, appeal.customer) == (customers.acc_ivanov, customers.ivanov)
    assert appeal.registered_by == org.cc_operator
    assert any(m.startswith(f"Appeal {appeal.number} is registered") for m in _messages(response))
    assert f"The call will be linked to appeal {appeal.number}." in response.content.decode()

    response = client.post(
        reverse("cc:desktop_wrap_up"), {"call": str(call.uid), "code": "appeal"}, follow=True
    )
    assert "The call is wrapped up." in _messages(response)
    call.refresh_from_db()
    assert call.appeal == appeal
    assert call.wrapup_code is not None and call.wrapup_code.code == "appeal"
    assert call.ended_at is not None and call.wrapup_ended_at is not None
    assert CallEvent.objects.filter(call=call, event="COMPLETEAGENT").count() == 1
    cc.agent.refresh_from_db()
    assert cc.agent.state == "available"
    assert engine.current_call(cc.agent) is None


def test_registration_errors_keep_the_card_and_what_was_typed(client, org, cc, customers):
    call = _call_to_agent(cc)
    _login(client, org.cc_operator)
    response = client.post(
        reverse("cc:desktop_register"), _appeal_post(call, customers, text="", address_text="Ленина 10")
    )
    assert response.status_code == 400
    assert not Appeal.objects.exists()
    page = response.content.decode()
    assert "This field is required." in page
    assert 'value="Ленина 10"' in page and f"Call from {IVANOV_PHONE}" in page


def test_an_appeal_cannot_be_registered_on_someone_elses_call(client, org, cc, customers):
    _call_to_agent(cc)
    _login(client, org.cc_operator)
    response = client.post(
        reverse("cc:desktop_register"),
        _appeal_post(type("C", (), {"uid": uuid.uuid4(), "caller": ""}), customers),
        follow=True,
    )
    assert not Appeal.objects.exists()
    assert "This call is over; register the appeal from the Register page instead." in _messages(response)
    response = client.post(reverse("cc:desktop_wrap_up"), {"call": "not-a-uuid", "code": "info"}, follow=True)
    assert "This call is already wrapped up." in _messages(response)


def test_after_the_caller_hangs_up_the_agent_wraps_up_and_takes_the_next_call(client, org, cc, customers):
    call = _call_to_agent(cc, queue="general")
    nxt, _turn = engine.incoming_call(caller="+79990000002")
    assert engine.enqueue(nxt, "general").agent is None
    engine.hangup(call, by="caller")
    cc.agent.refresh_from_db()
    assert cc.agent.state == "wrap_up"
    _login(client, org.cc_operator)
    data = client.get(reverse("cc:desktop_state_json")).json()
    assert (data["state"], data["call"], data["call_phase"]) == ("wrap_up", str(call.uid), "wrap_up")
    page = client.get(reverse("cc:desktop")).content.decode()
    assert "Caller has left: wrap-up" in page and "Finish wrap-up" in page

    response = client.post(
        reverse("cc:desktop_wrap_up"), {"call": str(call.uid), "code": "info"}, follow=True
    )
    call.refresh_from_db()
    assert call.wrapup_code.code == "info" and call.appeal is None
    cc.agent.refresh_from_db()
    assert cc.agent.state == "on_call"  # the waiting call came straight to them
    assert "Call from +79990000002" in response.content.decode()


def test_wrap_up_needs_a_known_code(client, org, cc, customers):
    call = _call_to_agent(cc)
    _login(client, org.cc_operator)
    response = client.post(reverse("cc:desktop_wrap_up"), {"call": str(call.uid), "code": "nonsense"})
    assert response.status_code == 400
    call.refresh_from_db()
    assert call.wrapup_ended_at is None and call.ended_at is None


# ---------------------------------------------------------------- the wallboard


def test_wallboard_json_after_three_calls_one_abandoned(client, org, cc, customers):
    engine.set_agent_state(cc.agent, "available", actor=org.cc_operator)
    first, _t = engine.incoming_call(caller=IVANOV_PHONE)
    assert engine.enqueue(first, "general").agent is not None  # answered at once
    second, _t = engine.incoming_call(caller="+79990000002")
    assert engine.enqueue(second, "general").agent is None  # waits
    third, _t = engine.incoming_call(caller="+79990000003")
    assert engine.enqueue(third, "general").position == 2
    engine.hangup(third, by="caller")  # abandoned after waiting

    _login(client, org.head_a)
    data = client.get(reverse("cc:wallboard_json")).json()
    [general] = [q for q in data["queues"] if q["queue"] == "general"]
    assert (general["offered"], general["answered"], general["abandoned"]) == (3, 1, 1)
    assert general["waiting"] == 1 and general["longest_wait_s"] >= 0
    assert general["agents"]["on_call"] == 1 and general["agents"]["available"] == 0
    assert general["service_level"] == pytest.approx(0.5)  # 1 within the norm of 1 answered + 1 abandoned
    assert (general["target_answer_s"], general["target_service_level"]) == (20, 0.8)
    assert general["service_level_ok"] is False
    others = [q for q in data["queues"] if q["queue"] != "general"]
    assert all(q["offered"] == 0 and q["service_level"] is None for q in others)
    assert len(data["queues"]) == len(cc.queues)

    calls = {c["caller"]: c for c in data["calls"]}
    assert set(calls) == {IVANOV_PHONE, "+79990000002"}
    assert (
        calls[IVANOV_PHONE]["state"] == "talking"
        and calls[IVANOV_PHONE]["agent"] == org.cc_operator.short_name
    )
    assert calls[IVANOV_PHONE]["customer"] == "Иванов Пётр Сергеевич"
    assert calls["+79990000002"]["state"] == "waiting" and calls["+79990000002"]["agent"] == ""

    assert [(a["agent"], a["state"]) for a in data["agents"]] == [(org.cc_operator.short_name, "on_call")]

    page = client.get(reverse("cc:wallboard")).content.decode()
    assert "Общие вопросы" in page and "50%" in page and "norm 80% in 20 s" in page
    fragment = client.get(reverse("cc:wallboard"), {"fragment": "1"}).content.decode()
    assert "<html" not in fragment and "+79990000002" in fragment


def test_abandoned_call_leaves_the_live_list(client, org, cc):
    call, _t = engine.incoming_call(caller="+79990000004")
    engine.enqueue(call, "general")
    engine.hangup(call, by="caller")
    assert Call.objects.get(pk=call.pk).outcome == "abandoned"
    _login(client, org.quality)
    assert client.get(reverse("cc:wallboard_json")).json()["calls"] == []


# ---------------------------------------------------------------- helpers


def test_ivr_path_shows_the_digits_pressed_at_each_menu():
    assert ivr_steps(["greeting", "emergency", "menu", "1", "outage", "outage_menu", "0", "operator"]) == [
        "greeting",
        "emergency",
        "menu [1]",
        "outage",
        "outage_menu [0]",
        "operator",
    ]
    assert ivr_steps([]) == []
