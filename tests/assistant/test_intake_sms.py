"""SMS intake: readings go to billing (accepted or refused with the reason), other texts become appeals."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from okno.appeals.models import Appeal
from okno.assistant import suggest
from okno.assistant.intake.sms import handle, handle_sms, looks_like_reading
from okno.billing.models import Reading
from tests.billing.conftest import metered, tariffs  # noqa: F401  (billing fixtures)
from tests.conftest import aware

IVANOV_PHONE = "+7 (912) 345-67-89"


@pytest.fixture(autouse=True)
def _no_model(monkeypatch):
    monkeypatch.setattr(suggest, "_classify", lambda text, out: None)


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("5001234567 04512 01877", True),
        ("лс 5001234567 показания 12345", True),
        ("ЛС5001234567 Т1 4512 Т2 1877", True),
        ("показания 4512", True),  # a reading without the account: billing explains the format
        ("5001234567", True),
        ("Когда дадут свет на улице Ленина?", False),
        ("Прошу перезвонить по счёту за январь", False),
        ("", False),
    ],
)
def test_what_counts_as_readings(text, reading):
    assert looks_like_reading(text) is reading


def test_a_reading_is_accepted(metered):  # noqa: F811
    number = metered.account.number

    out = handle_sms(
        phone=IVANOV_PHONE, text=f"лс {number} показания 1100,5", received_at=aware(2025, 2, 20, 9)
    )

    assert out.kind == "reading"
    assert out.reply == f"Readings accepted: 1100.5 kWh, account {number}, for 02.2025."
    assert Reading.objects.get(account=metered.account, kind="regular").t1_wh == 1_100_500
    assert not Appeal.objects.exists()


def test_a_reading_is_rejected_with_the_reason(metered):  # noqa: F811
    at = aware(2025, 2, 20, 9)

    lower = handle_sms(phone=IVANOV_PHONE, text=f"{metered.account.number} 900", received_at=at)
    garbled = handle_sms(phone=IVANOV_PHONE, text="показания 4512", received_at=at)

    assert lower.kind == garbled.kind == "reading_refused"
    assert lower.reply == "Readings not accepted: T1: 900 kWh is lower than the previous reading 1000 kWh."
    assert garbled.reply.startswith("“4512” is not an account number.")
    assert not Reading.objects.filter(kind="regular").exists()
    assert not Appeal.objects.exists()


def test_a_question_becomes_an_appeal_of_the_customer(customers):
    out = handle_sms(phone=IVANOV_PHONE, text="Когда дадут свет? Нет света с утра во всём доме.")

    appeal = Appeal.objects.get()
    assert out.kind == "appeal" and out.appeal == appeal
    assert (appeal.channel, appeal.customer, appeal.account) == (
        "sms",
        customers.ivanov,
        customers.acc_ivanov,
    )
    assert (appeal.contact_phone, appeal.preferred_answer_channel) == ("+79123456789", "sms")
    assert appeal.text == "Когда дадут свет? Нет света с утра во всём доме."
    assert out.reply.startswith(f"Your appeal is registered under number {appeal.number}. We will answer by ")


def test_a_question_from_an_unknown_phone(org):
    out = handle_sms(phone="89990001122", text="Прошу проверить начисления за январь")

    appeal = Appeal.objects.get()
    assert out.kind == "appeal"
    assert (appeal.customer, appeal.contact_phone, appeal.contact_name) == (
        None,
        "+79990001122",
        "SMS sender +79990001122",
    )


@pytest.mark.parametrize("text", ["", "   ", "?", "алло", "ок спс"])
def test_empty_or_unclear_texts_get_a_please_describe_reply(org, text):
    out = handle_sms(phone=IVANOV_PHONE, text=text)

    assert out.kind == "unclear"
    assert out.reply.startswith("Please describe your question in a few words")
    assert not Appeal.objects.exists()


def test_the_management_command_prints_the_reply(customers, capsys):
    call_command("intake", "sms", "--from", IVANOV_PHONE, "--text", "Прошу перезвонить по вопросу договора")

    appeal = Appeal.objects.get()
    assert capsys.readouterr().out.startswith(
        f"appeal: Your appeal is registered under number {appeal.number}."
    )
    assert handle(phone=IVANOV_PHONE, text="").startswith("Please describe")
