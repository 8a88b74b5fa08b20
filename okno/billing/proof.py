"""Proof that a person holds an account: its number and a *check value* only the holder knows.

The check value is what the holder sees on paper at home:

* the amount to pay on the account's **last invoice** (``Invoice.total_kop`` of the latest period),
  typed in roubles as "1234.56", "1 234,56", "1234,5 ₽" or "1234" (whole roubles);
* for an account that has had no invoice yet, or whose last invoice's total is under one rouble
  (zero or an advance: a value anyone could guess), the **serial number of its meter** (one that is
  in service or faulty, not a removed one), compared without spaces, dashes and case.

Used by the personal cabinet (sign-up, linking another account) and the kiosk. Callers must show
one generic message when the result is ``None``: this module never says *which* part was wrong,
and it does the same queries and the same comparisons whether the account exists or not, so the
answer's timing does not tell an attacker that a number is real.

Billing may import customers, never the reverse, which is why this lives here.
"""

from __future__ import annotations

import hmac
import re
from decimal import Decimal, InvalidOperation

from okno.billing.models import Invoice, Meter
from okno.customers.models import Account
from okno.customers.numbers import is_valid_account_number, normalize_account_number

__all__ = ["account_by_proof", "check_value_hint", "normalize_amount_kop", "normalize_serial"]

_NO_ACCOUNT_ID = -1
#: An invoice total under this many kopecks (one rouble) is too easy to guess to be a proof.
MIN_PROOF_TOTAL_KOP = 100
_MAX_INPUT = 64
_AMOUNT_NOISE = re.compile(r"(?:₽|руб\.?|рублей|рубля|рубль|р\.|rub\.?|rur)", re.IGNORECASE)
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f'’]")
_AMOUNT = re.compile(r"-?\d+(?:[.,]\d{1,2})?")


def normalize_amount_kop(value: str) -> int | None:
    """An amount in roubles as people type it, in kopecks; ``None`` when it is not an amount.

    >>> normalize_amount_kop("1 234,56")
    123456
    >>> normalize_amount_kop("1234.5 ₽")
    123450
    """
    text = _SPACES.sub("", _AMOUNT_NOISE.sub("", (value or "")[:_MAX_INPUT]))
    if not _AMOUNT.fullmatch(text):
        return None
    try:
        amount = Decimal(text.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        return None
    return int((amount * 100).to_integral_value())


def normalize_serial(value: str) -> str:
    """A meter serial number for comparison: no spaces, dashes, "№"; upper case."""
    return re.sub(r"[\s\u00a0\-–—№#]", "", (value or "")[:_MAX_INPUT]).upper()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def account_by_proof(number: str, check_value: str) -> Account | None:
    """The open account with this number when the check value matches it, else ``None``.

    Both inputs are normalised (spaces and dashes in the number; see the module docstring for the
    check value). The same two queries and the same constant-time comparisons run whether the
    number is unknown, malformed, closed or real.
    """
    norm = normalize_account_number((number or "")[:_MAX_INPUT])
    account = None
    if is_valid_account_number(norm):
        account = Account.objects.filter(number=norm, closed_on__isnull=True).first()
    else:
        # Same query shape for a malformed number, so that the timing does not tell them apart.
        Account.objects.filter(number="", closed_on__isnull=True).first()
    account_id = account.pk if account is not None else _NO_ACCOUNT_ID
    invoice, serials = _expected(account_id)

    typed_kop = normalize_amount_kop(check_value)
    typed_serial = normalize_serial(check_value)
    if invoice is not None:
        expected = str(invoice)
        typed = str(typed_kop) if typed_kop is not None else "x"
        ok = _same(typed, expected)
    else:
        # Compare with every serial (or a dummy one) so the work does not depend on their count.
        matches = [_same(typed_serial, normalize_serial(serial)) for serial in serials or ["\x00"]]
        ok = bool(serials) and bool(typed_serial) and any(matches)
    return account if (account is not None and ok) else None


def _expected(account_id: int) -> tuple[int | None, list[str]]:
    """The last invoice's total (kopecks) and the serials of the meters in use of an account."""
    invoice = (
        Invoice.objects.filter(account_id=account_id)
        .order_by("-period", "-id")
        .values_list("total_kop", flat=True)
        .first()
    )
    if invoice is not None and invoice < MIN_PROOF_TOTAL_KOP:
        invoice = None  # 0 ₽ or an advance: fall back to the meter serial
    serials = list(
        Meter.objects.filter(account_id=account_id)
        .exclude(status=Meter.Status.REMOVED)
        .values_list("serial", flat=True)
    )
    return invoice, serials


def check_value_hint(account: Account) -> str:
    """Which check value this account takes (for staff and tests, never shown to the public)."""
    invoice, serials = _expected(account.pk)
    if invoice is not None:
        return f"{Decimal(invoice) / 100:.2f}"
    return serials[0] if serials else ""
