"""Security fixes of the cabinet: check values under one rouble, the link notice, online payments that
do not match their order, replays, closed accounts, the simulator's callback address, drafts."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from okno.billing.models import BillingSettings, Invoice, Payment, PaymentOrder
from okno.billing.payments import acquiring_signature
from okno.billing.proof import account_by_proof
from okno.portal.cabinet.session import DRAFT_CHARS, DRAFT_FIELDS, DRAFT_KEY
from tests.portal.conftest import sign_in, sign_in_long_ago

CALLBACK = "/api/v1/payments/acquiring/callback"
SECRET = "security-test-secret"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def secret(db):
    current = BillingSettings.current()
    current.acquiring_secret = SECRET
    current.save()


def post_callback(client, body):
    raw = json.dumps(body).encode()
    return client.post(
        CALLBACK,
        data=raw,
        content_type="application/json",
        HTTP_X_OKNO_SIGNATURE=acquiring_signature(SECRET, raw),
    )


def body(order, **extra):
    data = {
        "payment_id": "acq-1",
        "order": order.token,
        "account": order.account.number,
        "amount": "964.50",
        "paid_at": "2026-01-10T10:00:00+03:00",
        "status": "succeeded",
    }
    data.update(extra)
    return data


def start_order(cabinet, account, amount="964.50"):
    assert cabinet.post(reverse("cabinet:pay", args=[account.pk]), {"amount": amount}).status_code == 302
    return PaymentOrder.objects.filter(account=account).order_by("-id").first()


# --- 1. proof ------------------------------------------------------------------------------------


@pytest.mark.parametrize("total_kop", [0, 50, 99])
def test_an_invoice_under_one_rouble_is_no_proof_the_meter_serial_is(metered, total_kop):
    acc = metered.account
    Invoice.objects.create(
        account=acc,
        period=dt.date(2026, 1, 1),
        number="x-1",
        amount_kop=total_kop,
        total_kop=total_kop,
        due_date=dt.date(2026, 2, 15),
    )
    assert account_by_proof(acc.number, "0") is None
    assert account_by_proof(acc.number, f"{total_kop / 100:.2f}") is None
    assert account_by_proof(acc.number, "4123-4567") == acc


def test_an_invoice_of_one_rouble_is_a_proof(metered):
    acc = metered.account
    Invoice.objects.create(
        account=acc,
        period=dt.date(2026, 1, 1),
        number="x-1",
        amount_kop=100,
        total_kop=100,
        due_date=dt.date(2026, 2, 15),
    )
    assert account_by_proof(acc.number, "1") == acc
    assert account_by_proof(acc.number, "41234567") is None


def test_linking_an_account_emails_the_customers_primary_email(
    customers, romashka_user, django_capture_on_commit_callbacks
):
    from okno.customers.cabinet import link_account
    from okno.customers.models import ContactEvent
    from okno.org.models import system_actor

    with django_capture_on_commit_callbacks(execute=True):
        assert link_account(romashka_user, customers.acc_ivanov, actor=system_actor("cabinet")) is True
    assert [m.to for m in mail.outbox] == [["ivanov@example.ru"]]
    assert mail.outbox[0].subject == "Your account was linked to a personal cabinet"
    assert customers.acc_ivanov.number in mail.outbox[0].body
    assert ContactEvent.objects.filter(customer=customers.ivanov, channel="cabinet").exists()


def test_no_notice_for_a_customer_without_an_email(
    customers, ivanov_user, django_capture_on_commit_callbacks
):
    from okno.customers.cabinet import link_account
    from okno.org.models import system_actor

    with django_capture_on_commit_callbacks(execute=True):
        assert link_account(ivanov_user, customers.acc_romashka, actor=system_actor("cabinet")) is True
    assert mail.outbox == []


# --- 4. acquiring callbacks ----------------------------------------------------------------------


def test_a_matching_callback_pays_the_order_even_without_the_account(cabinet, history, secret):
    order = start_order(cabinet, history.account)
    data = body(order)
    del data["account"]
    assert post_callback(Client(), data).status_code == 201
    order.refresh_from_db()
    payment = Payment.objects.get(external_id="acq-1")
    assert (order.status, order.payment_id) == ("paid", payment.pk)
    assert (payment.account_id, payment.amount_kop) == (history.account.pk, 96_450)


def test_another_amount_or_account_leaves_the_order_pending(cabinet, history, secret, customers, caplog):
    order = start_order(cabinet, history.account)
    data = body(order, account=customers.acc_romashka.number, amount="1.00")
    assert post_callback(Client(), data).status_code == 201
    order.refresh_from_db()
    payment = Payment.objects.get(external_id="acq-1")
    assert order.status == "created" and order.payment_id is None
    # The money came: it is registered as any other payment, on the account the acquirer named.
    assert (payment.account_id, payment.amount_kop) == (customers.acc_romashka.pk, 100)
    assert "does not match order" in caplog.text
    html = cabinet.get(reverse("cabinet:pay_return", args=[order.token])).content.decode()
    assert "Payment pending" in html and "has been paid" not in html


def test_another_amount_on_the_same_account_leaves_the_order_pending(cabinet, history, secret):
    order = start_order(cabinet, history.account)
    assert post_callback(Client(), body(order, amount="900.00")).status_code == 201
    order.refresh_from_db()
    assert order.status == "created"
    assert Payment.objects.get(external_id="acq-1").account_id == history.account.pk


def test_the_return_page_shows_the_payments_amount(cabinet, history, secret):
    order = start_order(cabinet, history.account, "10")
    assert post_callback(Client(), body(order, amount="10.00")).status_code == 201
    html = cabinet.get(reverse("cabinet:pay_return", args=[order.token])).content.decode()
    assert "10.00 ₽ has been paid to account" in html


def test_a_replay_naming_another_order_changes_nothing(cabinet, history, secret):
    o1 = start_order(cabinet, history.account, "10")
    o2 = start_order(cabinet, history.account, "10")
    assert post_callback(Client(), body(o1, amount="10.00")).status_code == 201
    response = post_callback(Client(raise_request_exception=False), body(o2, amount="10.00"))
    assert response.status_code == 200
    o1.refresh_from_db()
    o2.refresh_from_db()
    assert (o1.status, o2.status) == ("paid", "created")
    assert Payment.objects.filter(external_id="acq-1").count() == 1


# --- 7. the simulator's callback address, 9. closed accounts ------------------------------------


def test_the_simulator_posts_to_the_public_url(cabinet, history, settings, monkeypatch):
    from okno.billing import online

    sent = []
    monkeypatch.setattr(online, "send_callback", lambda order, status, url: sent.append(url) or 200)
    settings.OKNO_PUBLIC_URL = "https://lk.example.ru"
    order = start_order(cabinet, history.account)
    cabinet.post(reverse("cabinet:pay_sim", args=[order.token]), {"action": "pay"}, HTTP_HOST="localhost")
    assert sent == ["https://lk.example.ru/api/v1/payments/acquiring/callback"]


def test_without_a_public_url_the_simulator_uses_the_validated_host(cabinet, history, settings, monkeypatch):
    from okno.billing import online

    sent = []
    monkeypatch.setattr(online, "send_callback", lambda order, status, url: sent.append(url) or 200)
    settings.OKNO_PUBLIC_URL = ""
    order = start_order(cabinet, history.account)
    cabinet.post(reverse("cabinet:pay_sim", args=[order.token]), {"action": "pay"})
    assert sent == ["http://testserver/api/v1/payments/acquiring/callback"]
    bad = Client(raise_request_exception=False)
    bad.cookies = cabinet.cookies
    response = bad.post(
        reverse("cabinet:pay_sim", args=[order.token]), {"action": "pay"}, HTTP_HOST="evil.example"
    )
    assert response.status_code == 400  # DisallowedHost
    assert len(sent) == 1


def test_a_closed_account_cannot_be_paid_online(cabinet, history):
    from okno.customers.models import Account

    Account.objects.filter(pk=history.account.pk).update(closed_on=dt.date(2026, 1, 31))
    response = cabinet.post(reverse("cabinet:pay", args=[history.account.pk]), {"amount": "10"})
    assert response.status_code == 400
    assert "is closed: it cannot be paid online" in response.content.decode()
    assert not PaymentOrder.objects.exists()
    assert (
        'name="amount"' not in cabinet.get(reverse("cabinet:pay", args=[history.account.pk])).content.decode()
    )


# --- 6. drafts -----------------------------------------------------------------------------------


def test_an_anonymous_post_keeps_no_draft(client, db):
    response = client.post("/cabinet/accounts/1/reading/", {"t1": "x" * 50_000})
    assert response.status_code == 302
    assert DRAFT_KEY not in client.session


def test_a_draft_is_capped(client, ivanov_user, history):
    sign_in_long_ago(client, ivanov_user)
    url = reverse("cabinet:reading", args=[history.account.pk])
    fields = {f"f{i:02}": "y" * 20_000 for i in range(30)}
    assert client.post(url, fields).status_code == 302
    draft = client.session[DRAFT_KEY]
    assert draft["user"] == ivanov_user.pk
    kept = draft["pages"][url]
    assert len(kept) == DRAFT_FIELDS and {len(v) for v in kept.values()} == {DRAFT_CHARS}


def test_a_draft_is_never_shown_to_another_user(client, customers, ivanov_user, romashka_user):
    sign_in_long_ago(client, ivanov_user)
    client.post("/cabinet/appeals/new/", {"text": "my secret complaint about neighbour", "kind": "complaint"})
    assert client.session[DRAFT_KEY]["user"] == ivanov_user.pk
    sign_in(client, romashka_user)
    assert "my secret complaint about neighbour" not in client.get("/cabinet/appeals/new/").content.decode()
    assert DRAFT_KEY not in client.session


def test_logging_in_as_another_user_drops_the_drafts(client, customers, ivanov_user, romashka_user):
    from okno.customers import cabinet as actions

    actions.set_password(romashka_user, "Romashka-Pass-2026")
    sign_in_long_ago(client, ivanov_user)
    client.post("/cabinet/appeals/new/", {"text": "secret", "kind": "complaint"})
    response = client.post(
        reverse("cabinet:login"), {"login": romashka_user.email, "password": "Romashka-Pass-2026"}
    )
    assert response.status_code == 302
    assert DRAFT_KEY not in client.session


def test_logout_drops_the_drafts(client, ivanov_user, history):
    sign_in_long_ago(client, ivanov_user)
    client.post(reverse("cabinet:reading", args=[history.account.pk]), {"t1": "1333.3"})
    assert DRAFT_KEY in client.session
    sign_in(client, ivanov_user)
    client.post(reverse("cabinet:logout"))
    assert DRAFT_KEY not in client.session


def test_an_idle_sign_in_ends(client, ivanov_user):
    sign_in_long_ago(client, ivanov_user)
    response = client.get(reverse("cabinet:dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("cabinet:login"))
