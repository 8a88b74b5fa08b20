"""What is sent to a Telegram chat: a chat message → ``sendMessage`` requests kept in the outbox until sent.

:func:`queue` turns one :class:`~okno.assistant.models.ChatMessage` into outbox rows (a text longer than
Telegram's 4096 characters is split; the message's choices become an inline keyboard on the last part,
``callback_data`` = the choice's value, or ``#<message id>:<index>`` when the value is longer than 64
bytes). :func:`send_due` sends the due rows of a chat in order; a failure that may pass (network, 429,
5xx, the bot not configured yet) is retried with a growing pause up to :data:`MAX_ATTEMPTS` times, a
failure that cannot (400, 403: the user blocked the bot) or the last attempt marks the row ``failed``
and logs it. A row is claimed by a conditional update before it is sent, so two workers never send it
twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from okno.assistant.messenger.client import MAX_CALLBACK_DATA, MAX_TEXT, BotApi, BotApiError, NotConfigured
from okno.assistant.messenger.models import TelegramOutbox
from okno.assistant.models import ChatMessage, Conversation

log = logging.getLogger(__name__)

PREFIX = "telegram:"
#: Attempts of one row before it is marked failed (pauses 30 s, 1, 2, 4, … minutes, at most an hour).
MAX_ATTEMPTS = 8
#: How long a claimed row is held by the worker sending it.
LEASE_S = 120


def external_id(chat_id: Any) -> str:
    return f"{PREFIX}{chat_id}"


def chat_id_of(conversation: Conversation) -> str | None:
    """The Telegram chat of a messenger conversation, or None for another messenger."""
    if conversation.external_id.startswith(PREFIX):
        return conversation.external_id[len(PREFIX) :] or None
    return None


def callback_data(message: ChatMessage, index: int, value: str) -> str:
    """The choice's value itself when it fits Telegram's 64 bytes, else a reference to it."""
    if value and len(value.encode("utf-8")) <= MAX_CALLBACK_DATA and not value.startswith("#"):
        return value
    return f"#{message.pk}:{index}"


def choice_of(data: str, chat_id: Any = None) -> str | None:
    """The value a ``#<message id>:<index>`` reference names — of a message sent to ``chat_id`` when
    given — or None when it names nothing; any other data is the value itself."""
    if not data.startswith("#"):
        return data
    try:
        pk_text, index_text = data[1:].split(":", 1)
        messages = ChatMessage.objects.filter(pk=int(pk_text))
        index = int(index_text)
    except ValueError:
        return None
    if chat_id is not None:
        messages = messages.filter(conversation__external_id=external_id(chat_id))
    message = messages.only("choices").first()
    if message is None or not (0 <= index < len(message.choices or [])):
        return None
    choice = message.choices[index]
    value = choice.get("value") if isinstance(choice, dict) else None
    return str(value) if value is not None else None


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Parts of at most ``limit`` characters, cut at a line break or a space where there is one."""
    text = text.strip() or "…"
    parts = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    parts.append(text)
    return parts


def payloads(message: ChatMessage, chat_id: str) -> list[dict[str, Any]]:
    """The ``sendMessage`` bodies of one chat message."""
    text = message.text
    if message.author == ChatMessage.Author.OPERATOR:
        with translation.override(message.conversation.language or "ru"):
            text = _("Operator: {text}").format(text=text)
    parts = split_text(text)
    bodies: list[dict[str, Any]] = [{"chat_id": chat_id, "text": part} for part in parts]
    keyboard = [
        [
            {
                "text": str(choice.get("label") or choice.get("value"))[:100],
                "callback_data": callback_data(message, index, str(choice.get("value") or "")),
            }
        ]
        for index, choice in enumerate(message.choices or [])
        if isinstance(choice, dict)
    ]
    if keyboard:
        bodies[-1]["reply_markup"] = {"inline_keyboard": keyboard}
    return bodies


