"""The Telegram adapter against a fake Bot API on loopback: the webhook's secret, messages and button
presses answered with the exact JSON Telegram expects, repeats ignored, operators' answers delivered,
failed sends retried by the job."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from okno.assistant.messenger import outbox
from okno.assistant.messenger.models import TelegramOutbox, TelegramUpdate
from okno.assistant.models import ChatMessage, Conversation
from tests.assistant.channels.conftest import SECRET

pytestmark = pytest.mark.django_db

URL = "/assistant/telegram/webhook/"
CHAT = 777001


def _message(update_id: int, text: str, chat: int = CHAT) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1763900000,
            "chat": {"id": chat, "type": "private", "first_name": "Пётр"},
            "from": {"id": chat, "is_bot": False, "first_name": "Пётр", "language_code": "ru"},
            "text": text,
        },
    }


def _callback(update_id: int, data: str, chat: int = CHAT) -> dict:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb-{update_id}",
            "from": {"id": chat, "is_bot": False, "first_name": "Пётр", "language_code": "ru"},
            "message": {"message_id": 5, "date": 1763900000, "chat": {"id": chat, "type": "private"}},
            "chat_instance": "42",
            "data": data,
        },
    }


def _post(client, update, secret=SECRET):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret is not None else {}
    return client.post(URL, json.dumps(update), content_type="application/json", **headers)


def _keyboard(message: ChatMessage) -> dict:
    return {
        "inline_keyboard": [
            [{"text": c["label"], "callback_data": outbox.callback_data(message, i, c["value"])}]
            for i, c in enumerate(message.choices)
        ]
    }


def test_webhook_is_404_when_the_bot_is_not_configured(client, settings):
    settings.OKNO_TELEGRAM_TOKEN = ""
    settings.OKNO_TELEGRAM_WEBHOOK_SECRET = ""

    assert _post(client, _message(1, "привет"), secret="x").status_code == 404


def test_webhook_refuses_a_wrong_or_missing_secret(client, bot_api):
    assert _post(client, _message(1, "привет"), secret="wrong").status_code == 403
    assert _post(client, _message(2, "привет"), secret=None).status_code == 403
    assert Conversation.objects.count() == 0
    assert TelegramUpdate.objects.count() == 0
    assert bot_api.calls == []


def test_webhook_refuses_a_body_that_is_not_an_update(client, bot_api):
    response = client.post(
        URL, b"not json", content_type="application/json", HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET
    )

    assert response.status_code == 400


def test_message_starts_a_conversation_and_the_answers_go_out_as_send_message(
    client, bot_api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, _message(100, "привет"))

    assert response.status_code == 200
    assert response.json() == {"ok": True, "result": "processed"}
    conversation = Conversation.objects.get()
    assert conversation.channel == "messenger"
    assert conversation.external_id == f"telegram:{CHAT}"
    replies = list(conversation.messages.exclude(author="customer"))
    assert conversation.messages.filter(author="customer", text="привет").count() == 1
    expected = []
    for message in replies:
        body: dict = {"chat_id": str(CHAT), "text": message.text}
        if message.choices:
            body["reply_markup"] = _keyboard(message)
        expected.append(body)
    assert bot_api.sent() == expected
    assert any("reply_markup" in body for body in expected)  # the greeting's menu
    assert TelegramOutbox.objects.filter(status="sent").count() == len(replies)


def test_button_press_answers_and_acknowledges_the_callback(
    client, bot_api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, _message(200, "привет"))
    conversation = Conversation.objects.get()
    offered = conversation.messages.exclude(author="customer").exclude(choices=[]).last()
    choice = offered.choices[0]
    before = len(bot_api.sent())

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, _callback(201, outbox.callback_data(offered, 0, choice["value"])))

    assert response.status_code == 200
    assert conversation.messages.filter(author="customer").last().text == choice["value"]
    assert bot_api.sent("answerCallbackQuery") == [{"callback_query_id": "cb-201"}]
    new_replies = list(conversation.messages.filter(pk__gt=offered.pk).exclude(author="customer"))
    assert new_replies
    assert [b["text"] for b in bot_api.sent()[before:]] == [m.text for m in new_replies]


def test_long_choice_values_travel_as_a_reference_within_64_bytes(bot_api):
    from okno.assistant.dialogue import engine

    conversation = engine.start("messenger", external_id=f"telegram:{CHAT}")
    message = ChatMessage.objects.create(
        conversation=conversation,
        author="bot",
        text="Выберите",
        choices=[{"label": "Длинный", "value": "адрес:" + "я" * 60}, {"label": "Короткий", "value": "ok"}],
    )

    body = outbox.payloads(message, str(CHAT))[-1]

    keys = [row[0]["callback_data"] for row in body["reply_markup"]["inline_keyboard"]]
    assert keys == [f"#{message.pk}:0", "ok"]
    assert all(len(k.encode("utf-8")) <= 64 for k in keys)
    assert outbox.choice_of(keys[0]) == "адрес:" + "я" * 60
    assert outbox.choice_of(f"#{message.pk}:9") is None
    assert outbox.choice_of(keys[0], CHAT) == "адрес:" + "я" * 60
    assert outbox.choice_of(keys[0], 999) is None  # a reference to another chat's message names nothing


def test_a_repeated_update_id_is_processed_once(client, bot_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(client, _message(300, "привет"))
    sent = len(bot_api.sent())

    with django_capture_on_commit_callbacks(execute=True):
        again = _post(client, _message(300, "привет"))

    assert first.json()["result"] == "processed"
    assert again.status_code == 200
    assert again.json()["result"] == "duplicate"
    assert ChatMessage.objects.filter(author="customer").count() == 1
    assert len(bot_api.sent()) == sent


def test_start_command_begins_a_new_conversation(client, bot_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, _message(400, "привет"))
        _post(client, _message(401, "/start"))

    old, new = Conversation.objects.order_by("id")
    assert old.status == "closed"
    assert new.status == "bot"
    assert not new.messages.filter(author="customer").exists()
    assert bot_api.sent()[-1]["text"] == new.messages.get().text


def test_operator_reply_is_delivered_to_telegram(client, bot_api, org, django_capture_on_commit_callbacks):
    from okno.assistant.dialogue import engine

    with django_capture_on_commit_callbacks(execute=True):
        _post(client, _message(500, "соедините с оператором"))
    conversation = Conversation.objects.get()
    assert conversation.status == "waiting"
    client.force_login(org.cc_operator)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/assistant/chats/{conversation.pk}/take/")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/assistant/chats/{conversation.pk}/reply/", {"text": "Добрый день! Чем помочь?"})

    assert bot_api.sent()[-1] == {
        "chat_id": str(CHAT),
        "text": "Оператор: Добрый день! Чем помочь?",
    }  # the chat's language (ru)
    joined = conversation.messages.filter(author="system").last()
    assert {"chat_id": str(CHAT), "text": joined.text} in bot_api.sent()
    del engine


def test_failed_send_is_kept_and_retried_by_the_job_in_order(
    client, bot_api, django_capture_on_commit_callbacks
):
    from okno.core import jobs

    bot_api.fail_next = 1  # the first sendMessage fails with 502
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, _message(600, "привет"))
    conversation = Conversation.objects.get()
    replies = list(conversation.messages.exclude(author="customer"))
    rows = list(TelegramOutbox.objects.order_by("id"))
    assert [r.status for r in rows] == ["pending"] * len(rows)  # the later ones wait behind the failed one
    assert rows[0].attempts == 1 and "502" in rows[0].last_error
    assert bot_api.sent() == []

    # Not due yet: nothing is sent.
    assert outbox.send_due()["sent"] == 0
    TelegramOutbox.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
    jobs.autodiscover()  # as the worker does: the job is registered through okno.assistant.tasks
    assert jobs.REGISTRY["assistant.telegram_outbox"].func() == {
        "sent": len(rows),
        "retry": 0,
        "failed": 0,
        "skipped": 0,
    }

    assert [r.status for r in TelegramOutbox.objects.order_by("id")] == ["sent"] * len(rows)
    greeting_texts = [b["text"] for b in bot_api.sent()]
    assert greeting_texts == [m.text for m in replies]


def test_a_blocked_bot_fails_for_good_and_the_inbox_shows_it(
    client, bot_api, org, django_capture_on_commit_callbacks
):
    bot_api.fail_next = 10
    bot_api.fail_status = 403
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, _message(700, "привет"))
    conversation = Conversation.objects.get()

    rows = list(TelegramOutbox.objects.order_by("id"))
    assert rows[0].status == "failed" and "403" in rows[0].last_error
    client.force_login(org.cc_operator)
    page = client.get(f"/assistant/chats/{conversation.pk}/").content.decode()
    assert "Not delivered to the messenger." in page


def test_send_pending_command_and_set_webhook(bot_api, capsys):
    call_command("telegram", "set-webhook", "--url", "https://okno.example/assistant/telegram/webhook/")

    assert bot_api.calls[-1] == (
        "setWebhook",
        {
            "url": "https://okno.example/assistant/telegram/webhook/",
            "secret_token": SECRET,
            "allowed_updates": ["message", "callback_query"],
        },
    )
    call_command("telegram", "send-pending")
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {
        "failed": 0,
        "retry": 0,
        "sent": 0,
        "skipped": 0,
    }


def test_long_text_is_split_under_telegrams_limit():
    parts = outbox.split_text(("слово " * 1000).strip())

    assert len(parts) == 2
    assert all(len(p) <= 4096 for p in parts)
    assert " ".join(parts) == ("слово " * 1000).strip()


# --- review regressions -------------------------------------------------------------------------------


def test_operator_reply_is_in_the_outbox_even_when_the_send_after_commit_never_runs(
    client, bot_api, org, django_capture_on_commit_callbacks
):
    """The outbox rows commit with the message: a worker dying right after the commit (its on-commit
    send never runs) leaves the answer pending for the retry job instead of losing it."""
    from okno.assistant.dialogue import engine

    with django_capture_on_commit_callbacks(execute=True):
        _post(client, _message(510, "соедините с оператором"))
    conversation = Conversation.objects.get()
    sent_before = len(bot_api.sent())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reply = engine.operator_reply(conversation, org.cc_operator, "Свет дадут к 18:00")
    assert callbacks  # the send was only scheduled …
    assert len(bot_api.sent()) == sent_before  # … and never ran
    rows = list(TelegramOutbox.objects.filter(message=reply))
    assert [(r.status, r.chat_id) for r in rows] == [("pending", str(CHAT))]
    assert outbox.send_due()["sent"] == 2  # the retry job: "operator joined" and the answer
    assert bot_api.sent()[-1] == {
        "chat_id": str(CHAT),
        "text": "Оператор: Свет дадут к 18:00",
    }  # the chat's language (ru)


def test_a_failure_to_queue_rolls_the_operator_reply_back(client, bot_api, org, monkeypatch):
    """Nothing half-saved: an answer the outbox could not take is not in the transcript either (the
    operator gets the error and sends it again), never shown as sent while it was never queued."""
    from okno.assistant.dialogue import engine

    _post(client, _message(511, "соедините с оператором"))
    conversation = Conversation.objects.get()

    def broken(message):
        raise RuntimeError("database gone")

    monkeypatch.setattr(outbox, "queue", broken)
    with pytest.raises(RuntimeError):
        engine.operator_reply(conversation, org.cc_operator, "Ответ")
    conversation.refresh_from_db()
    assert not conversation.messages.filter(author="operator").exists()
    assert conversation.status == "waiting" and conversation.operator_id is None


def test_a_message_with_a_nul_character_is_answered_not_failed(
    client, bot_api, django_capture_on_commit_callbacks
):
    """A 500 would make Telegram repeat the update again and again; the text is kept without the NUL."""
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, _message(512, "есть свет\u0000?"))
    assert response.status_code == 200
    assert response.json() == {"ok": True, "result": "processed"}
    conversation = Conversation.objects.get()
    assert conversation.messages.get(author="customer").text == "есть свет?"
    assert bot_api.sent()[-1]["text"] == conversation.messages.order_by("-id").first().text


def test_updates_of_one_chat_are_processed_one_at_a_time_on_postgresql(client, bot_api):
    """Telegram posts over several connections: the chat's updates take a per-chat transaction lock, so
    two first messages cannot start two conversations."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        _post(client, _message(513, "привет"))
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time")
    locks = [q["sql"] for q in queries.captured_queries if "pg_advisory_xact_lock" in q["sql"]]
    assert len(locks) == 1
    assert Conversation.objects.filter(external_id=f"telegram:{CHAT}").count() == 1
