"""Readings by phone keypad (IVR): the account and one value per zone as digits, ``*`` for the decimal point.

The IVR plays a prompt by its key (``reading_accepted``, ``account_not_found``, ``lower_than_previous``…);
``text`` is the same prompt as words for a text-to-speech engine. Keys are listed in :data:`PROMPTS`
and in ``docs/billing/readings.md``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from okno.billing.models import Reading
from okno.billing.readings import ReadingRefused, format_values, submit_reading
from okno.customers.models import Account, ContactPoint
from okno.customers.numbers import normalize_account_number, normalize_phone
from okno.org.models import system_actor

PROMPTS = {
    "reading_accepted": gettext_lazy("Your readings are accepted: %(values)s. Thank you."),
    "reading_held": gettext_lazy("Your readings are received and will be checked by staff: %(values)s."),
    "invalid_input": gettext_lazy("The digits were not recognised. Please enter them again."),
    "account_not_found": gettext_lazy("Account not found. Please check the number on your bill."),
    "not_found": gettext_lazy("The account has no meter in service. Please call the operator."),
    "not_on_account": gettext_lazy("The meter is not on this account. Please call the operator."),
    "account_closed": gettext_lazy("The account is closed."),
    "future_date": gettext_lazy("The date of the reading is in the future."),
    "before_previous": gettext_lazy("A later reading has already been received."),
    "zones_mismatch": gettext_lazy("The number of values does not match the zones of your meter."),
    "lower_than_previous": gettext_lazy("The reading is lower than the previous one. Please check it."),
    "too_many_digits": gettext_lazy("The reading has more digits than your meter shows."),
    "invalid_value": gettext_lazy("The digits were not recognised. Please enter them again."),
    "meter_removed": gettext_lazy("The meter has been removed. Please call the operator."),
}
_DIGITS = re.compile(r"^\d+(\*\d+)?$")


@dataclass(frozen=True)
class IvrResult:
    ok: bool
    prompt: str
    text: str
    reading_id: int | None = None


def _result(prompt: str, reading: Reading | None = None, values: str = "") -> IvrResult:
    text = str(PROMPTS[prompt])
    if "%(values)s" in text:
        text = text % {"values": values}
    return IvrResult(reading is not None, prompt, text, reading.pk if reading else None)


def ivr_submit(
    *,
    account_digits: str,
    zone_digits: list[str],
    caller: str | None = None,
    now: dt.datetime | None = None,
    user: Any = None,
) -> IvrResult:
    """Submit the keyed-in reading; the answer names the prompt to play. ``user``: the IVR's staff
    account when it comes through the API (its branch scope limits the accounts found)."""
    with translation.override(settings.LANGUAGE_CODE):
        account_number = normalize_account_number((account_digits or "").strip("#"))
        digits = [(d or "").strip().strip("#") for d in zone_digits]
        if not account_number.isdigit() or not digits or not all(_DIGITS.match(d) for d in digits):
            return _result("invalid_input")
        accounts = Account.objects.all() if user is None else Account.objects.restrict(user, "view")
        account = (
            accounts.select_related("service_point__branch", "customer").filter(number=account_number).first()
        )
        if account is None:
            return _result("account_not_found")
        flags = []
        if caller:
            known = ContactPoint.objects.filter(
                customer_id=account.customer_id, kind="phone", value=normalize_phone(caller)
            ).exists()
            if not known:
                flags.append("unknown_phone")
        now = now or timezone.now()
        try:
            reading = submit_reading(
                account=account,
                values=[d.replace("*", ".") for d in digits],
                channel=Reading.Channel.IVR,
                actor=system_actor("ivr"),
                now=now,
                flags=flags,
            )
        except ReadingRefused as exc:
            prompt = exc.code if exc.code in PROMPTS else "invalid_value"
            return IvrResult(False, prompt, str(PROMPTS[prompt]), None)
        prompt = "reading_held" if reading.status == Reading.Status.HELD else "reading_accepted"
        return _result(prompt, reading, format_values(reading.values_wh()))