def queue(message: ChatMessage) -> list[TelegramOutbox]:
    """Outbox rows for ``message`` (once: a second call finds the rows made by the first)."""
    conversation = message.conversation
    chat_id = chat_id_of(conversation)
    if chat_id is None:
        log.warning(
            "conversation %s: no Telegram chat in external id %r", conversation.pk, conversation.external_id
        )
        return []
    with transaction.atomic():
        existing = list(TelegramOutbox.objects.filter(message=message))
        if existing:
            return existing
        return [
            TelegramOutbox.objects.create(
                conversation=conversation, message=message, part=index, chat_id=chat_id, payload=body
            )
            for index, body in enumerate(payloads(message, chat_id))
        ]


def _pause(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def _claim(row: TelegramOutbox, now: dt.datetime) -> bool:
    return bool(
        TelegramOutbox.objects.filter(
            pk=row.pk, status=TelegramOutbox.Status.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=now + dt.timedelta(seconds=LEASE_S))
    )


def send_row(row: TelegramOutbox, api: BotApi | None, now: dt.datetime | None = None) -> str:
    """Try one claimed-or-due row: "sent", "retry", "failed" or "skipped" (someone else has it)."""
    now = now or timezone.now()
    if not _claim(row, now):
        return "skipped"
    attempts = row.attempts + 1
    try:
        if api is None:
            raise NotConfigured
        api.send_message(row.payload)
    except BotApiError as exc:
        final = not exc.retryable or attempts >= MAX_ATTEMPTS
        if isinstance(exc, NotConfigured):  # waits for the configuration without using up attempts
            attempts, final = row.attempts, False
        log_ = log.error if final else log.warning
        log_(
            "Telegram message %s to chat %s %s: %s",
            row.pk,
            row.chat_id,
            "failed" if final else "will be retried",
            exc,
        )
        TelegramOutbox.objects.filter(pk=row.pk).update(
            status=TelegramOutbox.Status.FAILED if final else TelegramOutbox.Status.PENDING,
            attempts=attempts,
            last_error=str(exc)[:2000],
            next_attempt_at=now + _pause(max(attempts, 1)),
        )
        return "failed" if final else "retry"
    TelegramOutbox.objects.filter(pk=row.pk).update(
        status=TelegramOutbox.Status.SENT, attempts=attempts, sent_at=timezone.now(), last_error=""
    )
    return "sent"


def send_due(
    *, chat_id: str | None = None, now: dt.datetime | None = None, limit: int = 500
) -> dict[str, int]:
    """Send the due pending rows (of one chat, or of all), each chat's rows in order.

    A chat stops at its first row that is to be retried, so its later messages never overtake it."""
    now = now or timezone.now()
    try:
        api: BotApi | None = BotApi.from_settings()
    except NotConfigured:
        api = None
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    rows = TelegramOutbox.objects.filter(status=TelegramOutbox.Status.PENDING)
    if chat_id is not None:
        rows = rows.filter(chat_id=chat_id)
    blocked: set[str] = set()
    # Chats whose oldest pending row is not due yet wait as a whole.
    for row in rows.order_by("id")[:limit]:
        if row.chat_id in blocked:
            continue
        if row.next_attempt_at > now:
            blocked.add(row.chat_id)
            continue
        outcome = send_row(row, api, now)
        counts[outcome] += 1
        if outcome in {"retry", "skipped"}:
            blocked.add(row.chat_id)
    return counts


def undelivered(conversation: Conversation) -> dict[int, str]:
    """Chat message id → outbox status, for the messages not (yet) sent."""
    rows = TelegramOutbox.objects.filter(conversation=conversation, message__isnull=False).filter(
        ~Q(status=TelegramOutbox.Status.SENT)
    )
    out: dict[int, str] = {}
    for message_id, status in rows.values_list("message_id", "status"):
        if out.get(message_id) != TelegramOutbox.Status.FAILED:
            out[message_id] = status
    return out
