"""The dashboard and the account page: balance and due date, the last invoice, charges and payments,
meters and the consumption chart; the invoice PDF; other people's ids are 404 everywhere."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.portal.cabinet_money.conftest import read
from tests.portal.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_signed_out_visitor_is_sent_to_login(client, customers):
    response = client.get(reverse("cabinet:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("cabinet:login") + "?next=")


def test_dashboard_with_one_account_shows_the_account(cabinet, history):
    response = cabinet.get(reverse("cabinet:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Account {history.account.number}" in html
    # Balance: 643.00 + 964.50 − 643.00.
    assert re.search(r"To pay</dt><dd class=\"amount debt\">964\.50 ₽", html)
    assert f"{history.invoice.due_date:%d.%m.%Y}" in html
    assert reverse("cabinet:invoice_pdf", args=[history.account.pk, history.invoice.pk]) in html
    assert reverse("cabinet:pay", args=[history.account.pk]) in html
    assert reverse("cabinet:reading", args=[history.account.pk]) in html


def test_account_page_lists_charges_payments_meter_and_consumption(cabinet, history):
    response = cabinet.get(reverse("cabinet:account", args=[history.account.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    ledger = html.split('id="ledger-title"')[1]
    assert ledger.index("964.50") < ledger.index("643.00")  # newest first
    assert ledger.count("643.00") == 2  # charged for P1, paid in P2
    assert f"for {history.p2:%m.%Y}" in ledger
    assert "Bank registry" in ledger  # the payment's source
    # The meter with its last reading (one decimal, as the meter shows).
    assert "Меркурий 201.8 № 41234567" in html
    assert "all day: 1250.0 kWh" in html
    # The chart: a server-side SVG with one bar per month of consumption.
    bars = re.findall(r'data-period="([\d-]+)" data-zone="1" data-kwh="([\d.]+)"', html)
    assert (f"{history.p1:%Y-%m}", "100.000") in bars
    assert (f"{history.p2:%Y-%m}", "150.000") in bars
    # The same figures as a table.
    table = html.split('class="data consumption"')[1].split("</table>")[0]
    assert re.search(rf"{history.p2:%m\.%Y}</th><td class=\"num\">150\.0</td>", table)
    assert html.count('<tr><th scope="row">') == 12


def test_an_advance_is_shown_as_paid_in_advance(cabinet, history):
    from tests.billing.test_ledger import pay

    pay(history.account, history.today, 100_000, pid="advance")
    html = cabinet.get(reverse("cabinet:account", args=[history.account.pk])).content.decode()
    assert 'Paid in advance</dt><dd class="amount advance">35.50 ₽' in html


def test_charges_and_payments_are_paginated_and_limited_to_twelve_months(cabinet, history):
    from okno.billing.models import LedgerEntry
    from okno.billing.periods import add_months

    for i in range(25):
        LedgerEntry.objects.create(
            account=history.account,
            kind=LedgerEntry.Kind.ADJUSTMENT,
            entry_date=history.p2.replace(day=10),
            amount_kop=100 + i,
            note="x",
        )
    old = add_months(history.p1, -13)
    LedgerEntry.objects.create(
        account=history.account, kind=LedgerEntry.Kind.ADJUSTMENT, entry_date=old, amount_kop=777_77
    )
    url = reverse("cabinet:account", args=[history.account.pk])
    first = cabinet.get(url).content.decode()
    assert "Page 1 of 2" in first
    second = cabinet.get(url + "?page=2").content.decode()
    assert "Page 2 of 2" in second
    rows = first.count('<tr class="entry-') + second.count('<tr class="entry-')
    assert rows == 25 + 3  # the two charges and the payment; not the entry of 14 months ago
    assert "7777.77" not in first + second
    assert cabinet.get(url + "?page=abc").status_code == 200


def test_dashboard_with_several_accounts_shows_a_card_each(client, customers, history):
    from tests.portal.conftest import _cabinet_user

    user = _cabinet_user("both@example.ru", customers.acc_ivanov, customers.acc_romashka)
    sign_in(client, user)
    html = client.get(reverse("cabinet:dashboard")).content.decode()
    assert html.count('class="panel account-card"') == 2
    assert f"Account {customers.acc_ivanov.number}" in html
    assert f"Account {customers.acc_romashka.number}" in html
    assert "964.50 ₽" in html
    assert f"Invoice for {history.p2:%m.%Y}: 964.50 ₽ (PDF)" in html
    assert reverse("cabinet:account", args=[customers.acc_romashka.pk]) in html


def test_dashboard_without_accounts(client, customers):
    from tests.portal.conftest import _cabinet_user

    sign_in(client, _cabinet_user("nobody@example.ru"))
    response = client.get(reverse("cabinet:dashboard"))
    assert response.status_code == 200
    assert "No account is linked" in response.content.decode()


def test_invoice_pdf_of_own_account(cabinet, history, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    response = cabinet.get(reverse("cabinet:invoice_pdf", args=[history.account.pk, history.invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_other_peoples_ids_are_404_on_every_page(cabinet, history, customers, romashka_user):
    from okno.billing.models import Invoice, PaymentOrder

    theirs = customers.acc_romashka
    invoice = Invoice.objects.create(
        account=theirs, period=history.p2, number="R-1", amount_kop=100, total_kop=100, due_date=history.today
    )
    order = PaymentOrder.objects.create(
        token="romashka-order-token",
        account=theirs,
        cabinet_user=romashka_user,
        amount_kop=100,
        provider="sim",
    )
    urls = [
        reverse("cabinet:account", args=[theirs.pk]),
        reverse("cabinet:invoice_pdf", args=[theirs.pk, invoice.pk]),
        # Their invoice through my account, and my invoice through theirs.
        reverse("cabinet:invoice_pdf", args=[history.account.pk, invoice.pk]),
        reverse("cabinet:invoice_pdf", args=[theirs.pk, history.invoice.pk]),
        reverse("cabinet:reading", args=[theirs.pk]),
        reverse("cabinet:pay", args=[theirs.pk]),
        reverse("cabinet:pay_return", args=[order.token]),
        reverse("cabinet:pay_sim", args=[order.token]),
        reverse("cabinet:account", args=[999_999]),
    ]
    for url in urls:
        assert cabinet.get(url).status_code == 404, url
    for url in urls[4:]:
        assert cabinet.post(url, {"t1": "1300", "amount": "10", "action": "pay"}).status_code == 404, url
    order.refresh_from_db()
    assert order.status == PaymentOrder.Status.CREATED
    assert not theirs.readings.exists()


def test_a_held_reading_shows_as_last_only_once_accepted(cabinet, history):
    read(history.meter, history.today, 9_000_000, status="held")
    html = cabinet.get(reverse("cabinet:account", args=[history.account.pk])).content.decode()
    assert "all day: 1250.0 kWh" in html


def test_ledger_texts_are_escaped_on_the_account_page(cabinet, history):
    """A payment's note comes from a bank's registry: markup in it is shown as text, never run."""
    from okno.billing.models import LedgerEntry

    entry = LedgerEntry.objects.filter(account=history.account, kind=LedgerEntry.Kind.PAYMENT).first()
    entry.note = '<script>alert("x")</script> & Co'
    entry.save(update_fields=["note"])
    html = cabinet.get(reverse("cabinet:account", args=[history.account.pk])).content.decode()
    ledger = html.split('id="ledger-title"')[1]
    assert "<script>alert" not in html
    assert "(&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co)</span>" in ledger
