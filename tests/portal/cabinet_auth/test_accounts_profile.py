"""Linking another account to the cabinet, and the profile: password and contact changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from okno.customers.models import CabinetLink, CabinetUser, ContactEvent
from tests.portal.cabinet_auth.conftest import last_code
from tests.portal.conftest import CABINET_PASSWORD, sign_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Lampa-na-kuhne-42"  # noqa: S105


@pytest.fixture
def romashka_invoice(customers):
    from okno.billing.models import Invoice

    return Invoice.objects.create(
        account=customers.acc_romashka,
        period=dt.date(2025, 4, 1),
        number="R-202504",
        amount_kop=98_765_43,
        total_kop=98_765_43,
        due_date=dt.date(2025, 5, 10),
    )


def test_add_another_customers_account_with_its_check_value(
    cabinet, post, ivanov_user, customers, romashka_invoice
):
    acc = customers.acc_romashka
    response = post(
        cabinet, reverse("cabinet:add_account"), {"account_number": acc.number, "check_value": "98 765,43"}
    )
    assert response["Location"] == reverse("cabinet:add_account_verify")
    assert mail.outbox[-1].to == ["ivanov@example.ru"]  # the code goes to the user's own contact
    assert not CabinetLink.objects.filter(user=ivanov_user, account=acc).exists()
    response = post(cabinet, reverse("cabinet:add_account_verify"), {"code": last_code()})
    assert response.status_code == 302
    assert CabinetLink.objects.filter(user=ivanov_user, account=acc).exists()
    event = ContactEvent.objects.get(customer=acc.customer, channel="cabinet")
    assert "added to a personal cabinet" in event.summary


def test_add_account_with_a_wrong_check_value_fails_with_the_generic_message(
    cabinet, post, ivanov_user, customers, romashka_invoice
):
    acc = customers.acc_romashka
    response = post(
        cabinet, reverse("cabinet:add_account"), {"account_number": acc.number, "check_value": "98765.44"}
    )
    assert response.status_code == 400
    assert "The account number or check value does not match." in response.content.decode()
    assert len(mail.outbox) == 0
    assert not CabinetLink.objects.filter(user=ivanov_user, account=acc).exists()


def test_add_account_needs_a_login(client, db):
    response = client.get(reverse("cabinet:add_account"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("cabinet:login"))


def test_password_change_ends_other_sessions_but_not_this_one(cabinet, ivanov_user):
    other = Client()
    sign_in(other, ivanov_user)
    data = {
        "action": "password",
        "current": CABINET_PASSWORD,
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    response = cabinet.post(reverse("cabinet:profile"), data)
    assert response.status_code == 302
    ivanov_user.refresh_from_db()
    assert ivanov_user.session_version == 2 and ivanov_user.check_password(NEW_PASSWORD)
    assert cabinet.get(reverse("cabinet:profile")).status_code == 200
    assert other.get(reverse("cabinet:profile")).status_code == 302


def test_password_change_needs_the_current_password(cabinet, ivanov_user):
    data = {"action": "password", "current": "wrong", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    response = cabinet.post(reverse("cabinet:profile"), data)
    assert response.status_code == 400
    assert "The current password is not correct." in response.content.decode()
    ivanov_user.refresh_from_db()
    assert ivanov_user.session_version == 1


def test_change_phone_with_a_code(cabinet, post, ivanov_user):
    from okno.notify.transports.registry import SimulatedTransport

    response = post(cabinet, reverse("cabinet:profile"), {"action": "contact", "login": "+7 912 000-11-22"})
    assert response["Location"] == reverse("cabinet:profile_verify")
    assert SimulatedTransport.outbox[-1].recipient == "+79120001122"
    post(cabinet, reverse("cabinet:profile_verify"), {"code": last_code("sms")})
    ivanov_user.refresh_from_db()
    assert ivanov_user.phone == "+79120001122" and ivanov_user.email == "ivanov@example.ru"


def test_changing_to_someone_elses_email_is_refused_after_the_code(cabinet, post, ivanov_user, romashka_user):
    post(cabinet, reverse("cabinet:profile"), {"action": "contact", "login": "buh@romashka.example"})
    response = post(cabinet, reverse("cabinet:profile_verify"), {"code": last_code()}, follow=True)
    assert "already used by another personal cabinet" in response.content.decode()
    assert CabinetUser.objects.get(pk=ivanov_user.pk).email == "ivanov@example.ru"


def test_an_expired_session_keeps_no_password_in_the_draft(client, ivanov_user):
    from okno.portal.cabinet.session import DRAFT_KEY
    from tests.portal.conftest import sign_in_long_ago

    sign_in_long_ago(client, ivanov_user)
    data = {"action": "password", "current": "old-secret", "password1": "x", "password2": "x"}
    response = client.post(reverse("cabinet:profile"), data)
    assert response.status_code == 302
    draft = client.session[DRAFT_KEY]["pages"][reverse("cabinet:profile")]
    assert draft == {"action": "password"}
