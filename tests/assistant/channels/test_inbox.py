"""The staff inbox of chats: who may open it, take / answer / close, the answer reaching the customer."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from okno.assistant.models import Conversation
from okno.core.models import AccessLog

pytestmark = pytest.mark.django_db


def _waiting_site_conversation(api) -> tuple[dict, str]:
    body = api.post("/api/v1/chat/conversations/", {}, format="json").json()
    url = f"/api/v1/chat/conversations/{body['public_id']}/messages/"
    sent = api.post(url, {"text": "позовите оператора"}, format="json").json()
    assert sent["status"] == "waiting"
    return body, url


@pytest.fixture
def api():
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


def test_inbox_needs_call_handle(client, org):
    for user in (org.specialist_a1, org.quality, org.security):
        client.force_login(user)
        assert client.get("/assistant/chats/").status_code == 403
        assert client.post("/assistant/chats/1/take/").status_code == 403
    client.logout()
    assert client.get("/assistant/chats/")["Location"].startswith("/login/")


def test_take_reply_close_reach_the_customer_through_the_api_poll(client, api, org):
    body, url = _waiting_site_conversation(api)
    conversation = Conversation.objects.get()
    client.force_login(org.cc_operator)

    listing = client.get("/assistant/chats/").content.decode()
    assert f"/assistant/chats/{conversation.pk}/" in listing
    assert 'data-waiting-count="1"' in listing
    assert 'class="chat-badge"' in listing and ">1</span>" in listing  # the nav badge

    last_seen = api.get(url).json()["messages"][-1]["id"]
    assert client.post(f"/assistant/chats/{conversation.pk}/take/").status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == "operator" and conversation.operator == org.cc_operator
    client.post(f"/assistant/chats/{conversation.pk}/reply/", {"text": "Здравствуйте, слушаю вас."})

    polled = api.get(url, {"after": last_seen}).json()
    assert polled["status"] == "operator"
    assert polled["messages"][-1]["author"] == "operator"
    assert polled["messages"][-1]["text"] == "Здравствуйте, слушаю вас."
    assert polled["messages"][-1]["author_label"] == "Operator"
    mine = client.get("/assistant/chats/").content.decode()
    assert "My conversations" in mine and f"/assistant/chats/{conversation.pk}/" in mine

    client.post(f"/assistant/chats/{conversation.pk}/close/")
    conversation.refresh_from_db()
    assert conversation.status == "closed"
    assert api.get(url).json()["status"] == "closed"
    assert api.post(url, {"text": "ещё"}, format="json").status_code == 409


def test_only_the_operator_who_took_it_answers(client, api, org):
    _waiting_site_conversation(api)
    conversation = Conversation.objects.get()
    client.force_login(org.cc_operator)
    client.post(f"/assistant/chats/{conversation.pk}/take/")
    client.force_login(org.admin)

    page = client.get(f"/assistant/chats/{conversation.pk}/").content.decode()
    response = client.post(f"/assistant/chats/{conversation.pk}/reply/", {"text": "Это я"}, follow=True)

    assert 'id="reply-form"' not in page
    assert "Take the conversation first" in response.content.decode()
    assert not conversation.messages.filter(text="Это я").exists()


def test_empty_answer_is_refused_with_a_message(client, api, org):
    _waiting_site_conversation(api)
    conversation = Conversation.objects.get()
    client.force_login(org.cc_operator)
    client.post(f"/assistant/chats/{conversation.pk}/take/")
    count = conversation.messages.count()

    response = client.post(f"/assistant/chats/{conversation.pk}/reply/", {"text": ""}, follow=True)

    assert "This field is required." in response.content.decode()
    assert conversation.messages.count() == count


def test_conversation_page_links_the_customer_card_and_logs_the_access(client, org, customers, ivanov_user):
    from okno.assistant.dialogue import engine

    conversation = engine.start("cabinet", cabinet_user=ivanov_user)
    engine.respond(conversation, "оператор")
    client.force_login(org.cc_operator)

    page = client.get(f"/assistant/chats/{conversation.pk}/").content.decode()

    assert f'href="/customers/{customers.ivanov.pk}/"' in page
    assert customers.acc_ivanov.number in page
    assert AccessLog.objects.filter(customer_id=customers.ivanov.pk, context="assistant:chat").count() == 1
    fragment = client.get(f"/assistant/chats/{conversation.pk}/?fragment=1").content.decode()
    assert "<html" not in fragment and "оператор" in fragment


def test_hostile_text_is_escaped_in_the_inbox(client, api, org):
    body, url = _waiting_site_conversation(api)
    api.post(url, {"text": "<b onmouseover=alert(1)>hi</b>"}, format="json")
    conversation = Conversation.objects.get()
    client.force_login(org.cc_operator)

    page = client.get(f"/assistant/chats/{conversation.pk}/").content.decode()
    listing = client.get("/assistant/chats/?fragment=1").content.decode()

    assert "<b onmouseover" not in page and "&lt;b onmouseover=alert(1)&gt;" in page
    assert "<b onmouseover" not in listing


def test_another_operator_cannot_close_a_colleagues_conversation(client, api, org):
    _waiting_site_conversation(api)
    conversation = Conversation.objects.get()
    client.force_login(org.cc_operator)
    client.post(f"/assistant/chats/{conversation.pk}/take/")
    client.force_login(org.operator_a)

    page = client.get(f"/assistant/chats/{conversation.pk}/").content.decode()
    response = client.post(f"/assistant/chats/{conversation.pk}/close/", follow=True)

    assert f"/assistant/chats/{conversation.pk}/close/" not in page
    assert "only they close it" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.status == "operator" and conversation.operator == org.cc_operator
    # The operator who holds it closes it.
    client.force_login(org.cc_operator)
    client.post(f"/assistant/chats/{conversation.pk}/close/")
    conversation.refresh_from_db()
    assert conversation.status == "closed"
