"""What the site chat, the cabinet chat and the chat API share: the transcript as data, the rate limits,
the language of a new conversation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from okno.assistant.models import ChatMessage, Conversation
from okno.portal import abuse

#: Messages one IP address may send an hour (site, cabinet and API together).
MESSAGE_LIMIT = 120
#: Conversations one IP address may start an hour.
START_LIMIT = 20
WINDOW_S = 3600
MESSAGE_SCOPE = "chat-message"
START_SCOPE = "chat-start"
#: While one of these, the page polls for an operator's answer.
LIVE_STATUSES = frozenset({Conversation.Status.WAITING, Conversation.Status.OPERATOR})
#: Seconds between polls of the chat pages and the staff inbox.
POLL_S = 4

#: How the customer sees each author.
CUSTOMER_SIDE_LABELS: dict[str, Any] = {
    ChatMessage.Author.CUSTOMER: _("You"),
    ChatMessage.Author.BOT: _("Assistant"),
    ChatMessage.Author.OPERATOR: _("Operator"),
    ChatMessage.Author.SYSTEM: _("Notice"),
}


def message_limit() -> int:
    return int(getattr(settings, "OKNO_CHAT_MESSAGE_LIMIT", MESSAGE_LIMIT))


def start_limit() -> int:
    return int(getattr(settings, "OKNO_CHAT_START_LIMIT", START_LIMIT))


def over_message_limit(request: HttpRequest) -> bool:
    return abuse.ip_over_limit(request, MESSAGE_SCOPE, limit=message_limit(), window_s=WINDOW_S)


def over_start_limit(request: HttpRequest) -> bool:
    return abuse.ip_over_limit(request, START_SCOPE, limit=start_limit(), window_s=WINDOW_S)


def language() -> str:
    """The language of the page the conversation starts on ("ru" or "en")."""
    return "en" if (translation.get_language() or "ru").lower().startswith("en") else "ru"


def clean_choices(raw: Any) -> list[dict[str, str]]:
    """The choices of a message as ``[{"label", "value"}]`` strings (whatever the JSON holds)."""
    out = []
    for item in raw or []:
        if isinstance(item, dict) and item.get("value") not in (None, ""):
            out.append({"label": str(item.get("label") or item["value"]), "value": str(item["value"])})
    return out


def chosen_labels(messages: list[ChatMessage]) -> dict[int, str]:
    """Customer message id → the label of the button it chose, for the messages whose text is the value
    of a choice the last answer before them offered (a press stores the value; people read the label)."""
    out: dict[int, str] = {}
    if not messages:
        return out
    first = messages[0]
    offered: dict[str, str] = {}
    before = (
        ChatMessage.objects.filter(conversation_id=first.conversation_id, id__lt=first.pk)
        .exclude(author=ChatMessage.Author.CUSTOMER)
        .order_by("-id")
        .only("choices")
        .first()
    )
    if before is not None:
        offered = {c["value"]: c["label"] for c in clean_choices(before.choices)}
    for message in messages:
        if message.author == ChatMessage.Author.CUSTOMER:
            if message.text in offered:
                out[message.pk] = offered[message.text]
        else:
            offered = {c["value"]: c["label"] for c in clean_choices(message.choices)}
    return out


def messages_data(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    labels = chosen_labels(messages)
    return [message_data(m, labels.get(m.pk)) for m in messages]


def message_data(message: ChatMessage, display: str | None = None) -> dict[str, Any]:
    """One message as JSON for the API and the pages' scripts (the text is plain text, never HTML).

    ``display`` is what to show: the text, or for a pressed button its label (``text`` keeps the value)."""
    return {
        "id": message.pk,
        "author": message.author,
        "author_label": str(CUSTOMER_SIDE_LABELS.get(message.author, message.author)),
        "text": message.text,
        "display": display if display is not None else message.text,
        "choices": clean_choices(message.choices),
        "created_at": message.created_at.isoformat(),
    }


@dataclass(frozen=True)
class Line:
    """A message as the chat page shows it."""

    message: ChatMessage
    label: str
    choices: list[dict[str, str]]
    display: str


def transcript(messages: Iterable[ChatMessage]) -> tuple[list[Line], list[dict[str, str]]]:
    """The lines of a conversation and the choices still open (those of the last message, when it is not
    the customer's and offers any)."""
    items = list(messages)
    labels = chosen_labels(items)
    lines = [
        Line(
            m,
            str(CUSTOMER_SIDE_LABELS.get(m.author, m.author)),
            clean_choices(m.choices),
            labels.get(m.pk, m.text),
        )
        for m in items
    ]
    open_choices = (
        lines[-1].choices if lines and lines[-1].message.author != ChatMessage.Author.CUSTOMER else []
    )
    return lines, open_choices
