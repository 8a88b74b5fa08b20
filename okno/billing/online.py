"""Online card payments started in the personal cabinet: orders, the acquirer, and a simulated one.

The flow, the same with a real acquirer and with the simulator:

1. :func:`create_order` records what the customer means to pay (a :class:`PaymentOrder` with a random
   token) and the cabinet sends the browser to :func:`provider_url`;
2. the acquirer takes the card and sends the signed callback ``POST /api/v1/payments/acquiring/callback``
   (``okno.billing.api.payments``) with ``order`` = the token and ``payment_id`` = its own id;
3. :func:`okno.billing.payments.acquiring_payment` registers the payment once (by the acquirer's id)
   and calls :func:`order_paid`; a ``declined`` callback calls :func:`order_declined`;
4. the browser comes back to the cabinet's return page, which shows the order's status.

**The simulator** (development and tests only: :func:`simulator_enabled`) is a card form in the cabinet.
Its Pay button makes the server send the real signed callback to its own address over HTTP
(:func:`send_callback`), so everything after step 2 is exactly what a real acquirer drives. In
development an empty ``BillingSettings.acquiring_secret`` is filled with a random key on first use
(:func:`callback_secret`); in production the key is configured and the simulator answers 404.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.billing.models import BillingSettings, Payment, PaymentOrder, rub
from okno.core import audit
from okno.core.context import acting_as
from okno.customers.models import Account

#: The provider name of orders paid through the simulator (and its payment ids' prefix).
SIMULATOR = "sim"
#: The most one online payment may be: 1,000,000.00 ₽ (a household pays far less).
MAX_ORDER_KOP = 100_000_000
#: Seconds the simulator waits for its own callback to be answered.
CALLBACK_TIMEOUT_S = 15


def simulator_enabled() -> bool:
    """The simulated acquirer runs in development and tests, never in production (unless a setting
    ``OKNO_PAYMENT_SIMULATOR`` says otherwise explicitly)."""
    return bool(getattr(settings, "OKNO_PAYMENT_SIMULATOR", not getattr(settings, "PRODUCTION", False)))


def provider_name() -> str:
    return (
        SIMULATOR if simulator_enabled() else str(getattr(settings, "OKNO_ACQUIRING_PROVIDER", "acquiring"))
    )


def online_payments_enabled() -> bool:
    """Whether the cabinet may send a customer to pay: the simulator, or a configured acquirer URL."""
    return simulator_enabled() or bool(getattr(settings, "OKNO_ACQUIRING_URL", ""))


def provider_url(order: PaymentOrder) -> str:
    """Where the browser goes to pay ``order``: the simulator's page, or ``OKNO_ACQUIRING_URL`` with
    ``{order}``, ``{amount}`` and ``{account}`` filled in."""
    if order.provider == SIMULATOR:
        return reverse("cabinet:pay_sim", args=[order.token])
    template = str(getattr(settings, "OKNO_ACQUIRING_URL", ""))
    return template.format(order=order.token, amount=rub(order.amount_kop), account=order.account.number)


def check_amount(amount_kop: int) -> None:
    """ValidationError unless 0 < amount ≤ :data:`MAX_ORDER_KOP`."""
    if amount_kop <= 0:
        raise ValidationError({"amount": [_("The amount must be positive.")]})
    if amount_kop > MAX_ORDER_KOP:
        raise ValidationError(
            {"amount": [_("One online payment may be at most %(max)s ₽.") % {"max": rub(MAX_ORDER_KOP)}]}
        )


def create_order(*, account: Account, amount_kop: int, cabinet_user: Any, actor: Any) -> PaymentOrder:
    """Record an online payment the customer is about to make (ValidationError for a bad amount)."""
    check_amount(amount_kop)
    with transaction.atomic(), acting_as(actor):
        order = PaymentOrder.objects.create(
            token=secrets.token_urlsafe(24),
            account=account,
            cabinet_user=cabinet_user,
            amount_kop=amount_kop,
            provider=provider_name(),
        )
        audit.log_change(order, "create", None, audit.snapshot(order))
    return order


def find_order(ref: Any) -> PaymentOrder | None:
    """The order whose token is ``ref`` (a token, or an order already), or ``None``."""
    if isinstance(ref, PaymentOrder):
        return ref
    token = str(ref or "").strip()
    if not token or len(token) > 64:
        return None
    return PaymentOrder.objects.select_related("account").filter(token=token).first()


def order_paid(ref: Any, payment: Payment) -> PaymentOrder | None:
    """Mark the order named ``ref`` (a token or the order) paid by ``payment``; idempotent (a replayed
    callback changes nothing). A declined order that is paid after all becomes paid: the money came.
    A payment that already paid an order pays no other (a replay naming another order is ignored).
    The caller checks that the payment's account and amount are the order's."""
    order = find_order(ref)
    if order is None:
        return None
    with transaction.atomic():
        if PaymentOrder.objects.filter(payment=payment).exclude(pk=order.pk).exists():
            return order
        now = timezone.now()
        try:
            with transaction.atomic():
                changed = PaymentOrder.objects.filter(
                    pk=order.pk, status__in=[PaymentOrder.Status.CREATED, PaymentOrder.Status.DECLINED]
                ).update(status=PaymentOrder.Status.PAID, payment=payment, finished_at=now)
        except IntegrityError:  # a concurrent replay gave the payment to another order first
            return order
        if changed:
            before = audit.snapshot(order)
            order.refresh_from_db()
            audit.log_change(order, "update", before, audit.snapshot(order))
    return order


def order_declined(ref: Any) -> PaymentOrder | None:
    """Mark the order named ``ref`` declined unless it has been paid (idempotent)."""
    order = find_order(ref)
    if order is None:
        return None
    changed = PaymentOrder.objects.filter(pk=order.pk, status=PaymentOrder.Status.CREATED).update(
        status=PaymentOrder.Status.DECLINED, finished_at=timezone.now()
    )
    if changed:
        before = audit.snapshot(order)
        order.refresh_from_db()
        audit.log_change(order, "update", before, audit.snapshot(order))
    return order


# --- the simulated acquirer --------------------------------------------------------------------


def callback_secret() -> str:
    """The acquiring callback's key. Outside production an empty key is set to a random one (once,
    race-safe), so the simulator works on a fresh machine."""
    current = BillingSettings.current()
    if current.acquiring_secret or not simulator_enabled():
        return current.acquiring_secret
    BillingSettings.objects.filter(pk=current.pk, acquiring_secret="").update(
        acquiring_secret=secrets.token_hex(32)
    )
    return BillingSettings.objects.get(pk=current.pk).acquiring_secret


def callback_body(order: PaymentOrder, status: str) -> bytes:
    """The JSON body the acquirer sends for ``order`` (``succeeded`` or ``declined``)."""
    data = {
        "payment_id": f"{order.provider}-{order.token}",
        "order": order.token,
        "account": order.account.number,
        "amount": str(rub(order.amount_kop)),
        "paid_at": timezone.now().isoformat(),
        "status": status,
    }
    return json.dumps(data).encode()


def send_callback(order: PaymentOrder, status: str, url: str) -> int | None:
    """POST the signed callback for ``order`` to ``url`` as the acquirer would; the HTTP status, or
    ``None`` when the server could not be reached."""
    from okno.billing.payments import acquiring_signature

    if not url.startswith(("http://", "https://")):
        raise ValueError(url)
    raw = callback_body(order, status)
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        data=raw,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Okno-Signature": acquiring_signature(callback_secret(), raw),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=CALLBACK_TIMEOUT_S) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, OSError):
        return None
