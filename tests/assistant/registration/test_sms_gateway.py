"""POST /api/v1/readings/sms/ (the SMS gateway) goes through the assistant's SMS intake: readings are
accepted or refused with the reason, other texts become appeals, empty ones are asked to describe."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from okno.appeals.models import Appeal
from okno.billing.models import Reading
from tests.billing.conftest import metered, tariffs  # noqa: F401  (billing fixtures)

pytestmark = pytest.mark.django_db

URL = "/api/v1/readings/sms/"
IVANOV_PHONE = "+7 (912) 345-67-89"


def _gateway(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_a_reading_is_accepted(metered, org):  # noqa: F811
    body = (
        _gateway(org.cc_operator)
        .post(URL, {"phone": IVANOV_PHONE, "text": f"{metered.account.number} 1100"}, format="json")
        .json()
    )

    assert (body["outcome"], body["accepted"], body["status"], body["appeal_number"]) == (
        "reading",
        True,
        "accepted",
        None,
    )
    assert body["reply"].startswith("Readings accepted: 1100 kWh")
    assert Reading.objects.get(pk=body["reading_id"]).channel == "sms"
    assert not Appeal.objects.exists()


def test_a_reading_is_refused_with_the_reason(metered, org):  # noqa: F811
    body = (
        _gateway(org.cc_operator)
        .post(URL, {"phone": IVANOV_PHONE, "text": f"{metered.account.number} 900"}, format="json")
        .json()
    )

    assert (body["outcome"], body["accepted"], body["reading_id"]) == ("reading_refused", False, None)
    assert body["reply"] == "Readings not accepted: T1: 900 kWh is lower than the previous reading 1000 kWh."
    assert not Appeal.objects.exists()


def test_the_gateway_accounts_scope_still_limits_readings(metered, org):  # noqa: F811
    body = (
        _gateway(org.operator_b)
        .post(URL, {"phone": IVANOV_PHONE, "text": f"{metered.account.number} 1100"}, format="json")
        .json()
    )

    assert body["outcome"] == "reading_refused"
    assert body["reply"] == f"Account {metered.account.number} not found. Check the number on your bill."


def test_a_text_becomes_an_appeal_with_the_assistants_type_and_topic(customers, org):
    response = _gateway(org.cc_operator).post(
        URL,
        {"phone": IVANOV_PHONE, "text": "Когда дадут свет? Нет света с утра во всём доме."},
        format="json",
    )

    body = response.json()
    appeal = Appeal.objects.get()
    assert response.status_code == 200
    assert (body["outcome"], body["accepted"], body["appeal_number"]) == ("appeal", False, appeal.number)
    assert body["reply"].startswith(f"Your appeal is registered under number {appeal.number}.")
    assert (appeal.channel, appeal.customer, appeal.preferred_answer_channel) == (
        "sms",
        customers.ivanov,
        "sms",
    )
    assert appeal.topic == "outage" and appeal.suggested_topic == "outage"


@pytest.mark.parametrize("text", ["", "?", "алло"])
def test_empty_or_unclear_gets_please_describe(org, text):
    body = _gateway(org.cc_operator).post(URL, {"phone": IVANOV_PHONE, "text": text}, format="json").json()

    assert (body["outcome"], body["accepted"], body["appeal_number"]) == ("unclear", False, None)
    assert body["reply"].startswith("Please describe your question in a few words")
    assert not Appeal.objects.exists()


def test_bad_input_is_a_400_with_field_errors(org):
    response = _gateway(org.cc_operator).post(URL, {"text": "нет света"}, format="json")

    assert response.status_code == 400
    assert "phone" in response.json()["errors"]


def test_the_appeal_api_shows_what_the_assistant_suggested(customers, org):
    client = _gateway(org.cc_operator)
    client.post(
        URL,
        {
            "phone": "+79990001122",
            "text": f"Нет света третий день, лицевой счёт {customers.acc_ivanov.number}",
        },
        format="json",
    )
    appeal = Appeal.objects.get()

    body = client.get(f"/api/v1/appeals/{appeal.pk}/").json()

    assert (body["classified_by"], body["suggested_kind"], body["suggested_topic"]) == (
        "assistant",
        "report",
        "outage",
    )
    assert body["suggested_topic_confidence"] > 0.7 and "свет" in body["suggestion_reasons"]
    assert (body["account_number"], body["suggested_account_number"]) == (None, customers.acc_ivanov.number)
