"""Payments: registration from every source, allocation to debts, bank registries, manual matching.

Every payment goes through :func:`register_payment` (or, for a registry file, through the bulk path
of :func:`import_registry`, which applies the same rules to many lines at once):

* a payment with a provider's id is registered once: a replay returns the payment already made;
* a payment to an unknown account, or to one closed before the payment day, is ``UNIDENTIFIED`` and
  waits in the queue for :func:`match_payment`; it posts nothing to the ledger;
* an identified payment posts a ``PAYMENT`` ledger entry (negative) and allocation rows: the named
  period first, then the oldest open debt; what is left is an advance (allocation without a period).

See ``docs/billing/payments.md`` for the registry format and the acquiring callback.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.billing import ledger
from okno.billing.ledger import Row, bulk_insert
from okno.billing.models import LedgerEntry, Payment, PaymentAllocation, PaymentRegistry, rub
from okno.billing.periods import parse_period, period_label
from okno.core import audit, events
from okno.core.context import acting_as
from okno.customers.choices import ContactEventKind
from okno.customers.models import Account, ContactEvent

REGISTRY_PROVIDER = "registry"
ACQUIRING_PROVIDER = "acquiring"
log = logging.getLogger(__name__)
_AMOUNT_RE = re.compile(r"^\d+([.,]\d{1,2})?$")
#: The largest single payment accepted: 10,000,000.00 ₽ (a household pays far less; a bigger figure
#: is a keying error, and an unbounded one would overflow the database column).
MAX_PAYMENT_KOP = 1_000_000_000


class AmountTooLarge(ValueError):
    """An amount over :data:`MAX_PAYMENT_KOP`."""


def too_large_message() -> str:
    return _("The amount exceeds the limit of %(max)s ₽ per payment.") % {"max": rub(MAX_PAYMENT_KOP)}


# --- parsing helpers ---------------------------------------------------------------------------


def parse_amount(value: Any) -> int:
    """Roubles (``1234.56``, ``1234,5``, ``1 234,56``, or a number) → kopecks; ValueError if not a
    positive amount with at most two decimals, :class:`AmountTooLarge` (a ValueError) if over
    :data:`MAX_PAYMENT_KOP`."""
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if not _AMOUNT_RE.match(text):
        raise ValueError(text)
    if len(re.split(r"[.,]", text)[0].lstrip("0")) > 12:  # whatever its length, no Decimal of it
        raise AmountTooLarge(text)
    kop = int(Decimal(text.replace(",", ".")) * 100)
    if kop <= 0:
        raise ValueError(text)
    if kop > MAX_PAYMENT_KOP:
        raise AmountTooLarge(text)
    return kop


def parse_date(text: str) -> dt.date:
    """``YYYY-MM-DD`` or ``DD.MM.YYYY``; ValueError otherwise."""
    text = text.strip()
    if "." in text:
        return dt.datetime.strptime(text, "%d.%m.%Y").date()  # noqa: DTZ007 - a date, no time
    return dt.date.fromisoformat(text)


def decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM), else Windows-1251 (what Russian banks' systems often write)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def _today() -> dt.date:
    return timezone.localdate()


# --- allocation --------------------------------------------------------------------------------


@dataclass
class _Posting:
    entries: list[Row]
    allocations: list[Row]


def _source_labels() -> dict[str, str]:
    return {value: str(label) for value, label in Payment.Source.choices}


def _postings(payments: list[Any], actor: Any) -> _Posting:
    """Ledger entries and allocations (rows of field values) of identified ``payments`` (saved, with
    ``pk`` and ``account_id``), computed against each account's open debts in one pass per account."""
    out = _Posting([], [])
    by_account: dict[int, list[Any]] = {}
    for payment in payments:
        by_account.setdefault(payment.account_id, []).append(payment)
    if not by_account:
        return out
    as_of = max(_today(), max(p.paid_on for p in payments))
    labels = _source_labels()
    created_by = actor.pk if getattr(actor, "pk", None) else None
    now = timezone.now()
    for account_id, items in ledger.ledger_items_bulk(as_of, by_account):
        debits, credits = items
        open_by_period = {p: amount for p, (_due, amount) in debits.items()}
        for credit in credits:
            ledger.allocate(open_by_period, credit.amount_kop, credit.period)
        for payment in sorted(by_account[account_id], key=lambda p: (p.paid_on, p.pk)):
            parts: list[tuple[dt.date | None, int]]
            parts, surplus = ledger.allocate(open_by_period, payment.amount_kop, payment.period)  # type: ignore[assignment]
            if surplus:
                parts.append((None, surplus))
            out.allocations += [
                {
                    "payment_id": payment.pk,
                    "account_id": account_id,
                    "period": period,
                    "is_penalty": False,
                    "amount_kop": amount,
                    "paid_on": payment.paid_on,
                }
                for period, amount in parts
            ]
            out.entries.append(
                {
                    "account_id": account_id,
                    "kind": LedgerEntry.Kind.PAYMENT.value,
                    "period": payment.period,
                    "entry_date": payment.paid_on,
                    "due_date": None,
                    "amount_kop": -payment.amount_kop,
                    "run_id": None,
                    "payment_id": payment.pk,
                    "note": labels[payment.source],
                    "created_at": now,
                    "created_by_id": created_by,
                }
            )
    return out


