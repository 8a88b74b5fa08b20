"""``get_transport(channel)``: the transport for a channel, built from settings.

Which transport a channel gets:

=============  ===========================================  ==================================================
channel        configured provider                          otherwise (development, tests)
=============  ===========================================  ==================================================
``email``      :class:`EmailTransport` over Django's        (always Django's backend: SMTP in production,
               ``EMAIL_BACKEND``                            files in ``var/mail/`` in development, locmem in
                                                            tests)
``sms``        :class:`SmppTransport` to NOTIFY_SMPP_HOST   simulated: PDUs built and recorded
``push``       :class:`WebPushTransport` with the VAPID     simulated: payload encrypted and signed with a
               key                                          per-process key, recorded
``messenger``  :class:`MessengerTransport` over the         simulated: signed webhook request recorded
               configured adapter
=============  ===========================================  ==================================================

Why simulate rather than skip: the demo and the delivery loop's tests then run the same encoding,
splitting, encryption and signing code as production, so a notice that cannot be sent (a bad phone number,
a broken push subscription) fails the same way. The SMPP server peer is not started by default: run
``okno notify smpp-server`` and set ``NOTIFY_SMPP_HOST=127.0.0.1`` to use the real SMPP path locally.

In production (``NOTIFY_SIMULATE_UNCONFIGURED`` off) an unconfigured channel gets a transport that fails
every notice for good with "channel not configured", so nothing is silently dropped.

Each call returns a new transport holding its own connection; the caller closes it (``with
transport_for(channel) as t:``) — one per worker and batch, not one per message.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from okno.notify.transports import smpp_pdu
from okno.notify.transports.base import Message, SendResult, Transport

log = logging.getLogger(__name__)

CHANNELS = ("email", "sms", "push", "messenger")
OUTBOX_LIMIT = 10_000  # records SimulatedTransport.outbox keeps in memory
ReceiptCallback = Callable[[str, str, str], None]


def record_receipt(provider_id: str, state: str, error: str) -> None:
    """Hand a provider's delivery receipt to the delivery loop (imported late: it lives in the notify app)."""
    try:
        from okno.notify.delivery import record_receipt as record  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        log.warning(
            "receipt %s %s %s dropped: okno.notify.delivery.record_receipt is missing",
            provider_id,
            state,
            error,
        )
        return
    record(provider_id, state, error)


# -- simulated and disabled transports ----------------------------------------------------------------------


@dataclass(frozen=True)
class SimulatedRecord:
    channel: str
    notice_id: int
    recipient: str
    provider_id: str
    wire: dict[str, Any]  # what would have gone over the wire (PDUs in hex, headers and body, …)
    at: str


class SimulatedTransport:
    """Runs the real transport's ``build`` step and records the result instead of delivering it.

    ``SimulatedTransport.outbox`` collects the latest records of this process (like ``django.core.mail.outbox``);
    with NOTIFY_OUTBOX_DIR set each record is also appended to ``<dir>/<channel>.jsonl``. Receipts: the
    sms channel reports ``DELIVRD`` for each message at the next :meth:`poll`, as an SMSC would.
    """

    outbox: ClassVar[list[SimulatedRecord]] = []
    _lock: ClassVar[threading.Lock] = threading.Lock()
    _counter: ClassVar[Iterator[int]] = itertools.count(1)

    def __init__(
        self,
        channel: str,
        build: Callable[[Message], dict[str, Any]],
        *,
        directory: str = "",
        on_receipt: ReceiptCallback | None = None,
    ) -> None:
        self.channel = channel
        self._build = build
        self.directory = directory
        self.on_receipt = on_receipt
        self._unreceipted: list[str] = []

    def send(self, message: Message) -> SendResult:
        try:
            wire = self._build(message)
        except ValueError as exc:
            return SendResult(ok=False, retryable=False, error=str(exc))
        provider_id = f"sim-{self.channel}-{next(self._counter)}-{uuid.uuid4().hex[:8]}"
        record = SimulatedRecord(
            channel=self.channel,
            notice_id=message.notice_id,
            recipient=message.recipient,
            provider_id=provider_id,
            wire=wire,
            at=dt.datetime.now(tz=dt.UTC).isoformat(),
        )
        with self._lock:
            self.outbox.append(record)
            if len(self.outbox) > OUTBOX_LIMIT:  # a development worker runs for days: keep the latest
                del self.outbox[: len(self.outbox) - OUTBOX_LIMIT]
            if self.directory:
                path = Path(self.directory)
                path.mkdir(parents=True, exist_ok=True)
                line = json.dumps(record.__dict__, ensure_ascii=False, default=str)
                with (path / f"{self.channel}.jsonl").open("a", encoding="utf-8") as fh:
                    fh.write(line + "\n")
        if self.channel == "sms":
            self._unreceipted.append(provider_id)
        return SendResult(ok=True, provider_id=provider_id)

    def poll(self, timeout: float = 0.0) -> int:
        pending, self._unreceipted = self._unreceipted, []
        if self.on_receipt is not None:
            for provider_id in pending:
                self.on_receipt(provider_id, "DELIVRD", "000")
        return len(pending)

    def close(self) -> None:
        pass


