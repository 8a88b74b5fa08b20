"""A Telegram update → the dialogue engine.

* ``message`` with text: the conversation of ``telegram:<chat id>`` that is not closed (a new one when
  there is none, its greeting sent first) answers it through :func:`engine.respond`. ``/start`` closes
  the open conversation and starts a new one. A message without text (a photo, a sticker) is passed on
  as its caption or as empty text, so the engine asks the person to write.
* ``callback_query`` (a press on an inline button): the button's value goes to :func:`engine.respond`
  and the press is acknowledged with ``answerCallbackQuery`` (the spinner on the button stops).
* Anything else (edited messages, channel posts, …) is recorded and ignored.

Every update is processed once: its ``update_id`` is stored in the same transaction as the engine's
work, so Telegram's repeat of an update that was answered is ignored, and an update whose processing
failed (500 to Telegram) is processed again when Telegram repeats it. The replies are not sent here:
the engine hands every bot, operator and system message of the conversation to
:func:`okno.assistant.dialogue.delivery.deliver` after the commit.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction

from okno.assistant.dialogue import engine
from okno.assistant.messenger.client import BotApi, BotApiError, NotConfigured
from okno.assistant.messenger.models import TelegramUpdate
from okno.assistant.messenger.outbox import choice_of, external_id
from okno.assistant.models import Conversation

log = logging.getLogger(__name__)

CHANNEL = "messenger"
START_COMMAND = "/start"
#: Longest text passed on from one message (Telegram's own limit is 4096).
MAX_TEXT = 4096


@dataclass(frozen=True)
class Outcome:
    """What became of one update: ``processed``, ``duplicate`` or ``ignored``."""

    status: str
    conversation: Conversation | None = None


def _language(sender: Any) -> str:
    code = str((sender or {}).get("language_code") or "") if isinstance(sender, dict) else ""
    return "en" if code.lower().startswith("en") else "ru"


def _serialize_chat(chat_id: Any) -> None:
    """Process one Telegram chat's updates one at a time until the transaction ends: Telegram posts
    updates over several connections at once, and two first messages of a chat must not start two
    conversations (PostgreSQL advisory lock; SQLite writes one transaction at a time anyway)."""
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(external_id(chat_id).encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def open_conversation(chat_id: Any) -> Conversation | None:
    return (
        Conversation.objects.filter(channel=CHANNEL, external_id=external_id(chat_id))
        .exclude(status=Conversation.Status.CLOSED)
        .order_by("-id")
        .first()
    )


def _conversation(chat_id: Any, language: str, *, fresh: bool = False) -> Conversation:
    current = open_conversation(chat_id)
    if current is not None and fresh:
        engine.close(current)
        current = None
    if current is None:
        current = engine.start(CHANNEL, external_id=external_id(chat_id), language=language)
    return current


def _respond(chat_id: Any, text: str, language: str) -> Conversation:
    conversation = _conversation(chat_id, language)
    try:
        engine.respond(conversation, text)
    except engine.ConversationClosed:  # closed by the idle job or an operator a moment ago
        conversation = _conversation(chat_id, language)
        engine.respond(conversation, text)
    return conversation


def _chat_id(chat: Any) -> int | str | None:
    if not isinstance(chat, dict):
        return None
    value = chat.get("id")
    return value if isinstance(value, int | str) and str(value).lstrip("-").isdigit() else None


def handle_update(update: dict[str, Any]) -> Outcome:
    """Process one update (idempotent by ``update_id``); raises on a failure so Telegram repeats it."""
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return Outcome("ignored")
    callback_to_answer = ""
    with transaction.atomic():
        message: dict[str, Any] = update["message"] if isinstance(update.get("message"), dict) else {}
        callback: dict[str, Any] = (
            update["callback_query"] if isinstance(update.get("callback_query"), dict) else {}
        )
        kind = "message" if message else "callback_query" if callback else "other"
        chat: Any = None
        if message:
            chat = message.get("chat")
        elif callback and isinstance(callback.get("message"), dict):
            chat = callback["message"].get("chat")
        chat_id = _chat_id(chat)
        try:
            with transaction.atomic():
                TelegramUpdate.objects.create(update_id=update_id, kind=kind, chat_id=str(chat_id or ""))
        except IntegrityError:
            return Outcome("duplicate")
        if chat_id is None or (isinstance(chat, dict) and chat.get("type", "private") != "private"):
            return Outcome("ignored")  # the bot talks in private chats only
        _serialize_chat(chat_id)
        if kind == "message":
            language = _language(message.get("from"))
            raw = message.get("text")
            if not isinstance(raw, str):
                raw = message.get("caption")
            text = raw[:MAX_TEXT] if isinstance(raw, str) else ""
            if text.strip().split("@")[0] == START_COMMAND or text.strip().startswith(START_COMMAND + " "):
                return Outcome("processed", _conversation(chat_id, language, fresh=True))
            return Outcome("processed", _respond(chat_id, text, language))
        if kind == "callback_query":
            callback_to_answer = str(callback.get("id") or "")
            data = callback.get("data")
            value = choice_of(data, chat_id) if isinstance(data, str) else None
            if value is None:
                conversation = None
            else:
                conversation = _respond(chat_id, value, _language(callback.get("from")))
            outcome = Outcome("processed", conversation)
        else:
            return Outcome("ignored")
    if callback_to_answer:
        _answer_callback(callback_to_answer)
    return outcome


def _answer_callback(callback_query_id: str) -> None:
    try:
        BotApi.from_settings().answer_callback_query(callback_query_id)
    except NotConfigured:
        return
    except BotApiError as exc:  # only the button's spinner: nothing is lost
        log.warning("answerCallbackQuery %s failed: %s", callback_query_id, exc)
