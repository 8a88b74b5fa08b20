"""Readings by SMS: free formats parsed into an account number and values, answered with a reply.

Accepted formats (case and Cyrillic/Latin letters do not matter; see ``docs/billing/readings.md``):

* ``5001234567 04512 01877`` — the account number, then the values in the meter's zone order;
* ``лс 5001234567 показания 12345`` — with words (any words are ignored);
* ``ЛС5001234567 Т1 4512 Т2 1877`` — zones named T1/T2/T3 (Т in Cyrillic or T in Latin);
* decimals with a comma or a dot (``4512,5``); values are separated by spaces.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from okno.billing.models import Reading
from okno.billing.readings import ReadingRefused, format_values, submit_reading
from okno.customers.models import Account, ContactPoint
from okno.customers.numbers import normalize_account_number, normalize_phone
from okno.org.models import system_actor

# "Т1 4512", "t2=1877,5", "T3: 100"
_ZONE_RE = re.compile(r"(?<![a-zа-я])[tт]\s*([123])\s*[:=\-]?\s*(\d+(?:[.,]\d{1,3}(?!\d))?)")
# A number; a comma or dot followed by 1–3 digits is a decimal point, otherwise a separator.
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d{1,3}(?!\d))?")
EXAMPLE = "5001234567 04512 01877"


class SmsParseError(ValueError):
    """The text is not a reading; ``reply`` says how to write one."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


@dataclass(frozen=True)
class ParsedSms:
    account_number: str
    values: list[str]  # kWh as written, with a dot for decimals


def _how_to() -> str:
    return _(
        "Send the account number and the readings separated by spaces, e.g. «%(example)s», "
        "or by zones: «%(zones)s»."
    ) % {"example": EXAMPLE, "zones": "ЛС5001234567 Т1 4512 Т2 1877"}


def parse_sms(text: str) -> ParsedSms:
    """Split a free-format SMS into the account number and the values; :class:`SmsParseError` otherwise."""
    body = (text or "").strip().lower()
    if not body:
        raise SmsParseError(_("The message is empty.") + " " + _how_to())
    zoned: dict[int, str] = {}
    for match in _ZONE_RE.finditer(body):
        zone = int(match[1])
        if zone in zoned:
            raise SmsParseError(_("Zone T%(z)d is given twice.") % {"z": zone} + " " + _how_to())
        zoned[zone] = match[2]
    rest = _ZONE_RE.sub(" ", body)
    numbers = _NUMBER_RE.findall(rest)
    if not numbers:
        raise SmsParseError(_("No account number found.") + " " + _how_to())
    account, *values = numbers
    if not account.isdigit() or len(account) < 6:
        raise SmsParseError(_("“%(n)s” is not an account number.") % {"n": account} + " " + _how_to())
    if zoned:
        if values:
            raise SmsParseError(
                _("Give every value with its zone (T1, T2, T3) or none of them.") + " " + _how_to()
            )
        if sorted(zoned) != list(range(1, len(zoned) + 1)):
            raise SmsParseError(_("Zones must be T1, T2, T3 in order without gaps.") + " " + _how_to())
        values = [zoned[z] for z in sorted(zoned)]
    if not values:
        raise SmsParseError(_("No readings found after the account number.") + " " + _how_to())
    if len(values) > 3:
        raise SmsParseError(_("A meter has at most 3 zones.") + " " + _how_to())
    return ParsedSms(normalize_account_number(account), [v.replace(",", ".") for v in values])


@dataclass(frozen=True)
class SmsResult:
    reply: str
    reading: Reading | None


def receive_sms(
    *, phone: str, text: str, received_at: dt.datetime | None = None, user: Any = None
) -> SmsResult:
    """Parse, find the account, submit; the reply is in the site's language (Russian in production).

    ``user``: the staff account of the gateway when it comes through the API; its branch scope
    limits the accounts found (a company-wide gateway account sees them all).
    """
    with translation.override(settings.LANGUAGE_CODE):
        try:
            parsed = parse_sms(text)
        except SmsParseError as exc:
            return SmsResult(exc.reply, None)
        accounts = Account.objects.all() if user is None else Account.objects.restrict(user, "view")
        account = (
            accounts.select_related("service_point__branch", "customer")
            .filter(number=parsed.account_number)
            .first()
        )
        if account is None:
            return SmsResult(
                _("Account %(n)s not found. Check the number on your bill.") % {"n": parsed.account_number},
                None,
            )
        number = normalize_phone(phone)
        known = ContactPoint.objects.filter(
            customer_id=account.customer_id, kind="phone", value=number
        ).exists()
        received_at = received_at or timezone.now()
        try:
            reading = submit_reading(
                account=account,
                values=parsed.values,
                channel=Reading.Channel.SMS,
                actor=system_actor("sms"),
                taken_on=received_at.astimezone(account.service_point.branch.tz).date(),
                now=received_at,
                flags=[] if known else ["unknown_phone"],
            )
        except ReadingRefused as exc:
            return SmsResult(_("Readings not accepted: %(reason)s") % {"reason": exc.text}, None)
        values = format_values(reading.values_wh())
        if reading.status == Reading.Status.HELD:
            reply = _(
                "Readings received: %(values)s kWh, account %(n)s. They differ much from your usual "
                "consumption and will be checked by staff."
            )
        else:
            reply = _("Readings accepted: %(values)s kWh, account %(n)s, for %(period)s.")
        return SmsResult(
            reply % {"values": values, "n": account.number, "period": f"{reading.period:%m.%Y}"}, reading
        )


def handle_sms(*, phone: str, text: str, received_at: dt.datetime | None = None) -> str:
    """The reply text to an SMS with readings (accepted: "Readings accepted: …"; otherwise the reason)."""
    return receive_sms(phone=phone, text=text, received_at=received_at).reply
