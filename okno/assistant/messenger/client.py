"""A small client of the Telegram Bot API: JSON POST to ``{OKNO_TELEGRAM_API_URL}/bot{TOKEN}/{method}``.

Only what the adapter uses: ``sendMessage``, ``answerCallbackQuery``, ``setWebhook``. Plain urllib with a
timeout, no retries here (the outbox retries). A failure raises :class:`BotApiError` whose ``retryable``
says whether trying again can help (network errors, 429 and 5xx can; 400/403 — a bad request or a user
who blocked the bot — cannot). The token never appears in an error message or a log line.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings

#: Telegram's limits: characters of a message's text, bytes of a button's callback_data.
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64


class BotApiError(Exception):
    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


class NotConfigured(BotApiError):
    def __init__(self) -> None:
        super().__init__("the Telegram bot is not configured (OKNO_TELEGRAM_TOKEN)", retryable=True)


@dataclass(frozen=True)
class BotApi:
    token: str
    api_url: str = "https://api.telegram.org"
    timeout: float = 10.0

    @classmethod
    def from_settings(cls) -> BotApi:
        token = getattr(settings, "OKNO_TELEGRAM_TOKEN", "")
        if not token:
            raise NotConfigured
        return cls(
            token=token,
            api_url=(getattr(settings, "OKNO_TELEGRAM_API_URL", "") or cls.api_url).rstrip("/"),
            timeout=float(getattr(settings, "OKNO_TELEGRAM_TIMEOUT", 10.0)),
        )

    def _hide(self, text: str) -> str:
        return text.replace(self.token, "<token>") if self.token else text

    def call(self, method: str, payload: dict[str, Any]) -> Any:
        """POST ``payload`` as JSON to ``method``; the ``result`` of an ``ok`` answer."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 (the API URL comes from the settings)
            f"{self.api_url}/bot{self.token}/{method}",
            data=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (the API URL comes from the settings)
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            raw = exc.read() if exc.fp is not None else b""
            status = exc.code
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise BotApiError(self._hide(f"{method}: {exc}"), retryable=True) from None
        try:
            answer = json.loads(raw.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            answer = {}
        if 200 <= status < 300 and isinstance(answer, dict) and answer.get("ok"):
            return answer.get("result")
        description = answer.get("description", "") if isinstance(answer, dict) else ""
        retryable = status == 429 or status >= 500 or status < 200
        raise BotApiError(
            self._hide(f"{method}: HTTP {status} {description}".strip()), retryable=retryable, status=status
        )

    def send_message(self, payload: dict[str, Any]) -> Any:
        return self.call("sendMessage", payload)

    def answer_callback_query(self, callback_query_id: str, text: str = "") -> Any:
        payload: dict[str, Any] = {"callback_query_id": callback_query_id}
        if text:
            payload["text"] = text[:200]
        return self.call("answerCallbackQuery", payload)

    def set_webhook(self, url: str, secret_token: str) -> Any:
        return self.call(
            "setWebhook",
            {
                "url": url,
                "secret_token": secret_token,
                "allowed_updates": ["message", "callback_query"],
            },
        )
