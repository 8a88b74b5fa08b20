"""The chat API: anonymous by the conversation's secret id; 400, 404, 409 and 429 as problem+json."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from okno.assistant.models import ChatMessage, Conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


def _start(api) -> dict:
    response = api.post("/api/v1/chat/conversations/", {}, format="json")
    assert response.status_code == 201
    return response.json()


def test_start_returns_the_public_id_and_the_greeting(api):
    body = _start(api)

    conversation = Conversation.objects.get()
    assert body["public_id"] == str(conversation.public_id)
    assert conversation.channel == "chat"
    assert body["status"] == "bot"
    greeting = conversation.messages.get()
    assert body["messages"] == [
        {
            "id": greeting.pk,
            "author": "bot",
            "author_label": "Assistant",
            "text": greeting.text,
            "display": greeting.text,
            "choices": [{"label": c["label"], "value": c["value"]} for c in greeting.choices],
            "created_at": body["messages"][0]["created_at"],
        }
    ]


def test_send_answers_and_poll_reads_after_an_id(api):
    body = _start(api)
    url = f"/api/v1/chat/conversations/{body['public_id']}/messages/"

    sent = api.post(url, {"text": "привет"}, format="json")

    assert sent.status_code == 201
    new = sent.json()["messages"]
    assert new[0]["author"] == "customer" and new[0]["text"] == "привет"
    assert len(new) >= 2 and all(m["author"] != "customer" for m in new[1:])
    polled = api.get(url, {"after": body["messages"][-1]["id"]})
    assert polled.status_code == 200
    assert [m["id"] for m in polled.json()["messages"]] == [m["id"] for m in new]
    assert api.get(url, {"after": new[-1]["id"]}).json()["messages"] == []


def test_a_pressed_choice_is_displayed_with_its_label(api):
    body = _start(api)
    choice = body["messages"][-1]["choices"][0]

    sent = api.post(
        f"/api/v1/chat/conversations/{body['public_id']}/messages/", {"text": choice["value"]}, format="json"
    ).json()

    assert sent["messages"][0]["text"] == choice["value"]
    assert sent["messages"][0]["display"] == choice["label"]


def test_bad_input_is_400_with_field_errors_and_saves_nothing(api):
    body = _start(api)
    url = f"/api/v1/chat/conversations/{body['public_id']}/messages/"

    missing = api.post(url, {}, format="json")
    wrong_type = api.post(url, {"text": 5}, format="json")
    too_long = api.post(url, {"text": "a" * 10_001}, format="json")
    not_object = api.post(url, ["text"], format="json")
    bad_after = api.get(url, {"after": "yesterday"})

    assert missing.status_code == 400
    assert missing["Content-Type"] == "application/problem+json"
    assert missing.json()["errors"] == {"text": ["This field is required."]}
    assert wrong_type.status_code == 400
    assert wrong_type.json()["errors"] == {"text": ["Not a valid string."]}
    assert too_long.status_code == 400
    assert "text" in too_long.json()["errors"]
    assert not_object.status_code == 400
    assert bad_after.status_code == 400
    assert bad_after.json()["errors"] == {"after": ["A whole number."]}
    assert ChatMessage.objects.filter(author="customer").count() == 0


def test_unknown_or_foreign_channel_ids_are_404(api, ivanov_user):
    from okno.assistant.dialogue import engine

    cabinet = engine.start("cabinet", cabinet_user=ivanov_user)

    for public_id in (uuid.uuid4(), "not-a-uuid", cabinet.public_id):
        url = f"/api/v1/chat/conversations/{public_id}/messages/"
        assert api.get(url).status_code == 404
        response = api.post(url, {"text": "привет"}, format="json")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
    assert not cabinet.messages.filter(author="customer").exists()


def test_closed_conversation_is_409_with_a_message(api, org):
    from okno.assistant.dialogue import engine

    body = _start(api)
    engine.close(Conversation.objects.get(), by=org.cc_operator)

    response = api.post(
        f"/api/v1/chat/conversations/{body['public_id']}/messages/", {"text": "ещё"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["detail"] == "This conversation has ended. Start a new one."
    assert response.json()["code"] == "conversation_closed"


def test_starts_over_the_ip_limit_are_429(api, settings):
    settings.OKNO_CHAT_START_LIMIT = 1
    _start(api)

    refused = api.post("/api/v1/chat/conversations/", {}, format="json")

    assert refused.status_code == 429
    assert "Retry-After" in refused
    assert Conversation.objects.count() == 1


def test_session_of_a_staff_member_is_not_needed_nor_used(api, org):
    api.force_login(org.cc_operator)

    assert api.post("/api/v1/chat/conversations/", {"language": "en"}, format="json").status_code == 201
    assert Conversation.objects.get().language == "en"


def test_schema_documents_the_chat_endpoints(api, org):
    api.force_login(org.operator_a)

    paths = api.get("/api/schema/?format=json").json()["paths"]

    assert "post" in paths["/api/v1/chat/conversations/"]
    assert {"get", "post"} <= set(paths["/api/v1/chat/conversations/{public_id}/messages/"])


def test_transcripts_are_never_cached(api):
    """After identification the transcript holds the balance and the account: no cache may keep it."""
    response = api.post("/api/v1/chat/conversations/", {}, format="json")
    url = f"/api/v1/chat/conversations/{response.json()['public_id']}/messages/"
    sent = api.post(url, {"text": "привет"}, format="json")
    polled = api.get(url)
    missing = api.get(f"/api/v1/chat/conversations/{uuid.uuid4()}/messages/")
    for r in (response, sent, polled, missing):
        assert "no-store" in r["Cache-Control"] and "private" in r["Cache-Control"], r.status_code