def _save_postings(posting: _Posting) -> None:
    bulk_insert(LedgerEntry, posting.entries)
    bulk_insert(PaymentAllocation, posting.allocations)


def _summary(payment: Any, template: str | None = None, labels: dict[str, str] | None = None) -> str:
    template = template or _("Payment of %(amount)s ₽ received (%(source)s, paid on %(day)s)")
    return template % {
        "amount": rub(payment.amount_kop),
        "source": (labels or _source_labels())[payment.source],
        "day": payment.paid_on.strftime("%d.%m.%Y"),
    }


def _announce(payments: Iterable[Any], actor: Any) -> None:
    """Contact history lines and ``payment.received`` events of identified payments."""
    payments = [p for p in payments if p.account_id is not None]
    customers: dict[int, int] = {}
    for part in _chunks(list({p.account_id for p in payments})):
        customers.update(Account.objects.filter(pk__in=part).values_list("pk", "customer_id"))
    template = _("Payment of %(amount)s ₽ received (%(source)s, paid on %(day)s)")
    labels = _source_labels()
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    now = timezone.now()
    bulk_insert(
        ContactEvent,
        [
            {
                "customer_id": customers[p.account_id],
                "kind": (
                    ContactEventKind.VISIT
                    if p.source == Payment.Source.CASHIER
                    else ContactEventKind.NOTIFICATION
                ).value,
                "occurred_at": now,
                "channel": f"payment:{p.source}"[:20],
                "summary": _summary(p, template, labels)[:300],
                "ref_type": "billing.payment",
                "ref_id": p.pk,
                "ref_label": f"{p.amount_kop // 100},{p.amount_kop % 100:02d} ₽",
                "actor_id": actor_id,
            }
            for p in payments
        ],
    )
    for p in payments:
        events.publish(
            "payment.received",
            payment_id=p.pk,
            account_id=p.account_id,
            amount_kop=p.amount_kop,
            paid_on=p.paid_on.isoformat(),
        )


def _identify(account: Account | None, account_text: str, paid_on: dt.date) -> Account | None:
    if account is None and account_text.strip():
        account = Account.objects.filter(number=account_text.strip()).first()
    if account is not None and account.closed_on is not None and account.closed_on < paid_on:
        return None
    return account


# --- one payment -------------------------------------------------------------------------------


