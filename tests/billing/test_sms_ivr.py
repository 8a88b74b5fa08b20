"""Readings by SMS (free formats, replies) and by IVR (digits, prompts), directly and through the API."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from okno.billing.ivr import ivr_submit
from okno.billing.models import Reading
from okno.billing.sms import ParsedSms, SmsParseError, handle_sms, parse_sms
from okno.customers.models import ContactEvent
from tests.conftest import aware

IVANOV_PHONE = "+7 (912) 345-67-89"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("500123456 04512 01877", ParsedSms("500123456", ["04512", "01877"])),
        ("лс 500123456 показания 12345", ParsedSms("500123456", ["12345"])),
        ("ЛС500123456 Т1 4512 Т2 1877", ParsedSms("500123456", ["4512", "1877"])),
        ("ls500123456 t1 4512,5 t2 1877.25", ParsedSms("500123456", ["4512.5", "1877.25"])),
        ("Л/С 500123456 T2=1877 T1=4512", ParsedSms("500123456", ["4512", "1877"])),  # zones sorted
        ("5001234567 12345,6", ParsedSms("5001234567", ["12345.6"])),
        ("500123456, 4512, 1877", ParsedSms("500123456", ["4512", "1877"])),
        ("  500123456   т1:100 т2:50 т3:20 ", ParsedSms("500123456", ["100", "50", "20"])),
    ],
)
def test_free_formats_are_parsed(text, parsed):
    assert parse_sms(text) == parsed


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("", "The message is empty."),
        ("привет", "No account number found."),
        ("500123456", "No readings found after the account number."),
        ("500123456 Т1 4512 Т3 10", "Zones must be T1, T2, T3 in order without gaps."),
        ("500123456 Т1 4512 1877", "Give every value with its zone (T1, T2, T3) or none of them."),
        ("123 4512", "“123” is not an account number."),
        ("500123456 1 2 3 4", "A meter has at most 3 zones."),
    ],
)
def test_unreadable_messages_get_a_helpful_reply(text, start):
    with pytest.raises(SmsParseError) as exc:
        parse_sms(text)

    assert exc.value.reply.startswith(start)
    assert "Send the account number and the readings separated by spaces" in exc.value.reply


def test_sms_from_the_customer_phone_is_accepted(metered):
    number = metered.account.number

    reply = handle_sms(
        phone=IVANOV_PHONE, text=f"лс {number} показания 1100,5", received_at=aware(2025, 2, 20, 9)
    )

    assert reply == f"Readings accepted: 1100.5 kWh, account {number}, for 02.2025."
    r = Reading.objects.get(account=metered.account, kind="regular")
    assert (r.channel, r.t1_wh, r.flags, r.taken_on) == ("sms", 1_100_500, [], dt.date(2025, 2, 20))
    assert ContactEvent.objects.get(ref_type="billing.reading", ref_id=r.pk).channel == "sms"


def test_sms_from_an_unknown_phone_is_accepted_and_flagged(metered):
    reply = handle_sms(
        phone="+79990000000", text=f"{metered.account.number} 1100", received_at=aware(2025, 2, 20, 9)
    )

    assert reply.startswith("Readings accepted: 1100 kWh")
    assert Reading.objects.get(account=metered.account, kind="regular").flags == ["unknown_phone"]


def test_sms_refusals_are_explained(metered):
    number = metered.account.number
    at = aware(2025, 2, 20, 9)

    lower = handle_sms(phone=IVANOV_PHONE, text=f"{number} 900", received_at=at)
    zones = handle_sms(phone=IVANOV_PHONE, text=f"{number} Т1 1100 Т2 500", received_at=at)
    unknown = handle_sms(phone=IVANOV_PHONE, text="1234567890 1100", received_at=at)
    garbage = handle_sms(phone=IVANOV_PHONE, text="когда дадут свет?", received_at=at)

    assert lower == "Readings not accepted: T1: 900 kWh is lower than the previous reading 1000 kWh."
    assert zones == "Readings not accepted: The meter has 1 tariff zone(s); 2 value(s) were given."
    assert unknown == "Account 1234567890 not found. Check the number on your bill."
    assert garbage.startswith("No account number found.")
    assert not Reading.objects.filter(kind="regular").exists()


def test_sms_reading_after_the_25th_counts_for_next_month_in_local_time(metered):
    # 22:30 UTC on 25 February is 01:30 on 26 February in Moscow: March.
    reply = handle_sms(
        phone=IVANOV_PHONE,
        text=f"{metered.account.number} 1100",
        received_at=aware(2025, 2, 25, 22, 30, "UTC"),
    )

    assert reply.endswith("for 03.2025.")


def test_ivr_accepts_digits_with_star_as_decimal_point(metered):
    result = ivr_submit(account_digits=metered.account.number, zone_digits=["1100*5"], caller="89123456789")

    assert (result.ok, result.prompt, result.text) == (
        True,
        "reading_accepted",
        "Your readings are accepted: 1100.5. Thank you.",
    )
    r = Reading.objects.get(pk=result.reading_id)
    assert (r.channel, r.t1_wh, r.flags) == ("ivr", 1_100_500, [])


@pytest.mark.parametrize(
    ("account", "zones", "prompt", "text"),
    [
        (
            None,
            ["999"],
            "lower_than_previous",
            "The reading is lower than the previous one. Please check it.",
        ),
        (
            None,
            ["1100", "5"],
            "zones_mismatch",
            "The number of values does not match the zones of your meter.",
        ),
        (None, ["1100*55"], "too_many_digits", "The reading has more digits than your meter shows."),
        (
            "1234567890",
            ["1100"],
            "account_not_found",
            "Account not found. Please check the number on your bill.",
        ),
        (None, ["11#00"], "invalid_input", "The digits were not recognised. Please enter them again."),
        (None, [], "invalid_input", "The digits were not recognised. Please enter them again."),
    ],
)
def test_ivr_refusals_name_the_prompt(metered, account, zones, prompt, text):
    result = ivr_submit(account_digits=account or metered.account.number, zone_digits=zones)

    assert (result.ok, result.prompt, result.text, result.reading_id) == (False, prompt, text, None)


def test_ivr_from_an_unknown_caller_is_flagged(metered):
    result = ivr_submit(account_digits=metered.account.number, zone_digits=["1100"], caller="+79990000000")

    assert Reading.objects.get(pk=result.reading_id).flags == ["unknown_phone"]


def _client(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_sms_gateway_endpoint(metered, org):
    client = _client(org.cc_operator)

    ok = client.post(
        "/api/v1/readings/sms/",
        {"phone": IVANOV_PHONE, "text": f"{metered.account.number} 1100"},
        format="json",
    )
    bad = client.post("/api/v1/readings/sms/", {"phone": IVANOV_PHONE, "text": "?"}, format="json")
    forbidden = _client(org.security).post(
        "/api/v1/readings/sms/", {"phone": "1", "text": "x"}, format="json"
    )

    assert ok.status_code == 200
    body = ok.json()
    assert (body["accepted"], body["status"]) == (True, "accepted")
    assert body["reply"].startswith("Readings accepted: 1100 kWh")
    assert Reading.objects.get(pk=body["reading_id"]).channel == "sms"
    assert bad.status_code == 200
    assert (bad.json()["accepted"], bad.json()["reading_id"]) == (False, None)
    assert forbidden.status_code == 403


def test_ivr_endpoint(metered, org):
    client = _client(org.cc_operator)

    ok = client.post(
        "/api/v1/readings/ivr/", {"account": metered.account.number, "zones": ["1100*2"]}, format="json"
    )
    lower = client.post(
        "/api/v1/readings/ivr/", {"account": metered.account.number, "zones": ["10"]}, format="json"
    )

    assert ok.status_code == 200
    assert ok.json()["prompt"] == "reading_accepted"
    assert Reading.objects.get(pk=ok.json()["reading_id"]).t1_wh == 1_100_200
    assert lower.json() == {
        "ok": False,
        "prompt": "lower_than_previous",
        "text": "The reading is lower than the previous one. Please check it.",
        "reading_id": None,
    }


def test_gateway_account_of_one_branch_finds_only_its_accounts(metered, org):
    body = {"phone": IVANOV_PHONE, "text": f"{metered.account.number} 1100"}

    other = _client(org.operator_b).post("/api/v1/readings/sms/", body, format="json").json()
    ivr_other = (
        _client(org.operator_b)
        .post("/api/v1/readings/ivr/", {"account": metered.account.number, "zones": ["1100"]}, format="json")
        .json()
    )

    assert other["reply"] == f"Account {metered.account.number} not found. Check the number on your bill."
    assert ivr_other["prompt"] == "account_not_found"
    assert not Reading.objects.filter(kind="regular").exists()
