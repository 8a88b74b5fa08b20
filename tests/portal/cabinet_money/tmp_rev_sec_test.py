"""Reviewer's scratch tests (to be deleted)."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from okno.billing.models import BillingSettings, Invoice, Payment, PaymentOrder
from okno.billing.payments import acquiring_signature
from okno.billing.proof import account_by_proof
from tests.portal.conftest import sign_in

CALLBACK = "/api/v1/payments/acquiring/callback"
SECRET = "rev-secret"


@pytest.fixture(autouse=True)
def _clear():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def secret(db):
    s = BillingSettings.current()
    s.acquiring_secret = SECRET
    s.save()


def post_callback(client, body):
    raw = json.dumps(body).encode()
    return client.post(CALLBACK, data=raw, content_type="application/json",
                       HTTP_X_OKNO_SIGNATURE=acquiring_signature(SECRET, raw))


@pytest.mark.django_db
def test_zero_invoice_total_check_value_is_zero(metered):
    acc = metered.account
    Invoice.objects.create(account=acc, period=dt.date(2026, 1, 1), number="x-1", amount_kop=0,
                           total_kop=0, due_date=dt.date(2026, 2, 15))
    assert account_by_proof(acc.number, "0") == acc


@pytest.mark.django_db
def test_kiosk_has_no_per_account_throttle(client, metered):
    # 5 failures per IP for the cabinet block the number; the kiosk ignores that counter and only
    # counts per IP, so rotating addresses gives unlimited guesses for one account number.
    acc = metered.account
    codes = []
    for i in range(30):
        r = client.post(reverse("kiosk:start"), {"number": acc.number, "check_value": str(i + 1)},
                        REMOTE_ADDR=f"10.9.{i}.1")
        codes.append(r.status_code)
    assert set(codes) == {400}
    r = client.post(reverse("kiosk:start"), {"number": acc.number, "check_value": "41234567"},
                    REMOTE_ADDR="10.9.99.1")
    assert r.status_code == 302


@pytest.mark.django_db
def test_callback_marks_order_paid_with_other_amount_and_account(cabinet, history, secret, customers):
    r = cabinet.post(reverse("cabinet:pay", args=[history.account.pk]), {"amount": "964.50"})
    order = PaymentOrder.objects.get(account=history.account)
    body = {"payment_id": "acq-1", "order": order.token, "account": customers.acc_romashka.number,
            "amount": "1.00", "paid_at": "2026-01-10T10:00:00+03:00", "status": "succeeded"}
    assert post_callback(Client(), body).status_code == 201
    order.refresh_from_db()
    p = Payment.objects.get(external_id="acq-1")
    assert order.status == "paid"
    assert p.account_id == customers.acc_romashka.pk and p.amount_kop == 100
    html = cabinet.get(reverse("cabinet:pay_return", args=[order.token])).content.decode()
    assert "964.50 ₽ has been paid to account" in html


@pytest.mark.django_db
def test_replay_naming_another_order_500s(cabinet, history, secret):
    cabinet.post(reverse("cabinet:pay", args=[history.account.pk]), {"amount": "10"})
    cabinet.post(reverse("cabinet:pay", args=[history.account.pk]), {"amount": "20"})
    o1, o2 = PaymentOrder.objects.order_by("id")
    body = {"payment_id": "acq-2", "order": o1.token, "account": history.account.number,
            "amount": "10.00", "paid_at": "2026-01-10T10:00:00+03:00", "status": "succeeded"}
    assert post_callback(Client(), body).status_code == 201
    body["order"] = o2.token
    c = Client(raise_request_exception=False)
    assert post_callback(c, body).status_code == 500


@pytest.mark.django_db
def test_anonymous_post_is_stored_in_session(client, db):
    import secrets
    big = secrets.token_hex(500_000)
    for n in range(3):
        r = client.post(f"/cabinet/accounts/{n}/reading/", {"t1": big})
        assert r.status_code == 302
    from django.contrib.sessions.models import Session
    s = Session.objects.get()
    assert len(s.session_data) > 3_000_000


@pytest.mark.django_db
def test_draft_of_previous_user_shown_to_next(client, customers, ivanov_user, romashka_user):
    # Иванов's session expires while he writes an appeal; Ромашка's accountant logs in on the same browser.
    client.post("/cabinet/appeals/new/", {"text": "my secret complaint about neighbour", "kind": "complaint"})
    sign_in(client, romashka_user)
    html = client.get("/cabinet/appeals/new/").content.decode()
    assert "my secret complaint about neighbour" in html
