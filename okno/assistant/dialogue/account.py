"""The customer's account in a chat: identification, the balance with the date to pay by, readings.

* Public channels (site chat, messenger): the account number and its check value
  (:func:`okno.billing.proof.account_by_proof`: the amount of the last bill, or the meter's serial
  number before the first bill). Attempts are throttled per requester (the messenger chat, else the
  conversation: :func:`requester_key`) and per account number (the
  number's allowance is shared with the cabinet and the kiosk: :data:`okno.portal.abuse.PROOF_SCOPE`);
  a failure says one thing whatever was wrong, so nobody learns whether an account exists.
* The cabinet: the accounts the cabinet user holds (chosen when there are several).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from okno.assistant.dialogue.texts import local_date, money
from okno.assistant.models import Conversation
from okno.billing.models import Meter, Reading
from okno.customers.models import Account
from okno.portal import abuse

#: Failed identifications per conversation in an hour (the account number has its own allowance).
CONVERSATION_SCOPE = "assistant-proof"
CONVERSATION_FAILURES = 5
CONVERSATION_WINDOW_S = 3600

# Words around the number and the check value that are neither ("л/с 0000010017, сумма 1234,56").
_LABELS = re.compile(
    r"(?i)(?<![а-яё])(?:л\s*/\s*с|лс|лицев\w*|сч[её]т\w*|номер\w*|№|проверочн\w*|значени\w*|сумм\w*|"
    r"заводск\w*|и|мой|моя|мои)(?![а-яё])"
)
_VALUE = re.compile(r"(?<![\d.,])\d{1,7}(?:[.,]\d{1,3})?(?![\d])")


def cabinet_accounts(conversation: Conversation) -> QuerySet[Account]:
    if conversation.cabinet_user_id is None:
        return Account.objects.none()
    return (
        Account.objects.filter(cabinetlink__user_id=conversation.cabinet_user_id, closed_on__isnull=True)
        .select_related("customer", "service_point__address", "service_point__branch")
        .order_by("cabinetlink__linked_at", "pk")
    )


def split_proof(text: str) -> tuple[str, str]:
    """(account number, the rest) from "0000010017 1234,56" or "000-001-0017, 4123 4567"; ("", "") when
    the message has no ten digits in a row (spaces and dashes between them allowed)."""
    cleaned = (text or "")[:200]
    for m in re.finditer(r"(?<!\d)\d", cleaned):
        digits, pos = 0, m.start()
        while pos < len(cleaned) and digits < 10:
            ch = cleaned[pos]
            if ch.isdigit():
                digits += 1
            elif ch not in " -" or not (pos + 1 < len(cleaned) and cleaned[pos + 1].isdigit()):
                break
            pos += 1
        if digits == 10 and not (pos < len(cleaned) and cleaned[pos].isdigit()):
            number = re.sub(r"\D", "", cleaned[m.start() : pos])
            rest = (cleaned[: m.start()] + " " + cleaned[pos:]).strip(" ,;:-")
            rest = _LABELS.sub(" ", rest)
            rest = rest.strip(" ,;:-.") if any(ch.isalnum() for ch in rest) else ""
            return number, " ".join(rest.split())
    return "", ""


def requester_key(conversation: Conversation) -> str:
    """Who asks, for the per-person limits: the messenger chat or the cabinet user — so that starting a
    new conversation (``/start``, "new conversation") does not give a fresh allowance — else the site
    conversation itself (new ones are limited per IP address by the chat channels)."""
    if conversation.external_id:
        return abuse.hashed_key(f"ext:{conversation.external_id}")
    if conversation.cabinet_user_id is not None:
        return f"cabinet:{conversation.cabinet_user_id}"
    return str(conversation.public_id)


def checks(conversation: Conversation, number: str) -> list[abuse.Check]:
    return [
        (CONVERSATION_SCOPE, requester_key(conversation), CONVERSATION_FAILURES, CONVERSATION_WINDOW_S),
        (abuse.PROOF_SCOPE, abuse.account_key(number), abuse.PROOF_FAILURES, abuse.PROOF_WINDOW_S),
    ]


def identify(conversation: Conversation, number: str, check_value: str) -> tuple[Account | None, int]:
    """(the account, 0) when proved; (None, minutes to wait) when throttled; (None, 0) when wrong."""
    from okno.billing.proof import account_by_proof

    wait, counted = abuse.take(checks(conversation, number))
    if wait:
        return None, wait
    account = account_by_proof(number, check_value)
    if account is not None:
        abuse.give_back(counted)
    return account, 0


def failed_text() -> str:
    return _(
        "We could not confirm the account with these details. Please check the account number and the check "
        "value (the amount to pay on your last bill, or your meter's serial number if you have had no bill "
        "yet) and try again."
    )


def throttled_text(minutes: int) -> str:
    return _("Too many attempts. Please try again in %(minutes)s min or talk to an operator.") % {
        "minutes": minutes
    }


def ask_proof_text() -> str:
    return _(
        "First I need to confirm your account. Please write the account number and the check value: the "
        "amount to pay on your last bill (or your meter's serial number if you have had no bill yet), for "
        "example «0000010017 1234,56»."
    )


# --- balance ------------------------------------------------------------------------------------


def balance_text(account: Account) -> str:
    from okno.portal.cabinet.account_queries import account_cards

    account = Account.objects.select_related("service_point__branch", "service_point__address").get(
        pk=account.pk
    )
    card = account_cards([account])[0]
    params = {"account": account.number, "date": local_date(card.as_of)}
    parts: list[str] = []
    if card.balance_kop > 0:
        parts.append(
            _("Account %(account)s, as of %(date)s: you owe %(amount)s.")
            % {**params, "amount": money(card.balance_kop)}
        )
        if card.overdue_kop > 0:
            parts.append(_("Of this, %(amount)s is overdue.") % {"amount": money(card.overdue_kop)})
        if card.due_date is not None:
            parts.append(_("Please pay by %(date)s.") % {"date": local_date(card.due_date)})
    elif card.balance_kop < 0:
        parts.append(
            _("Account %(account)s, as of %(date)s: you have paid %(amount)s in advance.")
            % {**params, "amount": money(card.balance_kop)}
        )
    else:
        parts.append(_("Account %(account)s, as of %(date)s: there is no debt.") % params)
    if card.last_invoice is not None:
        parts.append(
            _("The last bill, for %(period)s: %(amount)s.")
            % {"period": f"{card.last_invoice.period:%m.%Y}", "amount": money(card.last_invoice.total_kop)}
        )
    return " ".join(parts)


# --- readings -----------------------------------------------------------------------------------


def meters(account: Account) -> list[Meter]:
    return list(
        Meter.objects.filter(account=account)
        .exclude(status=Meter.Status.REMOVED)
        .order_by("-installed_on", "-pk")
    )


def meter_prompt(meter: Meter) -> str:
    from okno.billing.queries import zone_label

    last = (
        Reading.objects.filter(meter=meter, status=Reading.Status.ACCEPTED)
        .order_by("-period", "-taken_on", "-id")
        .first()
    )
    zones = [zone_label(meter.zones, z) for z in range(1, meter.zones + 1)]
    parts = [_("Meter %(serial)s.") % {"serial": meter.serial}]
    if last is not None:
        from okno.billing.readings import format_values

        parts.append(
            _("The last accepted reading: %(values)s kWh on %(date)s.")
            % {"values": format_values(last.values_wh()), "date": local_date(last.taken_on)}
        )
    if meter.zones == 1:
        parts.append(
            _("Please write the current reading in kWh, for example «%(example)s».") % {"example": "12345"}
        )
    else:
        parts.append(
            _(
                "The meter has %(n)s zones (%(zones)s): please write the readings in this order, for example «%(example)s»."
            )
            % {
                "n": meter.zones,
                "zones": ", ".join(zones),
                "example": " ".join(["12345", "6789", "2345"][: meter.zones]),
            }
        )
    return " ".join(parts)


def reading_values(text: str, zones: int) -> tuple[list[Decimal] | None, str]:
    """The values for a ``zones``-zone meter from a message, or None with why not."""
    from okno.assistant.extract import extract

    found = extract(text, resolve_addresses=False)
    values: list[Decimal] = []
    if found.readings:
        mention = found.readings[0]
        if mention.meter_zones and mention.meter_zones != zones:
            return None, _("Your meter has %(n)s zones; please write %(n)s values.") % {"n": zones}
        values = list(mention.values)
    if not values:
        cleaned = re.sub(r"\b\d{10}\b", " ", text or "")  # an account number is not a reading
        values = [Decimal(v.replace(",", ".")) for v in _VALUE.findall(cleaned)]
    if not values:
        return None, _("I did not find the readings in your message: please write them as numbers.")
    if len(values) != zones:
        return None, _("Your meter has %(n)s zones; please write %(n)s values.") % {"n": zones}
    return values, ""


def reading_channel(conversation: Conversation) -> str:
    """Billing's channel for a reading taken in this chat ("cabinet" there; "chat" once billing has it)."""
    codes = set(Reading.Channel.values)
    if conversation.channel == Conversation.ChannelKind.CABINET:
        return Reading.Channel.CABINET
    for code in (conversation.channel, "chat"):
        if code in codes:
            return code
    return Reading.Channel.CABINET


def submit(
    conversation: Conversation, account: Account, meter: Meter, values: list[Decimal], actor: Any
) -> tuple[bool, str]:
    """Hand the reading to billing with the same rules as the cabinet; (accepted or held, the answer)."""
    from okno.billing.readings import ReadingRefused, format_values, submit_reading

    try:
        reading = submit_reading(
            account=account, values=values, channel=reading_channel(conversation), actor=actor, meter=meter
        )
    except ReadingRefused as exc:
        return False, _("The reading was not accepted: %(reason)s") % {"reason": exc.text}
    shown = format_values(reading.values_wh())
    if reading.status == Reading.Status.HELD:
        return True, _(
            "Thank you, the reading %(values)s kWh of meter %(serial)s is received. It differs a lot from the "
            "usual consumption, so a specialist will check it before billing."
        ) % {"values": shown, "serial": meter.serial}
    return True, _(
        "Thank you, the reading %(values)s kWh of meter %(serial)s is accepted for %(period)s."
    ) % {
        "values": shown,
        "serial": meter.serial,
        "period": f"{reading.period:%m.%Y}",
    }
