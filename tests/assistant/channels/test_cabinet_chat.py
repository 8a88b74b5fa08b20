"""The cabinet's chat: bound to the signed-in cabinet user; another user's conversation is a 404."""

from __future__ import annotations

import pytest

from okno.assistant.models import Conversation
from tests.portal.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get("/cabinet/chat/")

    assert response.status_code == 302
    assert response["Location"].startswith("/cabinet/login/?next=")


def test_first_message_starts_a_cabinet_conversation_bound_to_the_user(client, ivanov_user, customers):
    sign_in(client, ivanov_user)
    assert client.get("/cabinet/chat/").status_code == 200

    response = client.post("/cabinet/chat/", {"text": "какой у меня баланс"})

    conversation = Conversation.objects.get()
    assert conversation.channel == "cabinet"
    assert conversation.cabinet_user == ivanov_user
    assert conversation.customer == customers.ivanov
    assert response.status_code == 302
    assert response["Location"] == f"/cabinet/chat/{conversation.public_id}/#chat-end"
    page = client.get(f"/cabinet/chat/{conversation.public_id}/").content.decode()
    assert "какой у меня баланс" in page
    assert conversation.messages.filter(author="bot").count() >= 2
    # The cabinet page goes on with the open conversation.
    assert client.get("/cabinet/chat/")["Location"] == f"/cabinet/chat/{conversation.public_id}/"


def test_other_users_conversation_is_404_for_page_post_and_poll(client, ivanov_user, romashka_user):
    from okno.assistant.dialogue import engine

    theirs = engine.start("cabinet", cabinet_user=romashka_user)
    sign_in(client, ivanov_user)

    assert client.get(f"/cabinet/chat/{theirs.public_id}/").status_code == 404
    assert client.post(f"/cabinet/chat/{theirs.public_id}/", {"text": "чужое"}).status_code == 404
    assert client.get(f"/cabinet/chat/{theirs.public_id}/messages/").status_code == 404
    assert not theirs.messages.filter(text="чужое").exists()


def test_site_conversation_id_is_not_a_cabinet_conversation(client, ivanov_user):
    from okno.assistant.dialogue import engine

    public = engine.start("chat")
    sign_in(client, ivanov_user)

    assert client.get(f"/cabinet/chat/{public.public_id}/").status_code == 404


def test_json_send_and_poll_for_the_page_script(client, ivanov_user):
    from okno.assistant.dialogue import engine

    sign_in(client, ivanov_user)
    mine = engine.start("cabinet", cabinet_user=ivanov_user)
    first_id = mine.messages.first().pk

    sent = client.post(
        f"/cabinet/chat/{mine.public_id}/",
        {"text": "оператор"},
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )

    assert sent.status_code == 201
    body = sent.json()
    assert body["messages"][0]["author"] == "customer"
    assert body["messages"][0]["text"] == "оператор"
    assert body["status"] == "waiting"
    polled = client.get(f"/cabinet/chat/{mine.public_id}/messages/?after={first_id}").json()
    assert [m["id"] for m in polled["messages"]] == [m["id"] for m in body["messages"]]
    assert polled["status"] == "waiting"
    assert client.get(f"/cabinet/chat/{mine.public_id}/messages/?after=x").status_code == 400


def test_new_conversation_closes_the_open_one(client, ivanov_user):
    from okno.assistant.dialogue import engine

    sign_in(client, ivanov_user)
    old = engine.start("cabinet", cabinet_user=ivanov_user)

    response = client.post("/cabinet/chat/new/")

    old.refresh_from_db()
    assert old.status == "closed"
    new = Conversation.objects.exclude(pk=old.pk).get()
    assert response["Location"] == f"/cabinet/chat/{new.public_id}/"


def test_cabinet_navigation_links_the_chat(client, ivanov_user):
    sign_in(client, ivanov_user)

    page = client.get("/cabinet/").content.decode()

    assert 'href="/cabinet/chat/"' in page


def test_first_message_over_the_limit_is_refused_with_a_message_not_swallowed(client, ivanov_user, settings):
    settings.OKNO_CHAT_MESSAGE_LIMIT = 0
    sign_in(client, ivanov_user)

    response = client.post("/cabinet/chat/", {"text": "какой у меня баланс"})

    assert response.status_code == 429
    assert "Too many messages from your address" in response.content.decode()
    assert not Conversation.objects.exists()


def test_a_repeated_first_post_goes_on_with_the_open_conversation(client, ivanov_user):
    sign_in(client, ivanov_user)

    client.post("/cabinet/chat/", {"text": "какой у меня баланс"})
    client.post("/cabinet/chat/", {"text": "какой у меня баланс"})  # a double click without the script

    conversation = Conversation.objects.get()
    assert conversation.messages.filter(author="customer", text="какой у меня баланс").count() == 2