def register_payment(
    *,
    amount_kop: int,
    paid_on: dt.date,
    source: str,
    account: Account | None = None,
    account_text: str = "",
    provider: str = "",
    external_id: str = "",
    period: dt.date | None = None,
    payer: str = "",
    actor: Any = None,
    registry: PaymentRegistry | None = None,
    registry_line: int | None = None,
    note: str = "",
) -> Payment:
    """Register a payment (idempotent by ``(provider, external_id)``: a replay returns the existing
    payment). An office cash-desk payment needs the ``payment.add`` permission."""
    if source not in Payment.Source.values:
        raise ValueError(f"unknown payment source {source!r}")
    if source == Payment.Source.CASHIER and (actor is None or not actor.has_okno_perm("payment.add")):
        raise PermissionDenied(_("You may not take payments."))
    errors: dict[str, list[str]] = {}
    if not isinstance(amount_kop, int) or isinstance(amount_kop, bool) or amount_kop <= 0:
        errors["amount"] = [_("The amount must be positive.")]
    elif amount_kop > MAX_PAYMENT_KOP:
        errors["amount"] = [too_large_message()]
    if paid_on > _today() + dt.timedelta(days=1):
        errors["paid_on"] = [_("The payment date is in the future.")]
    if external_id and len(external_id) > 100:
        errors["payment_id"] = [_("The payment id is too long.")]
    if errors:
        raise ValidationError(errors)
    if external_id:
        existing = Payment.objects.filter(provider=provider, external_id=external_id).first()
        if existing is not None:
            return existing
    identified = _identify(account, account_text, paid_on)
    try:
        with transaction.atomic(), acting_as(actor):
            payment = Payment.objects.create(
                account=identified,
                account_text=(account_text or (account.number if account else ""))[:40],
                payer=payer[:200],
                amount_kop=amount_kop,
                paid_on=paid_on,
                source=source,
                provider=provider,
                external_id=external_id,
                period=period,
                status=Payment.Status.ALLOCATED if identified else Payment.Status.UNIDENTIFIED,
                registry=registry,
                registry_line=registry_line,
                cashier=actor if source == Payment.Source.CASHIER else None,
                note=note[:300],
            )
            if identified is not None:
                # Serialise payments of one account so that allocations see each other.
                Account.objects.select_for_update().filter(pk=identified.pk).first()
                _save_postings(_postings([payment], actor))
                _announce([payment], actor)
            audit.log_change(payment, "create", None, audit.snapshot(payment))
    except IntegrityError:
        if not external_id:
            raise
        # A concurrent replay won the race for (provider, external_id): return its payment.
        return Payment.objects.get(provider=provider, external_id=external_id)
    return payment


def match_payment(payment: Payment, *, account: Account, actor: Any) -> Payment:
    """Assign an unidentified payment to ``account`` (``payment.match``) and allocate it."""
    if actor is None or not actor.has_okno_perm("payment.match"):
        raise PermissionDenied(_("You may not match payments."))
    if not Account.objects.restrict(actor, "view").filter(pk=account.pk).exists():
        raise PermissionDenied(_("You may not match payments to this account."))
    with transaction.atomic(), acting_as(actor):
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != Payment.Status.UNIDENTIFIED:
            raise ValidationError({"payment": [_("This payment is not waiting to be matched.")]})
        if account.closed_on is not None and account.closed_on < locked.paid_on:
            raise ValidationError(
                {"account": [_("Account %(n)s was closed before the payment.") % {"n": account}]}
            )
        before = audit.snapshot(locked)
        locked.account = account
        locked.status = Payment.Status.ALLOCATED
        locked.matched_by = actor
        locked.matched_at = timezone.now()
        locked.save(update_fields=["account", "status", "matched_by", "matched_at"])
        Account.objects.select_for_update().filter(pk=account.pk).first()
        _save_postings(_postings([locked], actor))
        _announce([locked], actor)
        audit.log_change(locked, "update", before, audit.snapshot(locked))
    return locked


