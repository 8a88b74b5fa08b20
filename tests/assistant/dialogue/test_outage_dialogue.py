"""'Есть ли свет на Ленина 15': the chat answers from the outage data (off with the restoration time
while an outage is on; on after restoration), asks back when the address is ambiguous, says so when
it is unknown; in the cabinet "у меня" means the account's address."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from okno.assistant.dialogue import engine
from tests.assistant.dialogue.conftest import bot_text, say

pytestmark = pytest.mark.django_db


def _outage_on_tp12(org, town):
    from okno.outages import actions

    etr = timezone.now().replace(microsecond=0) + dt.timedelta(hours=3)
    outage = actions.register_unplanned(
        node=town.grid.tp12, actor=org.dispatcher_a, cause="equipment", etr=etr, reason="повреждение кабеля"
    )
    return outage, etr


def test_power_off_with_etr_then_on_after_restoration(org, town, chat):
    from okno.outages import actions

    outage, etr = _outage_on_tp12(org, town)
    conv = chat()
    out = say(conv, "Есть ли свет в Северске на Ленина 15?")
    text = bot_text(out)
    local = timezone.localtime(etr, org.a.tz)
    assert (
        f"There is no power at Северск, ул. Ленина, д. 15: outage {outage.number}, повреждение кабеля."
        in text
    )
    assert f"Estimated restoration: {local:%d.%m.%Y %H:%M} (local time, UTC+3)." in text

    actions.restore(outage, actor=org.dispatcher_a)
    out = say(conv, "есть ли свет на Ленина 15 в Северске")
    assert (
        "According to our data there is power at Северск, ул. Ленина, д. 15: no outages there now."
        in bot_text(out)
    )


def test_ambiguous_address_asks_back_with_choices_and_the_choice_answers(org, town, chat):
    outage, _etr = _outage_on_tp12(org, town)
    conv = chat()
    out = say(conv, "есть ли свет на Ленина 15")
    question = out[-1]
    assert question.text == "I found several addresses like this. Which one do you mean?"
    labels = sorted(c["label"] for c in question.choices)
    assert labels == ["Берёзовка, ул. Ленина, д. 15", "Северск, ул. Ленина, д. 15"]
    seversk = next(c for c in question.choices if c["label"].startswith("Северск"))
    assert conv.state["pending"]["kind"] == "address_choice"

    out = say(conv, seversk["value"])
    assert f"outage {outage.number}" in bot_text(out)
    assert "pending" not in conv.state

    # The label typed instead of pressed works as well; Берёзовка is under another feeder: power on.
    say(conv, "есть ли свет на Ленина 15")
    out = say(conv, "Берёзовка, ул. Ленина, д. 15")
    assert "there is power at Берёзовка, ул. Ленина, д. 15" in bot_text(out)


def test_unknown_address_says_so_and_asks_for_settlement_street_house(town, chat):
    conv = chat()
    out = say(conv, "нет света на ул. Несуществующая 5")
    assert "I did not find the address «ул. Несуществующая 5» in our records." in bot_text(out)
    assert conv.state["pending"]["kind"] == "address_text"
    out = say(conv, "Северск, Ленина 3")
    assert "there is power at Северск, ул. Ленина, д. 3" in bot_text(out)


def test_no_address_asks_for_one(town, chat):
    conv = chat()
    out = say(conv, "у нас нет света")
    assert bot_text(out) == (
        "Please write the address: settlement, street and house, for example «Seversk, Lenina street 15»."
    )


def test_cabinet_user_with_one_account_means_its_address(org, town, chat, cabinet_user):
    from okno.outages import actions

    outage = actions.register_unplanned(node=town.grid.tp11, actor=org.dispatcher_a, cause="weather")
    conv = chat("cabinet", cabinet_user=cabinet_user)
    out = say(conv, "у меня нет света")
    text = bot_text(out)
    assert f"There is no power at Северск, ул. Ленина, д. 10: outage {outage.number}" in text
    assert "the restoration time is not known yet" in text


def test_planned_works_are_announced(org, town, chat):
    from okno.outages import actions

    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=2)
    actions.schedule_planned(
        node=town.grid.tp12,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=4),
        reason="замена трансформатора",
        actor=org.dispatcher_a,
    )
    conv = chat()
    out = say(conv, "будет ли свет на Северск, Ленина 4")
    local = timezone.localtime(start, org.a.tz)
    assert f"Planned works: from {local:%d.%m.%Y %H:%M} (local time, UTC+3)" in bot_text(out)
    assert "замена трансформатора" in bot_text(out)
    assert engine  # the module under test
