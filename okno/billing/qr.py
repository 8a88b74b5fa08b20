"""The payment QR code of GOST R 56042-2014 ("two-dimensional barcode symbols for payments by
individuals"), which Russian banking apps read to fill in a payment.

A payload is a service header and ``key=value`` requisites joined by a separator::

    ST00012|Name=…|PersonalAcc=…|BankName=…|BIC=…|CorrespAcc=…|PayeeINN=…|KPP=…|Sum=123456|…

* the header is the format identifier ``ST``, the standard's version ``0001`` and the encoding
  digit (``1`` Windows-1251, ``2`` UTF-8, ``3`` KOI8-R); Okno writes UTF-8, hence ``ST00012``;
* the separator is the character right after the header; Okno uses ``|``, and a value may not
  contain it: in free text (names, purpose) it is replaced by ``/``, in codes and numbers it is an
  error;
* the mandatory block is ``Name``, ``PersonalAcc``, ``BankName``, ``BIC``, ``CorrespAcc`` in this
  order; then the additional requisites (``Sum`` in kopecks, ``Purpose``, ``PayeeINN``, ``KPP``…)
  and the other ones (``PersAcc`` — the payer's account with the payee, ``PaymPeriod`` — the period,
  ``MMYYYY``).

Field lengths follow the standard's tables 1 and 2 (:data:`MAX_LENGTH`); a value over its length is
refused with :class:`QRPayloadError` rather than silently cut, except the purpose, which Okno writes
itself and shortens.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import segno

FORMAT_ID = "ST"
VERSION = "0001"
ENCODING_UTF8 = "2"
HEADER = FORMAT_ID + VERSION + ENCODING_UTF8
SEPARATOR = "|"
ENCODINGS = {"1": "cp1251", "2": "utf-8", "3": "koi8-r"}
MASK = 2

MANDATORY = ("Name", "PersonalAcc", "BankName", "BIC", "CorrespAcc")

# Maximum length in characters (GOST R 56042-2014, tables 1 and 2).
MAX_LENGTH = {
    "Name": 160,
    "PersonalAcc": 20,
    "BankName": 45,
    "BIC": 9,
    "CorrespAcc": 20,
    "Sum": 18,
    "Purpose": 210,
    "PayeeINN": 12,
    "PayerINN": 12,
    "DrawerStatus": 2,
    "KPP": 9,
    "CBC": 20,
    "OKTMO": 11,
    "PaytReason": 2,
    "TaxPeriod": 10,
    "DocNo": 15,
    "DocDate": 10,
    "TaxPaytKind": 2,
    # Table 3 (other requisites) sets no lengths; these keep the symbol small.
    "PersAcc": 30,
    "PaymPeriod": 6,
    "LastName": 60,
    "FirstName": 60,
    "MiddleName": 60,
    "PayerAddress": 210,
}

# Codes and numbers: a value that does not match is refused (a bank app would reject the payment).
PATTERNS = {
    "PersonalAcc": re.compile(r"^\d{20}$"),
    "BIC": re.compile(r"^\d{9}$"),
    "CorrespAcc": re.compile(r"^(\d{20}|0)$"),
    "PayeeINN": re.compile(r"^(\d{10}|\d{12})$"),
    "KPP": re.compile(r"^[0-9A-Z]{9}$"),
    "Sum": re.compile(r"^\d{1,18}$"),
    "PaymPeriod": re.compile(r"^(0[1-9]|1[0-2])\d{4}$"),
    "PersAcc": re.compile(r"^[0-9A-Za-z\-/]{1,30}$"),
}
# Free-text requisites: the separator and line breaks are replaced, not refused.
TEXT_FIELDS = frozenset(
    {"Name", "BankName", "Purpose", "LastName", "FirstName", "MiddleName", "PayerAddress"}
)
_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


class QRPayloadError(ValueError):
    """A requisite cannot be written into (or was not found in) a GOST R 56042 payload."""


def clean_value(key: str, value: Any) -> str:
    """The value as it goes into the payload, or :class:`QRPayloadError`."""
    text = str(value).strip()
    if key in TEXT_FIELDS:
        text = " ".join(text.replace(SEPARATOR, "/").split())
        if key == "Purpose" and len(text) > MAX_LENGTH[key]:
            text = text[: MAX_LENGTH[key] - 1].rstrip() + "…"
    if not text:
        raise QRPayloadError(f"{key} is empty")
    if SEPARATOR in text or "\n" in text or "\r" in text:
        raise QRPayloadError(f"{key} contains the separator {SEPARATOR!r} or a line break")
    limit = MAX_LENGTH.get(key)
    if limit is not None and len(text) > limit:
        raise QRPayloadError(f"{key} is longer than {limit} characters")
    pattern = PATTERNS.get(key)
    if pattern is not None and not pattern.match(text):
        raise QRPayloadError(f"{key} {text!r} is not valid")
    return text


def encode(fields: dict[str, Any]) -> str:
    """A payload from requisites: the mandatory five first (in the standard's order), then the rest in
    the given order; requisites whose value is ``None`` or ``""`` are left out."""
    missing = [k for k in MANDATORY if fields.get(k) in (None, "")]
    if missing:
        raise QRPayloadError(f"missing mandatory requisites: {', '.join(missing)}")
    parts = [HEADER]
    for key in (*MANDATORY, *(k for k in fields if k not in MANDATORY)):
        value = fields[key]
        if value is None or value == "":
            continue
        if not _KEY_RE.match(key):
            raise QRPayloadError(f"bad requisite name {key!r}")
        parts.append(f"{key}={clean_value(key, value)}")
    return SEPARATOR.join(parts)


def payment_period(period: dt.date) -> str:
    """``PaymPeriod`` of a billing period: ``date(2026, 3, 1)`` → ``032026``."""
    return f"{period.month:02d}{period.year:04d}"


def build_payload(payee: Any, account: Any, period: dt.date, sum_kop: int, purpose: str) -> str:
    """The payload of an invoice: ``payee`` is a :class:`~okno.billing.models.PayeeDetails`,
    ``account`` an account (or its number), ``sum_kop`` the amount to pay in kopecks (a negative
    amount — an advance — is written as 0)."""
    number = account if isinstance(account, str) else account.number
    return encode(
        {
            "Name": payee.name,
            "PersonalAcc": payee.settlement_account,
            "BankName": payee.bank_name,
            "BIC": payee.bic,
            "CorrespAcc": payee.correspondent_account or "0",
            "PayeeINN": payee.inn,
            "KPP": payee.kpp or None,
            "Sum": str(max(int(sum_kop), 0)),
            "Purpose": purpose,
            "PersAcc": number,
            "PaymPeriod": payment_period(period),
        }
    )


def parse_payload(text: str) -> dict[str, str]:
    """Requisites of a payload (any of the three encodings' headers; the separator is the character
    after the header). Raises :class:`QRPayloadError` for a foreign text or missing requisites."""
    if len(text) < 8 or text[:2] != FORMAT_ID or text[2:6] != VERSION or text[6] not in ENCODINGS:
        raise QRPayloadError("not a GOST R 56042-2014 payload")
    separator = text[7]
    fields: dict[str, str] = {}
    for part in text[8:].split(separator):
        if not part:
            continue  # a trailing separator
        key, eq, value = part.partition("=")
        if not eq or not _KEY_RE.match(key):
            raise QRPayloadError(f"bad requisite {part!r}")
        fields[key] = value
    missing = [k for k in MANDATORY if not fields.get(k)]
    if missing:
        raise QRPayloadError(f"missing mandatory requisites: {', '.join(missing)}")
    return fields


def make_qr(payload: str) -> segno.QRCode:
    """The QR symbol: byte mode in UTF-8 without an ECI header (what banking apps expect), error
    correction level M, not boosted, so every invoice's code has the same density.

    The mask pattern is fixed (:data:`MASK`) rather than chosen by scoring all eight: every mask is
    valid for decoders, and the scoring is 85 % of segno's time (40 ms of 45 for an invoice's code)."""
    return segno.make_qr(payload, error="m", boost_error=False, encoding="utf-8", mask=MASK)


def qr_png_data_uri(payload: str) -> str:
    """A ``data:`` URI of a PNG with one pixel per module, for ``<img>`` scaled with
    ``image-rendering: pixelated`` (how the PDF invoice embeds it: WeasyPrint draws an inline SVG
    path of a version-14 code in ~60 ms, this image in ~1 ms, and the modules stay sharp)."""
    return make_qr(payload).png_data_uri(scale=1, border=4)


def qr_svg(payload: str) -> str:
    """An inline ``<svg>`` of the code (with a viewBox, so CSS sets its printed size)."""
    return make_qr(payload).svg_inline(scale=1, border=4, omitsize=True, svgclass="payment-qr")