# --- bank registries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _NewPayment:
    """What allocation needs of a payment inserted in bulk (no model instance for speed)."""

    pk: int
    account_id: int | None
    amount_kop: int
    paid_on: dt.date
    period: dt.date | None
    source: str


def _new_payment_fields(row: Row) -> dict[str, Any]:
    return {k: row[k] for k in ("account_id", "amount_kop", "paid_on", "period", "source")}


@dataclass(frozen=True)
class RegistryLine:
    line: int
    paid_on: dt.date
    account_text: str
    amount_kop: int
    period: dt.date | None
    external_id: str


def parse_registry(text: str) -> tuple[list[RegistryLine], list[dict[str, Any]]]:
    """Lines ``date;account;amount;period;payment_id`` → valid lines and errors ``{line, error}``.
    A first line that is not a payment but has letters is a header; empty lines are skipped."""
    good: list[RegistryLine] = []
    errors: list[dict[str, Any]] = []
    latest = _today() + dt.timedelta(days=1)
    reader = csv.reader(io.StringIO(text), delimiter=";")
    for number, fields in enumerate(reader, start=1):
        fields = [f.strip() for f in fields]
        if not any(fields):
            continue
        if len(fields) < 5:
            fields += [""] * (5 - len(fields))
        date_text, account_text, amount_text, period_text, external_id = fields[:5]
        try:
            paid_on = parse_date(date_text)
        except ValueError:
            if number == 1 and re.search(r"[^\W\d_]", date_text):
                continue  # a header
            errors.append({"line": number, "error": _("Bad date %(v)r.") % {"v": date_text}})
            continue
        problems = []
        if len(fields) > 5 and any(fields[5:]):
            problems.append(_("Too many fields (5 expected)."))
        if paid_on > latest:
            problems.append(_("The date %(v)s is in the future.") % {"v": date_text})
        if not account_text or len(account_text) > 40:
            problems.append(_("No account number."))
        try:
            amount_kop = parse_amount(amount_text)
        except AmountTooLarge:
            amount_kop = 0
            problems.append(_("Bad amount %(v)r.") % {"v": amount_text} + " " + too_large_message())
        except (ValueError, InvalidOperation):
            amount_kop = 0
            problems.append(_("Bad amount %(v)r.") % {"v": amount_text})
        period = None
        if period_text:
            try:
                period = parse_period(period_text)
            except ValueError:
                problems.append(_("Bad period %(v)r (YYYY-MM expected).") % {"v": period_text})
        if not external_id:
            problems.append(_("No payment id."))
        elif len(external_id) > 100:
            problems.append(_("The payment id is too long."))
        if problems:
            errors.append({"line": number, "error": " ".join(str(p) for p in problems)})
            continue
        good.append(RegistryLine(number, paid_on, account_text, amount_kop, period, external_id))
    return good, errors


