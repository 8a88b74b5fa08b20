"""An incoming SMS: readings go to billing (okno/billing/sms.py), other texts become appeals (channel
``sms``); :func:`handle` returns the reply text, which the caller sends through the notify SMS transport.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from okno.appeals.choices import Channel
from okno.appeals.models import Appeal
from okno.assistant.intake import common
from okno.billing.models import Reading
from okno.billing.sms import SmsParseError, parse_sms, receive_sms
from okno.customers.numbers import is_valid_phone, normalize_phone
from okno.org.models import system_actor

# Words that mark a text as readings even when the numbers are garbled.
READING_WORDS = re.compile(r"(?<![a-zа-яё])(лс|л/с|ls|показан\w*|pokazan\w*|[тt][123])(?![a-zа-яё])")
LETTERS = re.compile(r"[a-zа-яё]", re.IGNORECASE)
MIN_LETTERS = 10  # fewer letters than this is not a question we can register


@dataclass(frozen=True)
class SmsOutcome:
    kind: str  # "reading", "reading_refused", "appeal", "unclear"
    reply: str
    reading: Reading | None = None
    appeal: Appeal | None = None


def looks_like_reading(text: str) -> bool:
    """Readings: parseable by billing, or mostly digits, or with the words readings are written with."""
    body = (text or "").strip().lower()
    try:
        parse_sms(body)
        return True
    except SmsParseError:
        pass
    if READING_WORDS.search(body):
        return True
    letters = len(LETTERS.findall(body))
    digits = sum(ch.isdigit() for ch in body)
    return digits >= 6 and digits > letters


def please_describe() -> str:
    return _(
        "Please describe your question in a few words (what happened and where), or send meter readings "
        "as «account number readings», e.g. «5001234567 04512»."
    )


def handle_sms(
    *, phone: str, text: str, received_at: dt.datetime | None = None, user: Any = None
) -> SmsOutcome:
    """Route one SMS; the reply is in the site's language (Russian in production).

    ``user``: the gateway's staff account when the SMS comes through the API; its branch scope limits
    the accounts readings are accepted for (as :func:`okno.billing.sms.receive_sms` does) and the
    customer a text is registered for (one outside it is treated as an unknown sender)."""
    with translation.override(settings.LANGUAGE_CODE):
        body = (text or "").strip()
        if body and looks_like_reading(body):
            result = receive_sms(phone=phone, text=body, received_at=received_at, user=user)
            kind = "reading" if result.reading is not None else "reading_refused"
            return SmsOutcome(kind, result.reply, reading=result.reading)
        if len(LETTERS.findall(body)) < MIN_LETTERS:
            return SmsOutcome("unclear", please_describe())
        number = normalize_phone(phone) if phone and is_valid_phone(phone) else ""
        customer = common.customer_by_contact("phone", number, user=user)
        try:
            appeal = common.register(
                actor=system_actor("sms"),
                text=body,
                customer=customer,
                channel=Channel.SMS,
                contact_phone=number,
                contact_name="" if customer else _("SMS sender %(phone)s") % {"phone": number or phone},
                received_at=received_at,
            )
        except ValidationError:
            return SmsOutcome("unclear", please_describe())
        return SmsOutcome(
            "appeal",
            _("Your appeal is registered under number %(n)s. We will answer by %(date)s.")
            % {
                "n": appeal.number,
                "date": f"{appeal.deadline_at.astimezone(appeal.branch.tz):%d.%m.%Y}",
            },
            appeal=appeal,
        )


def handle(*, phone: str, text: str, received_at: dt.datetime | None = None) -> str:
    """The reply text only."""
    return handle_sms(phone=phone, text=text, received_at=received_at).reply
