"""The messenger adapter interface and the signed generic webhook adapter, against a loopback HTTP server."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from okno.notify.transports.base import Message, SendResult
from okno.notify.transports.messenger import (
    IncomingMessage,
    MessengerAdapter,
    MessengerTransport,
    WebhookAdapter,
)
from okno.notify.transports.registry import get_transport
from tests.notify.conftest_transports import free_port, http_receiver  # noqa: F401

SECRET = "shared-secret-42"


def note(chat_id: str = "100500", notice_id: int = 9) -> Message:
    return Message(
        notice_id=notice_id,
        channel="messenger",
        recipient=chat_id,
        subject="Есть свет!",
        body="Электроснабжение восстановлено в 17:40.",
    )


def test_the_gateway_receives_signed_json_it_can_verify(http_receiver):  # noqa: F811
    http_receiver.answer(200, {"Content-Type": "application/json"}, {"message_id": 777})
    transport = MessengerTransport(WebhookAdapter(url=f"{http_receiver.url}/bot", secret=SECRET))
    result = transport.send(note())
    assert result == SendResult(ok=True, provider_id="777")
    (request,) = http_receiver.requests
    assert request.path == "/bot"
    assert json.loads(request.body) == {
        "chat_id": "100500",
        "text": "Есть свет!\n\nЭлектроснабжение восстановлено в 17:40.",
        "notice_id": 9,
    }
    # The receiver's check, computed independently: HMAC-SHA256(secret, timestamp + "." + body).
    timestamp = request.headers["X-Okno-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Okno-Signature"] == f"sha256={expected}"


def test_signature_verification_rejects_tampering_other_secrets_and_stale_requests():
    adapter = WebhookAdapter(url="https://gw.example/bot", secret=SECRET)
    now = 1_763_900_000
    request = adapter.build("1", "hello", now=now)
    assert adapter.verify(request.body, request.headers, now=now + 10)
    assert not adapter.verify(request.body + b" ", request.headers, now=now)
    assert not WebhookAdapter(url="https://gw.example/bot", secret="other").verify(
        request.body, request.headers, now=now
    )
    assert not adapter.verify(request.body, request.headers, now=now + 301)
    assert not adapter.verify(request.body, {}, now=now)
    lowercase = {k.lower(): v for k, v in request.headers.items()}
    assert adapter.verify(request.body, lowercase, now=now)


@pytest.mark.parametrize(
    ("status", "retryable", "gone"),
    [(400, False, False), (403, False, False), (404, False, True), (429, True, False), (500, True, False)],
)
def test_gateway_answers_map_to_outcomes(http_receiver, status, retryable, gone):  # noqa: F811
    http_receiver.answer(status, {}, b"error")
    result = WebhookAdapter(url=http_receiver.url, secret=SECRET).send_text("1", "x")
    assert (result.ok, result.retryable, result.gone) == (False, retryable, gone)


def test_an_unreachable_gateway_is_retryable():
    result = WebhookAdapter(url=f"http://127.0.0.1:{free_port()}/", secret=SECRET, timeout=2).send_text(
        "1", "x"
    )
    assert (result.ok, result.retryable) == (False, True)


def test_an_empty_chat_id_fails_for_good(http_receiver):  # noqa: F811
    assert WebhookAdapter(url=http_receiver.url, secret=SECRET).send_text(" ", "x").retryable is False
    assert http_receiver.requests == []


def test_parse_update_reads_the_generic_update_and_ignores_empty_ones():
    adapter = WebhookAdapter(url="https://gw.example/bot", secret=SECRET)
    assert adapter.parse_update(
        {"chat_id": 5, "text": "Есть свет на Садовой?", "from": "ivan", "message_id": 3}
    ) == (
        IncomingMessage(
            chat_id="5",
            text="Есть свет на Садовой?",
            sender="ivan",
            message_id="3",
            raw={"chat_id": 5, "text": "Есть свет на Садовой?", "from": "ivan", "message_id": 3},
        )
    )
    assert adapter.parse_update({"chat_id": 5}) is None
    assert adapter.parse_update({"text": "hi"}) is None


def test_the_adapter_needs_a_secret_and_an_http_url():
    with pytest.raises(ValueError):
        WebhookAdapter(url="https://gw.example/bot", secret="")
    with pytest.raises(ValueError):
        WebhookAdapter(url="ftp://gw.example/bot", secret=SECRET)


class EchoAdapter(MessengerAdapter):
    """What a Telegram or VK adapter looks like: two methods."""

    sent: list[tuple[str, str]] = []

    def send_text(self, chat_id, text, *, notice_id=None):
        self.sent.append((chat_id, text))
        return SendResult(ok=True, provider_id=f"echo-{len(self.sent)}")

    def parse_update(self, payload):
        return IncomingMessage(chat_id=str(payload["chat"]), text=payload["text"])


def test_a_custom_adapter_class_is_plugged_in_by_dotted_path(settings):
    EchoAdapter.sent.clear()
    settings.NOTIFY_MESSENGER_ADAPTER = f"{__name__}.EchoAdapter"
    transport = get_transport("messenger")
    assert transport.send(note(chat_id="42")) == SendResult(ok=True, provider_id="echo-1")
    assert EchoAdapter.sent == [("42", "Есть свет!\n\nЭлектроснабжение восстановлено в 17:40.")]


def test_the_registry_builds_the_webhook_transport_from_settings(http_receiver, settings):  # noqa: F811
    settings.NOTIFY_MESSENGER_ADAPTER = "webhook"
    settings.NOTIFY_MESSENGER_WEBHOOK_URL = f"{http_receiver.url}/hook"
    settings.NOTIFY_MESSENGER_SECRET = SECRET
    transport = get_transport("messenger")
    assert transport.send(note()).ok
    assert http_receiver.requests[0].path == "/hook"
