"""Payments over HTTP: the signed acquiring callback, the API and the web pages, with permissions."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from okno.billing.models import BillingSettings, LedgerEntry, Payment, PaymentRegistry
from okno.billing.payments import acquiring_signature, register_payment
from tests.billing.test_ledger import charge

D = dt.date
SECRET = "s3cret-key"
CALLBACK = "/api/v1/payments/acquiring/callback"


@pytest.fixture
def acc(customers):
    return customers.acc_ivanov


@pytest.fixture
def api(org):
    from rest_framework.authtoken.models import Token

    def _client(user=None) -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        if user is not None:
            token, _created = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return _client


@pytest.fixture
def secret(db):
    settings = BillingSettings.current()
    settings.acquiring_secret = SECRET
    settings.save()
    return SECRET


def callback(client: APIClient, body: dict, *, key: str = SECRET, path: str = CALLBACK):
    raw = json.dumps(body).encode()
    return client.post(
        path, data=raw, content_type="application/json", HTTP_X_OKNO_SIGNATURE=acquiring_signature(key, raw)
    )


def body(acc, **overrides) -> dict:
    data = {
        "payment_id": "pay-0001",
        "account": acc.number,
        "amount": "1234.56",
        "paid_at": "2025-02-03T21:30:00+00:00",  # 04.02 in Moscow
        "status": "succeeded",
    }
    data.update(overrides)
    return data


# --- acquiring callback -------------------------------------------------------------------------


def test_callback_registers_once_and_a_replay_returns_the_same_payment(api, acc, secret):
    client = api()
    first = callback(client, body(acc, period="2025-01"))
    assert first.status_code == 201, first.content
    payment = Payment.objects.get()
    assert first.json() == {"payment": payment.pk, "status": "allocated", "duplicate": False}
    assert (payment.amount_kop, payment.paid_on, payment.period, payment.source, payment.provider) == (
        123_456,
        D(2025, 2, 4),
        D(2025, 1, 1),
        "acquiring",
        "acquiring",
    )
    replay = callback(client, body(acc, period="2025-01"))
    assert replay.status_code == 200
    assert replay.json() == {"payment": payment.pk, "status": "allocated", "duplicate": True}
    # With a trailing slash too.
    assert callback(client, body(acc), path=CALLBACK + "/").json()["payment"] == payment.pk
    assert Payment.objects.count() == 1
    assert LedgerEntry.objects.count() == 1


def test_callback_with_a_bad_signature_is_forbidden(api, acc, secret):
    response = callback(api(), body(acc), key="wrong")
    assert response.status_code == 403
    raw = json.dumps(body(acc)).encode()
    unsigned = api().post(CALLBACK, data=raw, content_type="application/json")
    assert unsigned.status_code == 403
    assert not Payment.objects.exists()


def test_callback_without_a_configured_secret_is_forbidden(api, acc, db):
    assert callback(api(), body(acc), key="").status_code == 403


def test_callback_ignores_other_statuses_and_rejects_bad_fields(api, acc, secret):
    ignored = callback(api(), body(acc, status="pending"))
    assert ignored.status_code == 200
    assert ignored.json() == {"payment": None, "status": "ignored", "duplicate": False}
    bad = callback(api(), body(acc, amount="12.345", paid_at="yesterday", payment_id=""))
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"amount", "paid_at", "payment_id"}
    assert not Payment.objects.exists()


def test_callback_to_an_unknown_account_is_queued(api, acc, secret):
    response = callback(api(), body(acc, account="123"))
    assert response.status_code == 201
    assert response.json()["status"] == "unidentified"


# --- API ----------------------------------------------------------------------------------------


def test_cashier_payment_over_the_api(api, acc, org):
    charge(acc, D(2025, 1, 1), 100_000)
    response = api(org.operator_a).post("/api/v1/payments/", {"account": acc.number, "amount": "600.00"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["account"], data["amount_kop"], data["amount"], data["source"]) == (
        acc.number,
        60_000,
        "600.00",
        "cashier",
    )
    assert data["allocations"] == [{"period": "2025-01-01", "amount_kop": 60_000, "amount": "600.00"}]
    assert (
        api(org.quality).post("/api/v1/payments/", {"account": acc.number, "amount": "1"}).status_code == 403
    )
    # Another branch's account is not found.
    other = api(org.operator_b).post("/api/v1/payments/", {"account": acc.number, "amount": "1"})
    assert other.status_code == 400
    assert other.json()["errors"] == {"account": [f"Account {acc.number} not found."]}
    bad = api(org.operator_a).post(
        "/api/v1/payments/", {"account": acc.number, "amount": "0", "period": "25"}
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"amount", "period"}


def test_payment_list_by_account_is_scoped(api, acc, customers, org):
    register_payment(amount_kop=100, paid_on=D(2025, 2, 3), source="system", account=acc)
    register_payment(amount_kop=200, paid_on=D(2025, 2, 3), source="system", account=customers.acc_romashka)
    register_payment(amount_kop=300, paid_on=D(2025, 2, 3), source="registry", account_text="42")
    mine = api(org.operator_a).get("/api/v1/payments/", {"account": acc.number})
    assert [p["amount_kop"] for p in mine.json()["results"]] == [100]
    # Branch A sees its own and the unidentified ones, not branch B's.
    everything = api(org.operator_a).get("/api/v1/payments/")
    assert sorted(p["amount_kop"] for p in everything.json()["results"]) == [100, 300]
    unidentified = api(org.admin).get("/api/v1/payments/", {"status": "unidentified"})
    assert [p["amount_kop"] for p in unidentified.json()["results"]] == [300]
    assert api(org.security).get("/api/v1/payments/").status_code == 403
    assert api().get("/api/v1/payments/").status_code == 401


def test_match_over_the_api(api, acc, customers, org):
    payment = register_payment(amount_kop=300, paid_on=D(2025, 2, 3), source="registry", account_text="42")
    url = f"/api/v1/payments/{payment.pk}/match/"
    assert api(org.operator_a).post(url, {"account": acc.number}).status_code == 403
    # A head of branch A cannot put it on branch B's account.
    assert api(org.head_a).post(url, {"account": customers.acc_romashka.number}).status_code == 400
    response = api(org.head_a).post(url, {"account": acc.number})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["account"]) == ("allocated", acc.number)
    again = api(org.head_a).post(url, {"account": acc.number})
    assert again.status_code == 400
    assert again.json()["errors"] == {"payment": ["This payment is not waiting to be matched."]}


def test_registry_upload_over_the_api(api, acc, org):
    data = f"2025-02-03;{acc.number};10.00;;R-1\nbad line\n".encode()
    client = api(org.head_a)
    first = client.post(
        "/api/v1/payment-registries/", {"file": SimpleUploadedFile("r.csv", data)}, format="multipart"
    )
    assert first.status_code == 201, first.content
    assert (first.json()["accepted"], first.json()["rejected"], first.json()["repeated"]) == (1, 1, False)
    assert first.json()["errors"] == [{"line": 2, "error": "Bad date 'bad line'."}]
    again = client.post(
        "/api/v1/payment-registries/", {"file": SimpleUploadedFile("r.csv", data)}, format="multipart"
    )
    assert again.status_code == 200
    assert again.json()["repeated"] is True
    assert Payment.objects.count() == 1
    denied = api(org.operator_a).post(
        "/api/v1/payment-registries/", {"file": SimpleUploadedFile("x.csv", b"x")}, format="multipart"
    )
    assert denied.status_code == 403


def test_account_ledger_over_the_api(api, acc, org):
    charge(acc, D(2025, 1, 1), 100_000)
    charge(acc, D(2025, 2, 1), 80_000)
    register_payment(amount_kop=30_000, paid_on=D(2025, 2, 5), source="system", account=acc)
    response = api(org.operator_a).get(f"/api/v1/accounts/{acc.number}/ledger/", {"as_of": "2025-03-11"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["balance_kop"], data["overdue_kop"], data["penalty_kop"]) == (150_000, 150_000, 0)
    assert [(e["kind"], e["amount_kop"], e["balance_kop"]) for e in data["entries"]] == [
        ("charge", 100_000, 100_000),
        ("payment", -30_000, 70_000),
        ("charge", 80_000, 150_000),
    ]
    assert data["debts"] == [
        {
            "period": "2025-01-01",
            "due_date": "2025-02-10",
            "charged_kop": 100_000,
            "paid_kop": 30_000,
            "open_kop": 70_000,
            "overdue": True,
        },
        {
            "period": "2025-02-01",
            "due_date": "2025-03-10",
            "charged_kop": 80_000,
            "paid_kop": 0,
            "open_kop": 80_000,
            "overdue": True,
        },
    ]
    earlier = (
        api(org.operator_a).get(f"/api/v1/accounts/{acc.number}/ledger/", {"as_of": "2025-02-05"}).json()
    )
    assert (earlier["balance_kop"], earlier["overdue_kop"]) == (70_000, 0)
    assert api(org.operator_b).get(f"/api/v1/accounts/{acc.number}/ledger/").status_code == 404
    assert (
        api(org.operator_a).get(f"/api/v1/accounts/{acc.number}/ledger/", {"as_of": "x"}).status_code == 400
    )


# --- web ----------------------------------------------------------------------------------------


def test_cashier_form_takes_a_payment_and_prints_a_receipt(client, acc, org):
    charge(acc, D(2025, 1, 1), 100_000)
    client.force_login(org.operator_a)
    url = f"/billing/accounts/{acc.number}/pay/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Take a payment" in page.content.decode()
    bad = client.post(url, {"amount": "-1", "period": "2025-1x"})
    assert bad.status_code == 200
    assert "Give the period as YYYY-MM." in bad.content.decode()
    response = client.post(url, {"amount": "1500,00", "period": "", "payer": "Иванов П. С."})
    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/billing/payments/{payment.pk}/receipt/"
    assert (payment.amount_kop, payment.source, payment.cashier, payment.payer) == (
        150_000,
        "cashier",
        org.operator_a,
        "Иванов П. С.",
    )
    receipt = client.get(response["Location"]).content.decode()
    assert "1500.00 ₽" in receipt
    assert "-500.00" in receipt  # the advance after the payment
    listing = client.get(f"/billing/accounts/{acc.number}/payments/").content.decode()
    assert "1500.00" in listing
    client.force_login(org.quality)
    assert client.get(url).status_code == 403


def test_unidentified_queue_and_matching_on_the_web(client, acc, org):
    payment = register_payment(amount_kop=300, paid_on=D(2025, 2, 3), source="registry", account_text="42")
    client.force_login(org.operator_a)
    assert client.get("/billing/payments/unidentified/").status_code == 403
    client.force_login(org.head_a)
    page = client.get("/billing/payments/unidentified/").content.decode()
    assert f'id="payment-{payment.pk}"' in page
    missing = client.post(f"/billing/payments/{payment.pk}/match/", {"account": "000"}, follow=True)
    assert "Account 000 not found." in missing.content.decode()
    done = client.post(f"/billing/payments/{payment.pk}/match/", {"account": acc.number}, follow=True)
    assert f"Payment of 3.00 ₽ matched to account {acc.number}." in done.content.decode()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.ALLOCATED


def test_registry_upload_page(client, acc, org):
    client.force_login(org.head_a)
    assert client.get("/billing/payments/registries/").status_code == 200
    data = f"03.02.2025;{acc.number};10,00;;W-1\n2025-02-03;{acc.number};ten;;W-2\n".encode("cp1251")
    response = client.post(
        "/billing/payments/registries/", {"file": SimpleUploadedFile("w.csv", data)}, follow=True
    )
    registry = PaymentRegistry.objects.get()
    html = response.content.decode()
    assert "1 payments accepted, 0 unidentified, 0 duplicates, 1 lines rejected." in html
    assert "Bad amount &#x27;ten&#x27;." in html
    again = client.post(
        "/billing/payments/registries/", {"file": SimpleUploadedFile("w.csv", data)}, follow=True
    )
    assert "This file was imported before; nothing was added." in again.content.decode()
    assert PaymentRegistry.objects.count() == 1
    assert registry.accepted == 1
    client.force_login(org.operator_a)
    assert client.get("/billing/payments/registries/").status_code == 403


PERSONAS = [
    "operator_a",
    "cc_operator",
    "specialist_a1",
    "specialist_b",
    "head_a",
    "branch_head_a",
    "operator_b",
    "quality",
    "security",
    "admin",
]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_payment_endpoint_with_every_persona(api, acc, org, persona):
    """403 without the permission, 404/400 for branch A's account outside the user's branches, never 5xx."""
    user = getattr(org, persona)
    sees_a = user.all_branches or org.a.pk in user.branch_ids
    payment = register_payment(amount_kop=300, paid_on=D(2025, 2, 3), source="registry", account_text="42")
    client = api(user)

    def expect(perm: str, ok: int, outside: int | None = None) -> int:
        if not user.has_okno_perm(perm):
            return 403
        return ok if sees_a or outside is None else outside

    calls = [
        ("get", "/api/v1/payments/", {}, expect("payment.view", 200)),
        ("get", f"/api/v1/payments/{payment.pk}/", {}, expect("payment.view", 200)),
        ("get", f"/api/v1/accounts/{acc.number}/ledger/", {}, expect("ledgerentry.view", 200, 404)),
        (
            "post",
            "/api/v1/payments/",
            {"account": acc.number, "amount": "1.00"},
            expect("payment.add", 201, 400),
        ),
        (
            "post",
            f"/api/v1/payments/{payment.pk}/match/",
            {"account": acc.number},
            expect("payment.match", 200, 400),
        ),
    ]
    for method, url, data, status in calls:
        response = getattr(client, method)(url, data)
        assert response.status_code == status, (persona, url, response.content)
    upload = client.post(
        "/api/v1/payment-registries/",
        {"file": SimpleUploadedFile("p.csv", b"date;account;amount;period;payment_id\n")},
        format="multipart",
    )
    assert upload.status_code == (201 if user.has_okno_perm("payment.import") else 403)
    assert api().get("/api/v1/payments/").status_code == 401


def test_amounts_over_the_cap_are_field_errors_everywhere(api, acc, org, secret, client):
    limit = "The amount exceeds the limit of 10000000.00 ₽ per payment."
    big = callback(api(), body(acc, amount="99999999999999999999"))
    assert big.status_code == 400
    assert big.json()["errors"] == {"amount": [limit]}
    cashier = api(org.operator_a).post("/api/v1/payments/", {"account": acc.number, "amount": "10000000.01"})
    assert cashier.status_code == 400
    assert cashier.json()["errors"] == {"amount": [limit]}
    client.force_login(org.operator_a)
    form = client.post(f"/billing/accounts/{acc.number}/pay/", {"amount": "99999999999999999999"})
    assert form.status_code == 200  # the form again with the field's error
    assert form.context["form"].errors["amount"]
    assert not Payment.objects.exists()