def _chunks(items: list, size: int = 5000) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def import_registry(*, data: bytes, name: str, actor: Any, bank: str = "") -> PaymentRegistry:
    """Import a bank registry file (``payment.import``). The same file twice adds nothing (the
    existing registry is returned with ``repeated = True``); a payment id seen before (from this bank)
    is counted as a duplicate; malformed lines are reported with their numbers and the rest kept."""
    if actor is None or not actor.has_okno_perm("payment.import"):
        raise PermissionDenied(_("You may not import payment registries."))
    sha = hashlib.sha256(data).hexdigest()
    existing = PaymentRegistry.objects.filter(sha256=sha).first()
    if existing is not None:
        existing.repeated = True  # type: ignore[attr-defined]
        return existing
    try:
        text = decode(data)
    except UnicodeDecodeError as exc:  # pragma: no cover - cp1251 decodes almost anything
        raise ValidationError({"file": [_("The file is neither UTF-8 nor Windows-1251.")]}) from exc
    lines, errors = parse_registry(text)
    provider = (bank.strip() or REGISTRY_PROVIDER)[:50]

    # Payment ids seen before (in other files) or twice in this one are duplicates.
    ids = [line.external_id for line in lines]
    seen: set[str] = set()
    for part in _chunks(ids):
        seen.update(
            Payment.objects.filter(provider=provider, external_id__in=part).values_list(
                "external_id", flat=True
            )
        )
    fresh: list[RegistryLine] = []
    duplicates = 0
    for line in lines:
        if line.external_id in seen:
            duplicates += 1
            continue
        seen.add(line.external_id)
        fresh.append(line)

    numbers = list({line.account_text for line in fresh})
    accounts: dict[str, tuple[int, dt.date | None]] = {}
    for part in _chunks(numbers):
        for pk, number, closed_on in Account.objects.filter(number__in=part).values_list(
            "pk", "number", "closed_on"
        ):
            accounts[number] = (pk, closed_on)

    with transaction.atomic(), acting_as(actor):
        registry = PaymentRegistry.objects.create(
            name=name[:200],
            sha256=sha,
            bank=bank[:100],
            imported_by=actor if getattr(actor, "pk", None) else None,
        )
        rows: list[Row] = []
        now = timezone.now()
        for line in fresh:
            found = accounts.get(line.account_text)
            account_id = None
            if found is not None and (found[1] is None or found[1] >= line.paid_on):
                account_id = found[0]
            rows.append(
                {
                    "account_id": account_id,
                    "account_text": line.account_text[:40],
                    "payer": "",
                    "amount_kop": line.amount_kop,
                    "paid_on": line.paid_on,
                    "received_at": now,
                    "source": Payment.Source.REGISTRY.value,
                    "provider": provider,
                    "external_id": line.external_id,
                    "period": line.period,
                    "status": (Payment.Status.ALLOCATED if account_id else Payment.Status.UNIDENTIFIED).value,
                    "registry_id": registry.pk,
                    "registry_line": line.line,
                }
            )
        bulk_insert(Payment, rows)
        pk_by_line = dict(Payment.objects.filter(registry=registry).values_list("registry_line", "pk"))
        payments = [
            _NewPayment(pk=pk_by_line[row["registry_line"]], **_new_payment_fields(row)) for row in rows
        ]
        identified = [p for p in payments if p.account_id is not None]
        account_ids = list({p.account_id for p in identified})
        for part in _chunks(account_ids):
            list(Account.objects.select_for_update().filter(pk__in=part).values_list("pk", flat=True))
        _save_postings(_postings(identified, actor))
        _announce(identified, actor)
        registry.lines = len(lines) + len(errors)
        registry.accepted = len(identified)
        registry.unidentified = len(payments) - len(identified)
        registry.duplicates = duplicates
        registry.rejected = len(errors)
        registry.total_kop = sum(p.amount_kop for p in payments)
        registry.errors = errors
        registry.save(
            update_fields=[
                "lines",
                "accepted",
                "unidentified",
                "duplicates",
                "rejected",
                "total_kop",
                "errors",
            ]
        )
        audit.log_change(registry, "create", None, audit.snapshot(registry, frozenset({"errors"})))
    registry.repeated = False  # type: ignore[attr-defined]
    return registry


# --- acquiring ---------------------------------------------------------------------------------


def acquiring_signature(secret: str, body: bytes) -> str:
    """``hex(HMAC-SHA256(secret, body))`` — the ``X-Okno-Signature`` of an acquiring callback."""
    import hmac

    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_acquiring_signature(secret: str, body: bytes, signature: str) -> bool:
    import hmac

    if not secret or not signature:
        return False
    return hmac.compare_digest(acquiring_signature(secret, body), signature.strip().lower())


