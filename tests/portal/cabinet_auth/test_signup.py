"""Sign-up to the personal cabinet: account proof, one-time code, consent and history, throttling."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from okno.customers.models import CabinetChallenge, CabinetLink, CabinetUser, Consent, ContactEvent
from tests.portal.cabinet_auth.conftest import last_code
from tests.portal.conftest import CABINET_PASSWORD

pytestmark = pytest.mark.django_db

MISMATCH = "The account number or check value does not match."


def _invoice(account, total_kop, period=dt.date(2025, 3, 1)):
    from okno.billing.models import Invoice

    return Invoice.objects.create(
        account=account,
        period=period,
        number=f"{account.number}-{period:%Y%m}",
        amount_kop=total_kop,
        total_kop=total_kop,
        due_date=period + dt.timedelta(days=40),
    )


def _form(account, check_value, login="petrov@example.ru", **extra):
    return {
        "account_number": account.number,
        "check_value": check_value,
        "login": login,
        "password1": CABINET_PASSWORD,
        "password2": CABINET_PASSWORD,
        "consent": "on",
        **extra,
    }


def test_full_sign_up_by_email_opens_the_cabinet_and_records_consent_and_history(client, post, metered):
    acc = metered.account
    _invoice(acc, 1234_56)
    response = post(client, reverse("cabinet:signup"), _form(acc, "1 234,56", login="Petrov@Example.RU"))
    assert response.status_code == 302
    assert response["Location"] == reverse("cabinet:signup_verify")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["petrov@example.ru"]
    assert not CabinetUser.objects.exists()  # nothing is created before the code

    page = client.get(reverse("cabinet:signup_verify"))
    assert "pe***@example.ru" in page.content.decode()
    response = post(client, reverse("cabinet:signup_verify"), {"code": last_code()})
    assert response.status_code == 302
    assert response["Location"] == "/cabinet/"

    user = CabinetUser.objects.get()
    assert user.email == "petrov@example.ru"
    assert user.check_password(CABINET_PASSWORD)
    assert list(CabinetLink.objects.filter(user=user).values_list("account", flat=True)) == [acc.pk]
    consent = Consent.objects.get(customer=acc.customer, purpose="personal_data")
    assert consent.withdrawn_at is None and consent.source == "cabinet"
    event = ContactEvent.objects.get(customer=acc.customer, channel="cabinet", kind="visit")
    assert "Signed up to the personal cabinet" in event.summary and acc.number in event.summary
    assert client.get(reverse("cabinet:profile")).status_code == 200  # signed in


def test_sign_up_by_phone_sends_the_code_by_sms_and_the_meter_serial_proves_a_new_account(
    client, post, metered
):
    from okno.notify.transports.registry import SimulatedTransport

    acc = metered.account  # no invoice yet: the meter's serial number is the check value
    response = post(client, reverse("cabinet:signup"), _form(acc, "4123-4567", login="8 (912) 345-67-89"))
    assert response.status_code == 302
    assert SimulatedTransport.outbox[-1].recipient == "+79123456789"
    assert len(mail.outbox) == 0
    post(client, reverse("cabinet:signup_verify"), {"code": last_code("sms")})
    assert CabinetUser.objects.get().phone == "+79123456789"


def test_wrong_check_value_and_wrong_account_get_the_same_answer(client, post, metered):
    from okno.customers.numbers import make_account_number

    acc = metered.account
    _invoice(acc, 500_00)
    wrong_value = post(client, reverse("cabinet:signup"), _form(acc, "499.99"))
    other = _form(acc, "500.00", account_number=make_account_number(777_777))
    wrong_number = post(client, reverse("cabinet:signup"), other)
    bad_digit = post(client, reverse("cabinet:signup"), _form(acc, "500.00", account_number="1234567890"))
    for response in (wrong_value, wrong_number, bad_digit):
        assert response.status_code == 400
        assert MISMATCH in response.content.decode()
    assert len(mail.outbox) == 0
    assert not CabinetChallenge.objects.exists()
    # the page keeps what was typed, never the password
    body = wrong_value.content.decode()
    assert 'value="petrov@example.ru"' in body and CABINET_PASSWORD not in body


def test_five_failures_for_an_account_number_answer_429(client, post, metered):
    acc = metered.account
    for _ in range(5):
        assert post(client, reverse("cabinet:signup"), _form(acc, "1.00")).status_code == 400
    response = post(client, reverse("cabinet:signup"), _form(acc, "41234567"))  # even the right value now
    assert response.status_code == 429
    assert "Too many attempts. Please try again in" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert not CabinetChallenge.objects.exists()


def test_five_failures_from_one_ip_answer_429_for_any_number(client, post, metered, customers):
    from okno.customers.numbers import make_account_number

    acc = metered.account
    for serial in range(5):
        data = _form(acc, "1.00", account_number=make_account_number(500_000 + serial))
        post(client, reverse("cabinet:signup"), data, REMOTE_ADDR="203.0.113.7")
    blocked = post(client, reverse("cabinet:signup"), _form(acc, "41234567"), REMOTE_ADDR="203.0.113.7")
    assert blocked.status_code == 429
    other_ip = post(client, reverse("cabinet:signup"), _form(acc, "41234567"), REMOTE_ADDR="198.51.100.1")
    assert other_ip.status_code == 302


def test_form_errors_are_linked_to_fields_and_the_consent_is_required(client, post, metered):
    data = _form(metered.account, "41234567", password2="something-else")
    data.pop("consent")
    response = post(client, reverse("cabinet:signup"), data)
    body = response.content.decode()
    assert response.status_code == 400
    assert "The cabinet cannot be opened without this consent." in body
    assert "The two passwords are not the same." in body
    assert 'aria-describedby="id_consent_helptext id_consent_error"' in body
    assert 'id="id_password2_error"' in body
    assert not CabinetChallenge.objects.exists()


def test_weak_password_is_refused_by_the_password_validators(client, post, metered):
    data = _form(metered.account, "41234567", password1="12345678", password2="12345678")
    response = post(client, reverse("cabinet:signup"), data)
    assert response.status_code == 400
    assert "This password is entirely numeric." in response.content.decode()


def test_a_code_expires_after_ten_minutes(client, post, metered):
    post(client, reverse("cabinet:signup"), _form(metered.account, "41234567"))
    code = last_code()
    CabinetChallenge.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = post(client, reverse("cabinet:signup_verify"), {"code": code})
    assert response.status_code == 400
    assert "The code has expired" in response.content.decode()
    assert not CabinetUser.objects.exists()


def test_five_wrong_codes_use_the_code_up(client, post, metered):
    post(client, reverse("cabinet:signup"), _form(metered.account, "41234567"))
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    first = post(client, reverse("cabinet:signup_verify"), {"code": wrong})
    assert "The code is not correct. Tries left: 4." in first.content.decode()
    for _ in range(4):
        post(client, reverse("cabinet:signup_verify"), {"code": wrong})
    response = post(client, reverse("cabinet:signup_verify"), {"code": code})
    assert response.status_code == 400
    assert "entered wrongly too many times" in response.content.decode()
    assert not CabinetUser.objects.exists()


def test_code_is_stored_hashed_and_a_new_one_waits_a_minute(client, post, metered):
    post(client, reverse("cabinet:signup"), _form(metered.account, "41234567"))
    challenge = CabinetChallenge.objects.get()
    code = last_code()
    assert code not in challenge.code_hash and code not in str(challenge.payload)
    assert CABINET_PASSWORD not in str(challenge.payload)
    response = post(client, reverse("cabinet:signup_verify"), {"action": "resend"}, follow=True)
    assert "You can ask for a new code in" in response.content.decode()
    assert len(mail.outbox) == 1
    CabinetChallenge.objects.update(last_sent_at=timezone.now() - dt.timedelta(seconds=61))
    response = post(client, reverse("cabinet:signup_verify"), {"action": "resend"}, follow=True)
    assert "We have sent a new code." in response.content.decode()
    assert len(mail.outbox) == 2
    new_code = last_code()
    if new_code != code:
        assert post(client, reverse("cabinet:signup_verify"), {"code": code}).status_code == 400
    assert post(client, reverse("cabinet:signup_verify"), {"code": new_code}).status_code == 302
    assert CabinetUser.objects.count() == 1


def test_a_registered_email_is_told_only_to_the_owner_of_the_code(client, post, metered, ivanov_user):
    response = post(
        client, reverse("cabinet:signup"), _form(metered.account, "41234567", login="ivanov@example.ru")
    )
    assert response.status_code == 302  # the same step as for a new address
    assert response["Location"] == reverse("cabinet:signup_verify")
    response = post(client, reverse("cabinet:signup_verify"), {"code": last_code()})
    body = response.content.decode()
    assert "is already registered in the personal cabinet: log in or reset your password" in body
    assert CabinetUser.objects.count() == 1


def test_the_same_account_can_be_held_by_two_family_members(client, post, metered, ivanov_user):
    post(client, reverse("cabinet:signup"), _form(metered.account, "41234567", login="wife@example.ru"))
    post(client, reverse("cabinet:signup_verify"), {"code": last_code()})
    assert CabinetLink.objects.filter(account=metered.account).count() == 2


def test_hostile_input_is_escaped(client, post, metered):
    hostile = '"><script>alert(1)</script>'
    response = post(
        client, reverse("cabinet:signup"), _form(metered.account, hostile, login=hostile + "@x.ru")
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body


def test_honeypot_creates_nothing(client, post, metered):
    response = post(
        client, reverse("cabinet:signup"), _form(metered.account, "41234567", website="http://spam")
    )
    assert response.status_code == 302
    assert not CabinetChallenge.objects.exists() and len(mail.outbox) == 0
