"""Paying online: the amount form, the order, the simulated provider and the real signed callback.

The end-to-end test runs a live server, because the simulator's Pay button makes the server send the
acquiring callback to its own address over HTTP; the other tests post the signed callback with the
test client, as the provider would."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from okno.billing.models import BillingSettings, LedgerEntry, Payment, PaymentOrder
from okno.billing.payments import acquiring_signature
from tests.portal.conftest import sign_in

CALLBACK = "/api/v1/payments/acquiring/callback"
SECRET = "cabinet-test-secret"


@pytest.fixture
def secret(db):
    settings = BillingSettings.current()
    settings.acquiring_secret = SECRET
    settings.save()
    return SECRET


def post_callback(client, body: dict, key: str = SECRET):
    raw = json.dumps(body).encode()
    return client.post(
        CALLBACK,
        data=raw,
        content_type="application/json",
        HTTP_X_OKNO_SIGNATURE=acquiring_signature(key, raw),
    )


def start_order(cabinet, account, amount="964.50") -> PaymentOrder:
    response = cabinet.post(reverse("cabinet:pay", args=[account.pk]), {"amount": amount})
    assert response.status_code == 302, response.content.decode()
    order = PaymentOrder.objects.get(account=account)
    assert response["Location"] == reverse("cabinet:pay_sim", args=[order.token])
    return order


@pytest.mark.django_db
def test_pay_form_is_prefilled_with_the_debt(cabinet, history):
    html = cabinet.get(reverse("cabinet:pay", args=[history.account.pk])).content.decode()
    assert 'name="amount" id="id_amount" value="964.50"' in html
    assert '<label for="id_amount">Amount, ₽</label>' in html


@pytest.mark.django_db
def test_nothing_owed_leaves_the_amount_empty(cabinet, metered):
    html = cabinet.get(reverse("cabinet:pay", args=[metered.account.pk])).content.decode()
    assert 'name="amount" id="id_amount" value=""' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "Enter a positive amount in roubles"),
        ("0", "Enter a positive amount in roubles"),
        ("-5", "Enter a positive amount in roubles"),
        ("12.345", "Enter a positive amount in roubles"),
        ("1e3", "Enter a positive amount in roubles"),
        ("NaN", "Enter a positive amount in roubles"),
        ("1000000.01", "One online payment may be at most 1000000.00 ₽."),
        ("99999999999999999999", "The amount exceeds the limit of"),
    ],
)
def test_bad_amounts_are_refused_with_400_and_kept(cabinet, history, amount, message):
    response = cabinet.post(reverse("cabinet:pay", args=[history.account.pk]), {"amount": amount})
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert f'value="{amount}"' in html
    assert 'aria-describedby="id_amount_help id_amount_error" aria-invalid="true"' in html
    assert not PaymentOrder.objects.exists()


@pytest.mark.django_db
def test_amount_with_comma_and_spaces_creates_an_order(cabinet, history):
    order = start_order(cabinet, history.account, "1 000,5")
    assert (order.amount_kop, order.status, order.provider) == (100_050, "created", "sim")
    assert order.cabinet_user.email == "ivanov@example.ru"
    sim = cabinet.get(reverse("cabinet:pay_sim", args=[order.token]))
    assert sim.status_code == 200
    html = sim.content.decode()
    assert "Simulated payment provider" in html
    assert "1000.50 ₽" in html
    assert 'value="pay"' in html and 'value="decline"' in html


@pytest.mark.django_db
def test_signed_callback_marks_the_order_paid_and_registers_the_payment_once(cabinet, history, secret):
    order = start_order(cabinet, history.account)
    body = {
        "payment_id": f"sim-{order.token}",
        "order": order.token,
        "account": history.account.number,
        "amount": "964.50",
        "paid_at": "2026-01-10T10:00:00+03:00",
        "status": "succeeded",
    }
    api = Client()
    assert post_callback(api, body).status_code == 201
    assert post_callback(api, body).status_code == 200  # a replay
    order.refresh_from_db()
    payment = Payment.objects.get(external_id=f"sim-{order.token}")
    assert (order.status, order.payment_id) == ("paid", payment.pk)
    assert order.finished_at is not None
    assert (payment.account_id, payment.amount_kop, payment.source) == (
        history.account.pk,
        96_450,
        "acquiring",
    )
    assert LedgerEntry.objects.filter(payment=payment).count() == 1
    html = cabinet.get(reverse("cabinet:pay_return", args=[order.token])).content.decode()
    assert "Payment received" in html
    assert "964.50 ₽ has been paid to account" in html
    # The sim page of a finished order offers no buttons.
    assert 'value="pay"' not in cabinet.get(reverse("cabinet:pay_sim", args=[order.token])).content.decode()


@pytest.mark.django_db
def test_unsigned_callback_changes_nothing(cabinet, history, secret):
    order = start_order(cabinet, history.account)
    body = {
        "payment_id": "x",
        "order": order.token,
        "account": history.account.number,
        "amount": "1",
        "paid_at": "2026-01-10",
        "status": "succeeded",
    }
    assert post_callback(Client(), body, key="wrong").status_code == 403
    order.refresh_from_db()
    assert order.status == "created"
    assert not Payment.objects.filter(source="acquiring").exists()


@pytest.mark.django_db
def test_declined_callback_and_return_page(cabinet, history, secret):
    order = start_order(cabinet, history.account)
    body = {"payment_id": f"sim-{order.token}", "order": order.token, "status": "declined"}
    response = post_callback(Client(), body)
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    order.refresh_from_db()
    assert order.status == "declined"
    assert not Payment.objects.filter(source="acquiring").exists()
    html = cabinet.get(reverse("cabinet:pay_return", args=[order.token])).content.decode()
    assert "Payment declined" in html
    assert reverse("cabinet:pay", args=[history.account.pk]) in html


@pytest.mark.django_db
def test_pending_order_return_page(cabinet, history):
    order = start_order(cabinet, history.account)
    html = cabinet.get(reverse("cabinet:pay_return", args=[order.token])).content.decode()
    assert "Payment pending" in html
    assert '<meta http-equiv="refresh" content="10">' in html


@pytest.mark.django_db
def test_provider_unreachable_leaves_the_order_pending(cabinet, history, secret, monkeypatch):
    from okno.billing import online

    order = start_order(cabinet, history.account)
    monkeypatch.setattr(online, "CALLBACK_TIMEOUT_S", 2)
    # Nothing listens on port 9 of the loopback: the callback cannot be delivered.
    response = cabinet.post(
        reverse("cabinet:pay_sim", args=[order.token]), {"action": "pay"}, HTTP_HOST="127.0.0.1:9"
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cabinet:pay_return", args=[order.token])
    order.refresh_from_db()
    assert order.status == "created"
    assert cabinet.post(reverse("cabinet:pay_sim", args=[order.token]), {"action": "x"}).status_code == 400


@pytest.mark.django_db
def test_order_of_another_cabinet_user_on_my_account_is_404(cabinet, history, customers):
    from tests.portal.conftest import _cabinet_user

    other = _cabinet_user("wife@example.ru", customers.acc_ivanov)
    order = PaymentOrder.objects.create(
        token="wifes-order", account=history.account, cabinet_user=other, amount_kop=100, provider="sim"
    )
    assert cabinet.get(reverse("cabinet:pay_return", args=[order.token])).status_code == 404
    assert cabinet.get(reverse("cabinet:pay_sim", args=[order.token])).status_code == 404


@pytest.mark.django_db
def test_simulator_is_404_in_production(cabinet, history, settings):
    order = start_order(cabinet, history.account)
    settings.OKNO_PAYMENT_SIMULATOR = False
    assert cabinet.get(reverse("cabinet:pay_sim", args=[order.token])).status_code == 404
    assert cabinet.post(reverse("cabinet:pay_sim", args=[order.token]), {"action": "pay"}).status_code == 404
    # Without a configured acquirer the cabinet does not start orders.
    response = cabinet.post(reverse("cabinet:pay", args=[history.account.pk]), {"amount": "10"})
    assert response.status_code == 503
    assert PaymentOrder.objects.count() == 1


@pytest.mark.django_db
def test_configured_acquirer_gets_the_order(cabinet, history, settings):
    settings.OKNO_PAYMENT_SIMULATOR = False
    settings.OKNO_ACQUIRING_URL = "https://pay.example/checkout?order={order}&amount={amount}"
    response = cabinet.post(reverse("cabinet:pay", args=[history.account.pk]), {"amount": "10"})
    order = PaymentOrder.objects.get()
    assert response["Location"] == f"https://pay.example/checkout?order={order.token}&amount=10.00"
    assert order.provider == "acquiring"


@pytest.mark.django_db(transaction=True)
def test_pay_through_the_simulator_end_to_end(live_server, ivanov_user, metered, settings):
    """Pay in the simulator → the server posts the signed callback to itself over HTTP → the order is
    paid, the payment registered and on the ledger, and the return page says so. A development
    machine without a key gets one generated."""
    from okno.billing.periods import add_months, month_start
    from tests.billing.test_ledger import charge
    from tests.portal.cabinet_money.conftest import today_in_moscow

    assert BillingSettings.current().acquiring_secret == ""
    settings.OKNO_PUBLIC_URL = live_server.url  # where the simulator posts the callback
    charge(metered.account, add_months(month_start(today_in_moscow()), -1), 150_000)
    host, port = live_server.url.removeprefix("http://").split(":")
    browser = Client(HTTP_HOST=f"{host}:{port}")
    sign_in(browser, ivanov_user)
    pay_page = browser.get(reverse("cabinet:pay", args=[metered.account.pk])).content.decode()
    assert 'value="1500.00"' in pay_page
    order = start_order(browser, metered.account, "1500.00")
    response = browser.post(reverse("cabinet:pay_sim", args=[order.token]), {"action": "pay"})
    assert response["Location"] == reverse("cabinet:pay_return", args=[order.token])
    order.refresh_from_db()
    assert order.status == "paid"
    assert order.payment.amount_kop == 150_000
    assert order.payment.external_id == f"sim-{order.token}"
    assert len(BillingSettings.current().acquiring_secret) == 64
    html = browser.get(response["Location"]).content.decode()
    assert "Payment received" in html
    account_page = browser.get(reverse("cabinet:account", args=[metered.account.pk])).content.decode()
    assert "Online card payment" in account_page
    assert 'To pay</dt><dd class="amount">0.00 ₽' in account_page
    # Pressing Pay again (a double click) sends nothing more.
    browser.post(reverse("cabinet:pay_sim", args=[order.token]), {"action": "pay"})
    assert Payment.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_decline_through_the_simulator_end_to_end(live_server, ivanov_user, metered, settings):
    settings.OKNO_PUBLIC_URL = live_server.url  # where the simulator posts the callback
    host, port = live_server.url.removeprefix("http://").split(":")
    browser = Client(HTTP_HOST=f"{host}:{port}")
    sign_in(browser, ivanov_user)
    order = start_order(browser, metered.account, "10")
    response = browser.post(reverse("cabinet:pay_sim", args=[order.token]), {"action": "decline"})
    order.refresh_from_db()
    assert order.status == "declined"
    assert "Payment declined" in browser.get(response["Location"]).content.decode()
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_callback_naming_an_unknown_order_still_registers_the_payment(history, secret):
    body = {
        "payment_id": "bank-77",
        "order": "no-such-order",
        "account": history.account.number,
        "amount": "100.00",
        "paid_at": "2026-01-10",
        "status": "succeeded",
    }
    assert post_callback(Client(), body).status_code == 201
    assert Payment.objects.get(external_id="bank-77").amount_kop == 10_000
    assert not PaymentOrder.objects.exists()


@pytest.mark.django_db
def test_return_page_shows_times_in_the_accounts_branch_zone(client, customers, romashka_user):
    import datetime as dt

    order = PaymentOrder.objects.create(
        token="romashka-token",
        account=customers.acc_romashka,
        cabinet_user=romashka_user,
        amount_kop=12_345,
        provider="sim",
        created_at=dt.datetime(2026, 1, 10, 20, 30, tzinfo=dt.UTC),
    )
    sign_in(client, romashka_user)
    html = client.get(reverse("cabinet:pay_return", args=[order.token])).content.decode()
    # Branch B is in Asia/Yekaterinburg (UTC+5).
    assert "11.01.2026 01:30" in html
    assert "123.45 ₽" in html