def acquiring_payment(payload: dict[str, Any]) -> tuple[Payment | None, bool]:
    """Register a succeeded acquiring payment from a verified callback body. Returns
    ``(payment, created)``; ``(None, False)`` for a status other than ``succeeded``.

    A body naming a cabinet order (``order``: its token, see :mod:`okno.billing.online`) takes the
    account from the order (``account`` may then be left out). The order is marked paid only when the
    body's account (if given) and amount are the order's; otherwise the payment is registered as any
    other (the money came) but the order stays pending and a warning is logged for an operator. A
    ``declined``/``failed`` status declines the order. Registering and marking are one transaction;
    replays are idempotent."""
    from okno.billing import online

    status = str(payload.get("status", "")).lower()
    if status != "succeeded":
        if status in ("declined", "failed", "canceled", "cancelled"):
            online.order_declined(payload.get("order"))
        return None, False
    order = online.find_order(payload.get("order"))
    errors: dict[str, list[str]] = {}
    external_id = str(payload.get("payment_id") or "").strip()
    if not external_id:
        errors["payment_id"] = [_("This field is required.")]
    account_text = str(payload.get("account") or "").strip()
    if not account_text and order is None:
        errors["account"] = [_("This field is required.")]
    amount_kop = 0
    try:
        amount_kop = parse_amount(payload.get("amount", ""))
    except AmountTooLarge:
        errors["amount"] = [too_large_message()]
    except (ValueError, InvalidOperation):
        errors["amount"] = [_("A positive amount in roubles with at most two decimals is expected.")]
    paid_on = None
    try:
        paid_on = _paid_on(str(payload.get("paid_at") or ""))
    except ValueError:
        errors["paid_at"] = [_("An ISO 8601 date and time is expected.")]
    period = None
    if payload.get("period"):
        try:
            period = parse_period(str(payload["period"]))
        except ValueError:
            errors["period"] = [_("YYYY-MM expected.")]
    if errors:
        raise ValidationError(errors)
    assert paid_on is not None
    matches = order is not None and _order_matches(order, account_text, amount_kop)
    if order is not None and not matches:
        log.warning(
            "acquiring payment %s does not match order %s (account %r, amount %s kop; the order: %s, %s "
            "kop): registered as an ordinary payment, the order stays pending",
            external_id,
            order.pk,
            account_text[:40],
            amount_kop,
            order.account.number,
            order.amount_kop,
        )
    with transaction.atomic():
        existing = Payment.objects.filter(provider=ACQUIRING_PROVIDER, external_id=external_id).first()
        if existing is not None:
            if matches and existing.amount_kop == amount_kop and existing.account_id == order.account_id:  # type: ignore[union-attr]
                online.order_paid(order, existing)
            return existing, False
        payment = register_payment(
            amount_kop=amount_kop,
            paid_on=paid_on,
            source=Payment.Source.ACQUIRING,
            account=order.account if matches else None,  # type: ignore[union-attr]
            account_text=account_text or (order.account.number if order is not None else ""),
            provider=ACQUIRING_PROVIDER,
            external_id=external_id,
            period=period,
        )
        if matches:
            online.order_paid(order, payment)
    return payment, True


def _order_matches(order: Any, account_text: str, amount_kop: int) -> bool:
    """Whether a callback's account (when given) and amount are those of ``order``."""
    from okno.customers.numbers import normalize_account_number

    same_account = not account_text or normalize_account_number(account_text) == order.account.number
    return same_account and amount_kop == order.amount_kop


def _paid_on(text: str) -> dt.date:
    """The local date of ``paid_at`` (an ISO datetime; naive is taken as the server's zone)."""
    if not text:
        raise ValueError("empty")
    if len(text) == 10:
        return dt.date.fromisoformat(text)
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if timezone.is_naive(moment):
        return moment.date()
    return timezone.localtime(moment).date()


def payment_label(payment: Payment) -> str:
    period = f", {period_label(payment.period)}" if payment.period else ""
    return f"{payment.paid_on:%d.%m.%Y} {rub(payment.amount_kop)} ₽{period}"
