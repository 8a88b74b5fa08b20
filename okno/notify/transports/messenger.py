"""Messenger bots: the adapter interface and a generic signed-webhook adapter.

A messenger (Telegram, VK, MAX, a company's own chat gateway) is reached through a
:class:`MessengerAdapter`: ``send_text(chat_id, text)`` for outgoing notices and ``parse_update(payload)``
for what the messenger posts back (a subscriber writing to the bot). The ``messenger`` transport wraps one
adapter. docs/notify/transports.md shows how to add a Telegram or VK adapter.

:class:`WebhookAdapter` speaks a deliberately plain protocol that any gateway can implement::

    POST <NOTIFY_MESSENGER_WEBHOOK_URL>
    Content-Type: application/json
    X-Okno-Timestamp: 1763900000
    X-Okno-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>

    {"chat_id": "…", "text": "…", "notice_id": 42}

and expects 2xx with optional JSON ``{"message_id": "…"}``. The timestamp is signed with the body so a
captured request cannot be replayed later (the receiver rejects stale timestamps); incoming updates are
checked the same way with :meth:`WebhookAdapter.verify`.
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from okno.notify.transports.base import Message, SendResult

SIGNATURE_HEADER = "X-Okno-Signature"
TIMESTAMP_HEADER = "X-Okno-Timestamp"
MAX_CLOCK_SKEW = 300  # seconds a signed request stays acceptable


@dataclass(frozen=True)
class IncomingMessage:
    """A message a user sent to the bot, in messenger-neutral form."""

    chat_id: str
    text: str
    sender: str = ""
    message_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


class MessengerAdapter(abc.ABC):
    """One messenger's API. Implementations must not retry: the delivery loop does (see base.py)."""

    name: str = "messenger"

    @abc.abstractmethod
    def send_text(self, chat_id: str, text: str, *, notice_id: int | None = None) -> SendResult:
        """Send ``text`` to ``chat_id``; retryable=False for failures repeating cannot fix."""

    @abc.abstractmethod
    def parse_update(self, payload: dict[str, Any]) -> IncomingMessage | None:
        """The user's message in an update the messenger posted to us, or None if it carries none."""

    def close(self) -> None:  # noqa: B027 (optional hook: adapters holding sessions override it)
        """Release connections held by the adapter."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


@dataclass(frozen=True)
class WebhookRequest:
    url: str
    headers: dict[str, str]
    body: bytes


class WebhookAdapter(MessengerAdapter):
    """The generic JSON-over-HTTPS gateway with an HMAC-SHA256 shared-secret signature."""

    name = "webhook"

    def __init__(self, *, url: str, secret: str, timeout: float = 10.0) -> None:
        if urlsplit(url).scheme not in ("https", "http"):
            raise ValueError("messenger webhook URL must be http(s)")
        if not secret:
            raise ValueError("messenger webhook needs a shared secret")
        self.url = url
        self.secret = secret
        self.timeout = timeout

    def build(
        self, chat_id: str, text: str, *, notice_id: int | None = None, now: float | None = None
    ) -> WebhookRequest:
        payload: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if notice_id is not None:
            payload["notice_id"] = notice_id  # lets the gateway drop a repeated delivery of one notice
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        timestamp = str(int(now if now is not None else time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, body),
        }
        return WebhookRequest(self.url, headers, body)

    def send_text(self, chat_id: str, text: str, *, notice_id: int | None = None) -> SendResult:
        if not chat_id.strip():
            return SendResult(ok=False, retryable=False, error="empty chat id")
        request = self.build(chat_id, text, notice_id=notice_id)
        http = urllib.request.Request(request.url, data=request.body, headers=request.headers, method="POST")  # noqa: S310 (scheme checked in __init__)
        try:
            with urllib.request.urlopen(http, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read(65536)
        except urllib.error.HTTPError as exc:
            error = (
                f"messenger gateway answered {exc.code}: {exc.read(500).decode('utf-8', 'replace')}".strip()
            )
            if exc.code in (404, 410):
                return SendResult(ok=False, retryable=False, gone=True, error=error)
            retryable = exc.code in (408, 429) or exc.code >= 500
            return SendResult(ok=False, retryable=retryable, error=error)
        except (urllib.error.URLError, OSError) as exc:
            return SendResult(ok=False, retryable=True, error=f"messenger gateway unreachable: {exc}")
        provider_id = ""
        try:
            answer = json.loads(raw) if raw else {}
            if isinstance(answer, dict) and answer.get("message_id") is not None:
                provider_id = str(answer["message_id"])
        except ValueError:
            pass
        return SendResult(ok=True, provider_id=provider_id)

    def verify(self, body: bytes, headers: dict[str, str], *, now: float | None = None) -> bool:
        """Whether an incoming request carries our signature and a fresh timestamp."""
        lowered = {k.lower(): v for k, v in headers.items()}
        timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
        signature = lowered.get(SIGNATURE_HEADER.lower(), "")
        if not timestamp.isdigit() or not signature:
            return False
        current = now if now is not None else time.time()
        if abs(current - int(timestamp)) > MAX_CLOCK_SKEW:
            return False
        return hmac.compare_digest(signature, sign(self.secret, timestamp, body))

    def parse_update(self, payload: dict[str, Any]) -> IncomingMessage | None:
        """``{"chat_id", "text", "from"?, "message_id"?}`` → IncomingMessage; None without chat or text."""
        chat_id, text = payload.get("chat_id"), payload.get("text")
        if chat_id in (None, "") or not isinstance(text, str) or not text.strip():
            return None
        return IncomingMessage(
            chat_id=str(chat_id),
            text=text,
            sender=str(payload.get("from", "")),
            message_id=str(payload.get("message_id", "")),
            raw=payload,
        )


class MessengerTransport:
    """The ``messenger`` transport: the recipient is the chat id, the text is the message body."""

    channel = "messenger"

    def __init__(self, adapter: MessengerAdapter) -> None:
        self.adapter = adapter

    def send(self, message: Message) -> SendResult:
        text = message.body if not message.subject else f"{message.subject}\n\n{message.body}"
        return self.adapter.send_text(message.recipient, text, notice_id=message.notice_id)

    def close(self) -> None:
        self.adapter.close()
