"""What every transport (e-mail, SMS over SMPP, web push, messenger bots) offers the delivery loop.

A transport takes one :class:`Message` and returns a :class:`SendResult`. It never retries by itself:
the delivery loop in :mod:`okno.notify.delivery` decides when to try again (backoff) and guarantees
that one notice goes out at most once per successful attempt. A transport that gets a delivery
receipt later (SMPP ``deliver_sm``, a provider's web hook) reports it through
:func:`okno.notify.delivery.record_receipt` with the ``provider_id`` it returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Message:
    notice_id: int
    channel: str  # "email" | "sms" | "push" | "messenger"
    recipient: str  # e-mail address, +7… phone, push endpoint JSON, messenger chat id
    subject: str
    body: str
    html: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # e.g. List-Unsubscribe
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    provider_id: str = ""
    retryable: bool = True  # False: a permanent failure (bad address), never retried
    error: str = ""
    # The address no longer exists (web push 404/410, a messenger chat that blocked the bot): the caller
    # can retire the subscription's channel instead of trying it again for the next event.
    gone: bool = False


class Transport(Protocol):
    channel: str

    def send(self, message: Message) -> SendResult: ...

    def close(self) -> None: ...


class TransportError(Exception):
    """A failure of the provider's side (connection refused, throttled, timeout): worth retrying."""
