"""Shared helpers of the notification tests (plain functions, so no conftest is shared with other helpers)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from okno.customers import actions as customer_actions
from okno.customers.models import Address
from okno.customers.numbers import make_account_number
from okno.notify import actions
from okno.notify.transports.base import Message, SendResult, TransportError

_serial = itertools.count(7000)


def make_customer(
    org: Any,
    *,
    branch: str = "a",
    settlement: str = "",
    street: str = "ул. Садовая",
    house: str = "1",
    flat: str = "1",
    phone: str = "",
    email: str = "",
    consent: str | None = "any",
) -> Any:
    """A customer with an account at a flat; ``consent``: the service-notices consent channel (None: none)."""
    n = next(_serial)
    district = org.district_a if branch == "a" else org.district_b
    settlement = settlement or ("Северск" if branch == "a" else "Восточный")
    customer = customer_actions.create_customer(
        actor=org.admin,
        kind="individual",
        last_name=f"Абонент{n}",
        first_name="Тест",
        phones=[phone] if phone else [],
        emails=[email] if email else [],
    )
    account = customer_actions.open_account(
        customer=customer,
        number=make_account_number(n),
        actor=org.admin,
        address=Address(
            region="Тестовая область",
            settlement=settlement,
            street=street,
            house=house,
            flat=flat,
            grid_district=district,
        ),
    )
    if consent:
        customer_actions.give_consent(customer, channel=consent, purpose="service_notices", actor=org.admin)
    customer.account = account
    return customer


def subscribe_account(org: Any, customer: Any, **contacts: Any) -> Any:
    return actions.subscribe(actor=org.admin, account=customer.account, **contacts)


@dataclass
class FakeTransport:
    """Follows the Transport protocol; ``script`` says what each send does: "ok", "retry" (raises
    TransportError), "soft" (SendResult retryable), "hard" (permanent), "crash" (RuntimeError)."""

    channel: str
    script: list[str] = field(default_factory=list)
    sent: list[Message] = field(default_factory=list)
    calls: int = 0
    closed: bool = False

    def send(self, message: Message) -> SendResult:
        self.calls += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "retry":
            raise TransportError("connection refused")
        if step == "soft":
            return SendResult(ok=False, retryable=True, error="throttled")
        if step == "hard":
            return SendResult(ok=False, retryable=False, error="550 no such user")
        if step == "crash":
            raise RuntimeError("socket closed after DATA")
        self.sent.append(message)
        if step == "receipt-first":  # the SMSC's receipt comes before the loop records the send
            from okno.notify.delivery import record_receipt

            record_receipt(f"p-{message.notice_id}", "DELIVRD")
        return SendResult(ok=True, provider_id=f"p-{message.notice_id}")

    def close(self) -> None:
        self.closed = True


def fakes(**scripts: list[str]) -> dict[str, FakeTransport]:
    return {c: FakeTransport(c, list(scripts.get(c, []))) for c in ("email", "sms", "push", "messenger")}
