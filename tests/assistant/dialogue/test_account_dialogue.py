"""Identification by account number and check value (one answer whatever was wrong; throttled),
balance with the date to pay by, readings accepted or refused with the reason, the cabinet's accounts."""

from __future__ import annotations

import datetime as dt

import pytest

from okno.assistant.dialogue import account as acc
from tests.assistant.dialogue.conftest import bot_text, say

pytestmark = pytest.mark.django_db


def test_wrong_check_value_and_unknown_account_get_the_same_answer(metered, chat):
    from okno.customers.numbers import make_account_number

    conv = chat()
    say(conv, "хочу узнать баланс")
    assert conv.state["pending"]["kind"] == "ident_number"
    wrong_value = bot_text(say(conv, f"{metered.account.number} 99999999"))
    conv2 = chat()
    say(conv2, "баланс")
    unknown = bot_text(say(conv2, f"{make_account_number(9999)} 41234567"))
    assert wrong_value == unknown == acc.failed_text()
    assert conv.account is None and conv2.account is None


def test_identification_in_two_steps_then_balance(metered, chat, customers):
    from okno.billing.models import LedgerEntry

    LedgerEntry.objects.create(
        account=metered.account,
        kind=LedgerEntry.Kind.CHARGE,
        period=dt.date(2025, 5, 1),
        entry_date=dt.date(2025, 5, 31),
        due_date=dt.date(2025, 6, 10),
        amount_kop=123456,
    )
    conv = chat()
    say(conv, "сколько я должен?")
    out = say(conv, metered.account.number)
    assert "Now please write the check value" in bot_text(out)
    out = say(conv, "4123-4567")  # the meter's serial (no bill yet), typed with a dash
    text = bot_text(out)
    assert f"Thank you, account {metered.account.number} is confirmed." in text
    assert "you owe 1\u00a0234 rub. 56 kop." in text
    assert "Please pay by 10.06.2025." in text
    assert conv.customer == customers.ivanov and conv.account == metered.account


def test_throttle_per_account_number(metered, chat):
    number = metered.account.number
    for _ in range(5):
        conv = chat()
        say(conv, "баланс")
        assert bot_text(say(conv, f"{number} 11111111")) == acc.failed_text()
    conv = chat()
    say(conv, "баланс")
    out = say(conv, f"{number} 41234567")  # right, but the number has used up its allowance
    assert "Too many attempts. Please try again in" in bot_text(out)
    assert conv.account is None


def test_throttle_per_conversation(metered, chat):
    from okno.customers.numbers import make_account_number

    conv = chat()
    for i in range(5):
        say(conv, "баланс")
        assert bot_text(say(conv, f"{make_account_number(8000 + i)} 123")) == acc.failed_text()
    say(conv, "баланс")
    out = say(conv, f"{metered.account.number} 41234567")
    assert "Too many attempts" in bot_text(out)
    assert conv.account is None
    # Another conversation may still try this (real) account.
    other = chat()
    say(other, "баланс")
    assert "is confirmed" in bot_text(say(other, f"{metered.account.number} 41234567"))


def _identified(chat, metered):
    conv = chat()
    say(conv, "передать показания")
    say(conv, f"{metered.account.number} 41234567")
    return conv


def test_reading_accepted(metered, chat):
    from okno.billing.models import Reading

    conv = _identified(chat, metered)
    assert conv.state["pending"]["kind"] == "reading_values"
    assert "Meter 41234567." in bot_text(conv.messages.all())
    out = say(conv, "1234,5")
    reading = Reading.objects.filter(account=metered.account).exclude(kind=Reading.Kind.INITIAL).get()
    assert reading.t1_wh == 1_234_500
    assert reading.status in (Reading.Status.ACCEPTED, Reading.Status.HELD)
    assert "the reading 1234.5 kWh of meter 41234567" in bot_text(out)
    assert "pending" not in conv.state


def test_reading_refused_with_the_reason(metered, chat):
    from okno.billing.models import Reading

    conv = _identified(chat, metered)
    out = say(conv, "900")
    text = bot_text(out)
    assert "The reading was not accepted: T1: 900 kWh is lower than the previous reading 1000 kWh." in text
    assert Reading.objects.filter(account=metered.account).count() == 1
    assert conv.state["pending"]["kind"] == "reading_values"  # may write it again


def test_reading_with_the_wrong_number_of_zones_is_explained(metered, chat):
    conv = _identified(chat, metered)
    out = say(conv, "день 1200 ночь 300")
    assert bot_text(out) == "Your meter has 1 zones; please write 1 values."


def test_cabinet_uses_the_linked_account_without_proof(metered, chat, cabinet_user):
    conv = chat("cabinet", cabinet_user=cabinet_user)
    out = say(conv, "мой баланс")
    assert f"Account {metered.account.number}, as of" in bot_text(out)
    assert "there is no debt" in bot_text(out)


def test_cabinet_with_several_accounts_asks_which(metered, chat, cabinet_user, town):
    from okno.customers.models import CabinetLink

    other = town.grid.accounts["ТП-12"][0]
    CabinetLink.objects.create(user=cabinet_user, account=other)
    conv = chat("cabinet", cabinet_user=cabinet_user)
    assert conv.account is None
    out = say(conv, "баланс")
    values = [c["value"] for c in out[-1].choices]
    assert values == [f"acc:{metered.account.pk}", f"acc:{other.pk}"]
    out = say(conv, f"acc:{other.pk}")
    assert f"Account {other.number}" in bot_text(out)
    assert conv.account == other and conv.customer == other.customer


def test_throttle_per_messenger_chat_survives_a_new_conversation(metered, chat):
    """/start begins a new conversation; the failed identifications of that Telegram chat still count."""
    from okno.assistant.dialogue import engine
    from okno.customers.numbers import make_account_number

    for i in range(acc.CONVERSATION_FAILURES):
        conv = chat("messenger", external_id="telegram:5151")
        say(conv, "баланс")
        assert bot_text(say(conv, f"{make_account_number(8100 + i)} 123")) == acc.failed_text()
        engine.close(conv)
    conv = chat("messenger", external_id="telegram:5151")
    say(conv, "баланс")
    out = say(conv, f"{metered.account.number} 41234567")
    assert "Too many attempts" in bot_text(out)
    assert conv.account is None
    # The key is the chat, not the conversation; site conversations each have their own.
    assert acc.requester_key(conv) == acc.requester_key(chat("messenger", external_id="telegram:5151"))
    assert acc.requester_key(chat()) != acc.requester_key(chat())
