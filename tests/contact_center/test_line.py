"""The simulated line end to end: call as Иванов, hear the menu, press keys (one by one, the account
number gathered until #), go to the operator, hear the place in the queue, ask for a callback, hang up;
who may open it."""

from __future__ import annotations

import pytest

from okno.contact_center.flows import ensure_defaults
from okno.contact_center.models import Agent, Call, Callback, Queue, Skill

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.contact_center.line_urls")]

IVANOV_PHONE = "+79123456789"


@pytest.fixture
def line(client, org, customers):
    ensure_defaults()
    client.force_login(org.cc_operator)
    return client


def _call():
    return Call.objects.latest("started_at")


def test_start_page_lists_demo_numbers_and_rejects_a_bad_number(line):
    page = line.get("/cc/line/")
    assert page.status_code == 200
    assert IVANOV_PHONE in page.content.decode()
    bad = line.post("/cc/line/", {"number": "12"})
    assert bad.status_code == 400
    assert "Enter a phone number" in bad.content.decode()
    assert 'aria-describedby="number_error"' in bad.content.decode()


def test_call_through_the_menu_to_the_queue_and_a_callback(line, customers):
    response = line.post("/cc/line/", {"picked": IVANOV_PHONE})
    call = _call()
    assert response.status_code == 302 and response["Location"] == f"/cc/line/{call.uid}/"
    page = line.get(response["Location"]).content.decode()
    assert "Hello! You have called the electric grid company." in page
    assert "press 1" in page and "Press one key." in page
    assert call.customer_id == customers.ivanov.pk

    url = f"/cc/line/{call.uid}/"
    line.post(url, {"key": "3"})  # balance
    page = line.get(url).content.decode()
    assert "has no debt" in page and "pressed 3" in page
    line.post(url, {"key": "1"})  # a question about the bill: the billing queue
    call.refresh_from_db()
    assert call.outcome == "queued" and call.queue.code == "billing"
    page = line.get(url).content.decode()
    assert "You are number 1 in the queue." in page
    assert "Call me back instead" in page  # nobody is logged on
    assert 'http-equiv="refresh"' in page

    line.post(url, {"action": "callback"})
    call.refresh_from_db()
    callback = Callback.objects.get(call=call)
    assert call.outcome == "callback" and callback.number == IVANOV_PHONE
    page = line.get(url).content.decode()
    assert f"We will call you back at {IVANOV_PHONE}" in page
    assert "The call is over." in page


def test_account_number_is_gathered_key_by_key(line, customers):
    line.post("/cc/line/", {"number": "+7 999 000-00-01"})
    call = _call()
    url = f"/cc/line/{call.uid}/"
    line.post(url, {"key": "3"})
    assert "enter your account number" in line.get(url).content.decode()
    for digit in customers.acc_ivanov.number:
        line.post(url, {"key": digit})
    page = line.get(url).content.decode()
    assert customers.acc_ivanov.number in page  # keyed so far
    line.post(url, {"key": "#"})
    page = line.get(url).content.decode()
    assert "Thank you, your account is found." in page
    call.refresh_from_db()
    assert call.account_id == customers.acc_ivanov.pk


def test_an_available_operator_answers_and_the_caller_hangs_up(line, org):
    agent = Agent.objects.create(user=org.cc_operator, extension="101", state="available")
    Skill.objects.create(agent=agent, queue=Queue.objects.get(code="general"))
    line.post("/cc/line/", {"picked": IVANOV_PHONE})
    call = _call()
    url = f"/cc/line/{call.uid}/"
    line.post(url, {"key": "0"})
    call.refresh_from_db()
    assert call.outcome == "answered" and call.agent_id == agent.pk
    assert "is on the line" in line.get(url).content.decode()
    line.post(url, {"action": "hangup"})
    call.refresh_from_db()
    agent.refresh_from_db()
    assert call.ended_at is not None and agent.state == "wrap_up"


def test_typed_digits_and_silence(line):
    line.post("/cc/line/", {"picked": IVANOV_PHONE})
    call = _call()
    url = f"/cc/line/{call.uid}/"
    line.post(url, {"action": "silence"})
    assert "The choice was not recognised." in line.get(url).content.decode()
    line.post(url, {"action": "digits", "digits": "9"})
    call.refresh_from_db()
    assert call.outcome == "self_service"


def test_only_call_handlers_open_the_line(client, org, settings):
    settings.DEBUG = False
    assert client.get("/cc/line/").status_code == 302
    client.force_login(org.specialist_a1)
    assert client.get("/cc/line/").status_code == 403


def test_a_flow_naming_a_deleted_queue_still_puts_the_caller_through(line, org):
    import copy

    from django.test import Client

    from okno.contact_center.flows import MAIN_FLOW
    from okno.contact_center.models import IvrFlowVersion

    flow = copy.deepcopy(MAIN_FLOW)
    flow["steps"]["connection"]["queue"] = "nosuch"  # published before the queue was deleted
    IvrFlowVersion.objects.update(definition=flow)
    caller = Client(raise_request_exception=False)
    caller.force_login(org.cc_operator)
    url = caller.post("/cc/line/", {"picked": IVANOV_PHONE})["Location"]
    response = caller.post(url, {"key": "5"})
    assert response.status_code == 302
    call = _call()
    assert call.outcome == "queued" and call.queue.code == "general"
    assert "You are number 1" in caller.get(url).content.decode()


def test_an_engine_refusal_is_told_to_the_caller_and_the_call_goes_to_the_default_queue(line, monkeypatch):
    from okno.contact_center import engine, views_line

    real = engine.enqueue

    def refuse_named(call, queue):
        if queue:
            raise engine.EngineError("The connection queue is closed.")
        return real(call, queue)

    monkeypatch.setattr(views_line.engine, "enqueue", refuse_named)
    url = line.post("/cc/line/", {"picked": IVANOV_PHONE})["Location"]
    assert line.post(url, {"key": "5"}).status_code == 302
    call = _call()
    assert call.outcome == "queued" and call.queue.code == "general"
    assert "The connection queue is closed." in line.get(url).content.decode()