class DisabledTransport:
    """An unconfigured channel in production: every notice fails for good, with the reason."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def send(self, message: Message) -> SendResult:
        return SendResult(ok=False, retryable=False, error=f"channel {self.channel} is not configured")

    def close(self) -> None:
        pass


# -- builders --------------------------------------------------------------------------------------------


def smpp_config() -> Any:
    from okno.notify.transports.smpp import SmppConfig

    return SmppConfig(
        host=settings.NOTIFY_SMPP_HOST or "127.0.0.1",
        port=settings.NOTIFY_SMPP_PORT,
        system_id=settings.NOTIFY_SMPP_SYSTEM_ID,
        password=settings.NOTIFY_SMPP_PASSWORD,
        system_type=settings.NOTIFY_SMPP_SYSTEM_TYPE,
        source_addr=settings.NOTIFY_SMPP_SOURCE_ADDR,
        bind=settings.NOTIFY_SMPP_BIND,
        timeout=settings.NOTIFY_SMPP_TIMEOUT,
        enquire_link_interval=settings.NOTIFY_SMPP_ENQUIRE_LINK_INTERVAL,
    )


_ephemeral_vapid: Any = None


def vapid_private_key() -> Any:
    """The configured VAPID key; in simulation a per-process one (so encryption and signing still run)."""
    global _ephemeral_vapid
    from okno.notify.transports.webpush import load_private_key

    if settings.NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY:
        try:
            return load_private_key(settings.NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY)
        except ValueError as exc:
            raise ImproperlyConfigured(f"NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY: {exc}") from exc
    if _ephemeral_vapid is None:
        from cryptography.hazmat.primitives.asymmetric import ec

        _ephemeral_vapid = ec.generate_private_key(ec.SECP256R1())
    return _ephemeral_vapid


def vapid_public_key() -> str:
    """The applicationServerKey browsers subscribe with (base64url), or "" when push is not configured."""
    from okno.notify.transports.webpush import b64url_encode, public_key_bytes

    if not settings.NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY:
        return ""
    return b64url_encode(public_key_bytes(vapid_private_key().public_key()))


def _webpush() -> Any:
    from okno.notify.transports.webpush import WebPushTransport

    return WebPushTransport(
        vapid_private_key=vapid_private_key(),
        subject=settings.NOTIFY_WEBPUSH_SUBJECT,
        ttl=settings.NOTIFY_WEBPUSH_TTL,
        timeout=settings.NOTIFY_WEBPUSH_TIMEOUT,
        allow_private_endpoints=settings.NOTIFY_WEBPUSH_ALLOW_PRIVATE_ENDPOINTS,
    )


def messenger_adapter(*, url: str | None = None, secret: str | None = None) -> Any:
    from okno.notify.transports.messenger import MessengerAdapter, WebhookAdapter

    name = settings.NOTIFY_MESSENGER_ADAPTER
    if name == "webhook":
        return WebhookAdapter(
            url=url if url is not None else settings.NOTIFY_MESSENGER_WEBHOOK_URL,
            secret=secret if secret is not None else settings.NOTIFY_MESSENGER_SECRET,
            timeout=settings.NOTIFY_MESSENGER_TIMEOUT,
        )
    try:
        cls = import_string(name)
    except ImportError as exc:
        raise ImproperlyConfigured(f"NOTIFY_MESSENGER_ADAPTER: cannot import {name!r}") from exc
    if not (isinstance(cls, type) and issubclass(cls, MessengerAdapter)):
        raise ImproperlyConfigured(f"NOTIFY_MESSENGER_ADAPTER: {name!r} is not a MessengerAdapter")
    return cls()


def configured(channel: str) -> bool:
    """Whether a real provider is configured for the channel (e-mail always is: Django's backend)."""
    if channel == "email":
        return True
    if channel == "sms":
        return bool(settings.NOTIFY_SMPP_HOST)
    if channel == "push":
        return bool(settings.NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY)
    if channel == "messenger":
        if settings.NOTIFY_MESSENGER_ADAPTER != "webhook":
            return True
        return bool(settings.NOTIFY_MESSENGER_WEBHOOK_URL and settings.NOTIFY_MESSENGER_SECRET)
    raise ValueError(f"unknown channel {channel!r}; one of {CHANNELS}")


def available_channels() -> list[str]:
    """Channels a notice can go out on now (configured, or simulated where simulation is on)."""
    return [c for c in CHANNELS if configured(c) or settings.NOTIFY_SIMULATE_UNCONFIGURED]


def describe(channel: str) -> str:
    """One line for operators: where the channel's messages go."""
    if channel == "email":
        return f"Django mail backend {settings.EMAIL_BACKEND}"
    if configured(channel):
        if channel == "sms":
            return f"SMPP {settings.NOTIFY_SMPP_HOST}:{settings.NOTIFY_SMPP_PORT} as {settings.NOTIFY_SMPP_SYSTEM_ID}"
        if channel == "push":
            return f"Web Push, VAPID key {vapid_public_key()[:16]}…"
        return f"messenger adapter {settings.NOTIFY_MESSENGER_ADAPTER}"
    if settings.NOTIFY_SIMULATE_UNCONFIGURED:
        where = settings.NOTIFY_OUTBOX_DIR or "memory"
        return f"simulated (recorded in {where})"
    return "not configured: notices fail"


def _simulated_sms(message: Message) -> dict[str, Any]:
    from okno.notify.transports.smpp import SmppTransport

    pdus = SmppTransport(smpp_config()).build(message)
    encoded = smpp_pdu.encode_text(message.body)
    return {
        "data_coding": encoded.data_coding,
        "parts": len(pdus),
        "text": message.body,
        "pdus": [smpp_pdu.encode(pdu).hex() for pdu in pdus],
    }


def _simulated_push(message: Message) -> dict[str, Any]:
    request = _webpush().build(message)
    return {
        "endpoint": request.url,
        "headers": request.headers,
        "body_b64": base64.b64encode(request.body).decode("ascii"),
        "payload_octets": len(request.body),
    }


def _simulated_messenger(message: Message) -> dict[str, Any]:
    adapter = messenger_adapter(url="http://messenger.invalid/", secret="simulated")  # noqa: S106
    request = adapter.build(message.recipient, message.body, notice_id=message.notice_id)
    return {"url": request.url, "headers": request.headers, "body": request.body.decode("utf-8")}


SIMULATED_BUILDERS: dict[str, Callable[[Message], dict[str, Any]]] = {
    "sms": _simulated_sms,
    "push": _simulated_push,
    "messenger": _simulated_messenger,
}


def get_transport(channel: str, *, on_receipt: ReceiptCallback | None = record_receipt) -> Transport:
    """A new transport for ``channel`` (email, sms, push, messenger), built from settings.

    ``on_receipt`` receives ``(provider_id, state, error)`` for provider receipts (sms); it defaults to
    :func:`okno.notify.delivery.record_receipt`.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; one of {CHANNELS}")
    if channel == "email":
        from okno.notify.transports.email import EmailTransport

        return EmailTransport()
    if not configured(channel):
        if not settings.NOTIFY_SIMULATE_UNCONFIGURED:
            return DisabledTransport(channel)
        return SimulatedTransport(
            channel, SIMULATED_BUILDERS[channel], directory=settings.NOTIFY_OUTBOX_DIR, on_receipt=on_receipt
        )
    if channel == "sms":
        from okno.notify.transports.smpp import SmppTransport

        return SmppTransport(smpp_config(), on_receipt=on_receipt)
    if channel == "push":
        return _webpush()  # type: ignore[no-any-return]
    from okno.notify.transports.messenger import MessengerTransport

    return MessengerTransport(messenger_adapter())


@contextmanager
def transport_for(channel: str, **kwargs: Any) -> Iterator[Transport]:
    """``with transport_for("sms") as t: t.send(...)`` — closes the connection afterwards."""
    transport = get_transport(channel, **kwargs)
    try:
        yield transport
    finally:
        transport.close()
