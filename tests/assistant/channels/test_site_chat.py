"""The public site's chat without JavaScript: form posts, redirects, the transcript rendered on the server."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from okno.assistant.models import ChatMessage, Conversation
from okno.outages import actions as outage_actions

pytestmark = pytest.mark.django_db


def _log(html: str) -> list[tuple[str, str]]:
    """(author class, text) of every message in the rendered transcript."""
    items = re.findall(
        r'<li class="chat-msg chat-(\w+)" data-id="\d+">.*?<div class="chat-text">(.*?)</div>', html, re.S
    )
    return [(author, text.strip()) for author, text in items]


def test_page_without_conversation_offers_the_form_and_creates_nothing(client):
    response = client.get("/chat/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="chat-form"' in html
    assert 'aria-live="polite"' in html
    assert '<label for="chat-text">' in html
    assert Conversation.objects.count() == 0


def test_round_trip_power_question_answered_from_the_outage_data(client, org, grid):  # noqa: F811
    outage = outage_actions.register_unplanned(node=grid.tp11, actor=org.dispatcher_a)

    response = client.post("/chat/", {"text": "есть ли свет на Ленина 10"})

    assert response.status_code == 302
    assert response["Location"] == "/chat/#chat-end"
    conversation = Conversation.objects.get()
    assert conversation.channel == "chat"
    assert client.session["assistant_chat"] == str(conversation.public_id)
    page = client.get("/chat/").content.decode()
    log = _log(page)
    assert log[0][0] == "bot"  # the greeting
    assert log[1] == ("customer", "есть ли свет на Ленина 10")
    assert log[2][0] == "bot"
    assert "There is no power at" in log[2][1]
    assert outage.number in log[2][1]
    assert len(log) == conversation.messages.count()


def test_choice_buttons_are_submit_buttons_and_clicking_one_sends_its_value(client):
    client.post("/chat/", {"text": "привет"})
    conversation = Conversation.objects.get()
    last = conversation.messages.exclude(author="customer").last()
    page = client.get("/chat/").content.decode()
    assert last.choices, "the assistant offers choices"
    choice = last.choices[0]
    assert f'<button type="submit" name="text" value="{choice["value"]}"' in page

    client.post("/chat/", {"text": choice["value"]})

    customer = conversation.messages.filter(author="customer").last()
    assert customer.text == choice["value"]
    assert conversation.messages.filter(pk__gt=customer.pk).exclude(author="customer").exists()
    # The transcript shows the pressed button's label, not its value.
    assert ("customer", choice["label"]) in _log(client.get("/chat/").content.decode())


def test_hostile_text_is_shown_escaped(client):
    client.post("/chat/", {"text": '<script>alert("x")</script><img src=x onerror=alert(1)>'})

    page = client.get("/chat/").content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<img src=x" not in page


def test_honeypot_pretends_success_and_saves_nothing(client):
    response = client.post("/chat/", {"text": "есть ли свет", "website": "http://spam.example"})

    assert response.status_code == 302
    assert Conversation.objects.count() == 0
    assert ChatMessage.objects.count() == 0


def test_messages_over_the_ip_limit_are_refused(client, settings):
    settings.OKNO_CHAT_MESSAGE_LIMIT = 2
    assert client.post("/chat/", {"text": "один"}).status_code == 302
    assert client.post("/chat/", {"text": "два"}).status_code == 302

    refused = client.post("/chat/", {"text": "три"})

    assert refused.status_code == 429
    assert "Too many messages" in refused.content.decode()
    assert ChatMessage.objects.filter(author="customer").count() == 2


def test_too_long_text_is_refused_with_a_message_and_saves_nothing(client):
    response = client.post("/chat/", {"text": "а" * 10_001})

    assert response.status_code == 400
    assert "at most 10000 characters" in response.content.decode()
    assert ChatMessage.objects.count() == 0


def test_empty_text_gets_an_answer_and_is_stored(client):
    client.post("/chat/", {"text": ""})

    conversation = Conversation.objects.get()
    customer = conversation.messages.get(author="customer")
    assert customer.text == ""
    assert conversation.messages.filter(pk__gt=customer.pk, author="bot").exists()


def test_new_conversation_button_closes_the_old_one_and_starts_another(client):
    client.post("/chat/", {"text": "привет"})
    first = Conversation.objects.get()

    response = client.post(reverse("chat:site_new"))

    assert response.status_code == 302
    first.refresh_from_db()
    assert first.status == "closed"
    second = Conversation.objects.exclude(pk=first.pk).get()
    assert client.session["assistant_chat"] == str(second.public_id)
    page = client.get("/chat/").content.decode()
    assert len(_log(page)) == second.messages.count()


def test_closed_conversation_page_offers_a_new_one_and_a_post_starts_it(client, org):
    from okno.assistant.dialogue import engine

    client.post("/chat/", {"text": "привет"})
    first = Conversation.objects.get()
    engine.close(first, by=org.cc_operator)

    page = client.get("/chat/").content.decode()
    assert "This conversation has ended." in page
    assert 'id="chat-form"' not in page
    client.post("/chat/", {"text": "снова я"})
    assert Conversation.objects.exclude(pk=first.pk).get().messages.filter(text="снова я").exists()


def test_the_page_language_is_the_conversation_language(client):
    from django.test import Client

    client.post("/chat/", {"text": "hello"}, HTTP_ACCEPT_LANGUAGE="en")
    Client().post("/chat/", {"text": "привет"}, HTTP_ACCEPT_LANGUAGE="ru")

    assert sorted(Conversation.objects.values_list("language", flat=True)) == ["en", "ru"]


def test_public_header_links_the_chat(client):
    page = client.get("/").content.decode()

    assert 'href="/chat/"' in page
