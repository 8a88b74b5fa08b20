"""Invoices: the numbers of a hand-made case, the PDF, the batch job, the web page and the API."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from okno.billing import invoices, qr, rules
from okno.billing.models import BillingRun, Charge, Invoice, LedgerEntry, Method, Reading
from okno.billing.periods import month_end

FEB, MAR = dt.date(2026, 2, 1), dt.date(2026, 3, 1)


def charge(acc, run, period, volume_wh, price_e4, amount_kop, meter=None, method=Method.ACTUAL, due=None):
    Charge.objects.create(
        account=acc,
        period=period,
        run=run,
        meter=meter,
        method=method,
        zones=1,
        zone=1,
        tier=1,
        volume_wh=volume_wh,
        price_e4=price_e4,
        amount_kop=amount_kop,
    )
    LedgerEntry.objects.create(
        account=acc,
        kind=LedgerEntry.Kind.CHARGE,
        period=period,
        entry_date=month_end(period),
        due_date=due,
        amount_kop=amount_kop,
        run=run,
    )


@pytest.fixture
def case(metered):
    """Иванов, a one-zone meter at 6.43 ₽/kWh:

    * February 2026: reading 1 150.0 (from 1 000.0) → 150 kWh × 6.43 = 964.50 ₽, due 15 March (the
      15th-day rule took effect on 1 March 2026, so it applies from the February bill, due in March);
    * 5 March: paid 500.00 ₽;
    * March 2026: reading 1 337.5 → 187.5 kWh × 6.43 = 1 205.625 → 1 205.63 ₽, due 15 April;
    * 31 March: a penalty of 12.34 ₽ posted.
    """
    acc, meter = metered.account, metered.meter
    feb_run = BillingRun.objects.create(period=FEB, status=BillingRun.Status.DONE)
    mar_run = BillingRun.objects.create(period=MAR, status=BillingRun.Status.DONE)
    for period, taken, value in (
        (FEB, dt.date(2026, 2, 20), 1_150_000),
        (MAR, dt.date(2026, 3, 20), 1_337_500),
    ):
        Reading.objects.create(
            meter=meter,
            account=acc,
            period=period,
            taken_on=taken,
            t1_wh=value,
            channel=Reading.Channel.CABINET,
        )
    charge(acc, feb_run, FEB, 150_000, 64_300, 96_450, meter, due=dt.date(2026, 3, 15))
    LedgerEntry.objects.create(
        account=acc, kind=LedgerEntry.Kind.PAYMENT, entry_date=dt.date(2026, 3, 5), amount_kop=-50_000
    )
    charge(acc, mar_run, MAR, 187_500, 64_300, 120_563, meter, due=dt.date(2026, 4, 15))
    LedgerEntry.objects.create(
        account=acc,
        kind=LedgerEntry.Kind.PENALTY,
        period=MAR,
        entry_date=dt.date(2026, 3, 31),
        amount_kop=1_234,
    )
    return SimpleNamespace(
        account=acc, meter=meter, payee=metered.tariffs.payee, feb_run=feb_run, mar_run=mar_run
    )


def test_invoice_numbers_of_a_hand_made_case(case):
    invoice = invoices.build_invoice(case.account, MAR)
    # Debt at the start of March = balance on 28 February = the February charge, 964.50 ₽.
    assert invoice.debt_kop == 96_450
    assert invoice.amount_kop == 120_563
    assert invoice.penalty_kop == 1_234
    # To pay = 964.50 − 500.00 (paid 5 March) + 1 205.63 + 12.34 = 1 682.47 ₽.
    assert invoice.total_kop == 96_450 - 50_000 + 120_563 + 1_234 == 168_247
    assert invoice.due_date == dt.date(2026, 4, 15)  # from period 2026-03: the 15th
    assert invoice.number == f"{case.account.number}-202603"
    fields = qr.parse_payload(invoice.qr_payload)
    assert fields["Sum"] == "168247"
    assert fields["PersAcc"] == case.account.number
    assert fields["PaymPeriod"] == "032026"
    assert fields["PersonalAcc"] == "40702810900000000001"


def test_february_invoice_is_due_on_the_15th_and_has_no_debt(case):
    invoice = invoices.build_invoice(case.account, FEB)
    assert (invoice.debt_kop, invoice.amount_kop, invoice.penalty_kop, invoice.total_kop) == (
        0,
        96_450,
        0,
        96_450,
    )
    assert invoice.due_date == dt.date(2026, 3, 15)  # the February 2026 bill falls due under the new rule
    # January 2026 is still due on the 10th of February.
    assert rules.due_date(dt.date(2026, 1, 1)) == dt.date(2026, 2, 10)


def test_wrong_payee_details_leave_the_invoice_without_a_qr_code(case):
    case.payee.bic = "04452522"  # 8 digits
    case.payee.save()
    invoice = invoices.build_invoice(case.account, MAR)
    assert invoice.qr_payload == "" and invoice.total_kop == 168_247
    assert invoices.render_pdf(invoice).startswith(b"%PDF")


def test_an_advance_gives_nothing_to_pay(case):
    LedgerEntry.objects.create(
        account=case.account,
        kind=LedgerEntry.Kind.PAYMENT,
        entry_date=dt.date(2026, 3, 25),
        amount_kop=-200_000,
    )
    invoice = invoices.build_invoice(case.account, MAR)
    # 1 682.47 − 2 000.00 = −317.53 ₽: an advance, nothing to pay.
    assert invoice.total_kop == 0
    assert "|Sum=0|" in invoice.qr_payload


def test_building_again_updates_the_same_invoice(case):
    first = invoices.build_invoice(case.account, MAR)
    LedgerEntry.objects.create(
        account=case.account,
        kind=LedgerEntry.Kind.PAYMENT,
        entry_date=dt.date(2026, 3, 28),
        amount_kop=-8_247,
    )
    second = invoices.build_invoice(case.account, MAR)
    assert second.pk == first.pk
    assert Invoice.objects.filter(account=case.account, period=MAR).count() == 1
    assert Invoice.objects.get(pk=first.pk).total_kop == 160_000


def test_lines_show_readings_volume_method_and_price(case):
    facts = invoices.collect([case.account.pk], MAR)[case.account.pk]
    [line] = facts.lines
    assert (str(line.previous), str(line.current), str(line.volume)) == ("1150.0", "1337.5", "187.500")
    assert (str(line.price), str(line.amount), line.method, line.zone) == (
        "6.43",
        "1205.63",
        "By readings",
        "all day",
    )
    assert facts.paid_kop == 50_000


def test_html_has_the_supplier_customer_lines_and_qr(case):
    invoice = invoices.build_invoice(case.account, MAR)
    html = invoices.render_html(invoice)
    for text in (
        case.account.number,
        "Иванов Пётр Сергеевич",
        "ул. Ленина",
        "АО «Тестовая энергосбытовая компания»",
        "8-800-000-00-00",
        "1337.5",
        "1205.63",
        "1682.47",
        "15.04.2026",
        "By readings",
    ):
        assert text in html, text


def test_the_printed_qr_image_decodes_to_the_invoice_payload(case):
    import base64
    import io
    import re

    import zxingcpp
    from PIL import Image

    invoice = invoices.build_invoice(case.account, MAR)
    html = invoices.render_html(invoice)
    data = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    image = Image.open(io.BytesIO(base64.b64decode(data))).convert("L")
    image = image.resize((image.width * 4, image.height * 4), Image.NEAREST)
    [found] = zxingcpp.read_barcodes(image)
    assert found.bytes == invoice.qr_payload.encode("utf-8")
    assert "|Sum=168247|" in found.text


def test_pdf_is_a_pdf(case):
    invoice = invoices.build_invoice(case.account, MAR)
    pdf = invoices.render_pdf(invoice)
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 5_000


def test_batch_job_for_a_run_stores_pdfs(case):
    from okno.core.jobs import REGISTRY

    counts = REGISTRY["billing.invoices"].func(run_id=case.mar_run.pk)
    assert (counts["invoices"], counts["pdfs"], counts["failed"], counts["period"]) == (1, 1, 0, "2026-03")
    invoice = Invoice.objects.get(account=case.account, period=MAR)
    assert invoice.run_id == case.mar_run.pk
    assert invoice.pdf.name == f"invoices/2026/03/{case.account.number}-202603.pdf"
    with invoice.pdf.open("rb") as fh:
        assert fh.read(4) == b"%PDF"
    # Again, after a payment: the same invoice and file, with the new numbers.
    LedgerEntry.objects.create(
        account=case.account,
        kind=LedgerEntry.Kind.PAYMENT,
        entry_date=dt.date(2026, 3, 30),
        amount_kop=-68_247,
    )
    REGISTRY["billing.invoices"].func(period="2026-03")
    again = Invoice.objects.get(account=case.account, period=MAR)
    assert (again.pk, again.pdf.name, again.total_kop) == (invoice.pk, invoice.pdf.name, 100_000)
    assert again.pdf.storage.exists(again.pdf.name)


def test_a_failing_invoice_is_reported_and_the_batch_goes_on(case, monkeypatch):
    real = invoices.render_pdf

    def flaky(invoice, facts=None):
        if invoice.period == MAR:
            raise RuntimeError("font missing")
        return real(invoice, facts)

    monkeypatch.setattr(invoices, "render_pdf", flaky)
    counts = invoices.generate([case.account.pk], MAR)
    assert (counts["pdfs"], counts["failed"]) == (0, 1)
    assert counts["errors"] == [{"account": case.account.number, "error": "font missing"}]
    assert not Invoice.objects.get(account=case.account, period=MAR).pdf
    assert invoices.generate([case.account.pk], FEB)["pdfs"] == 1


def test_run_finished_event_queues_the_batch(case, django_capture_on_commit_callbacks):
    from okno.core import events

    invoices.connect()
    with django_capture_on_commit_callbacks(execute=True):
        events.publish("billing.run_finished", run_id=case.feb_run.pk)
    invoice = Invoice.objects.get(account=case.account, period=FEB)
    assert invoice.pdf and invoice.total_kop == 96_450


def test_batch_queries_do_not_grow_with_accounts(case, customers, org):
    from okno.customers import actions
    from okno.customers.models import Address
    from okno.customers.numbers import make_account_number

    others = [
        actions.open_account(
            customer=customers.ivanov,
            number=make_account_number(3000 + i),
            actor=org.admin,
            address=Address(
                region="Тестовая область", settlement="Северск", house=str(i), grid_district=org.district_a
            ),
        )
        for i in range(3)
    ]
    for acc in others:
        charge(acc, case.mar_run, MAR, 100_000, 64_300, 64_300, due=dt.date(2026, 4, 15), method=Method.NORM)
    invoices.build_invoices([case.account.pk], MAR)  # warms the due-day rules' process cache
    Invoice.objects.all().delete()
    with CaptureQueriesContext(connection) as one:
        invoices.build_invoices([case.account.pk], MAR)
    Invoice.objects.all().delete()
    with CaptureQueriesContext(connection) as four:
        built = invoices.build_invoices([case.account.pk] + [a.pk for a in others], MAR)
    assert len(built) == 4
    assert len(four.captured_queries) == len(one.captured_queries)


def test_web_pdf_builds_on_demand_and_respects_branches(case, org, client):
    url = reverse("billing:invoice_pdf", kwargs={"number": case.account.number, "period": "2026-03"})
    client.force_login(org.operator_a)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert Invoice.objects.get(account=case.account, period=MAR).pdf
    client.force_login(org.operator_b)
    assert client.get(url).status_code == 404
    client.force_login(org.operator_a)
    bad = reverse("billing:invoice_pdf", kwargs={"number": case.account.number, "period": "2026-13"})
    assert client.get(bad).status_code == 404


def test_api_lists_invoices_and_serves_the_pdf(case, org):
    api = APIClient()
    api.force_authenticate(org.operator_a)
    pdf = api.get(f"/api/v1/accounts/{case.account.number}/invoices/2026-03.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    listing = api.get(f"/api/v1/accounts/{case.account.number}/invoices/")
    assert listing.status_code == 200
    [row] = listing.json()["results"]
    assert (row["period"], row["total_kop"], row["due_date"]) == ("2026-03", 168_247, "2026-04-15")
    assert row["pdf_url"].endswith(f"/api/v1/accounts/{case.account.number}/invoices/2026-03.pdf")
    other = APIClient()
    other.force_authenticate(org.operator_b)
    assert other.get(f"/api/v1/accounts/{case.account.number}/invoices/").status_code == 404
    security = APIClient()
    security.force_authenticate(org.security)
    assert security.get(f"/api/v1/accounts/{case.account.number}/invoices/").status_code == 403


def test_a_period_after_the_current_month_has_no_invoice(case, org, client):
    from django.utils import timezone

    from okno.billing.periods import add_months, month_start

    today = timezone.localdate(timezone=case.account.service_point.branch.tz)
    following = f"{add_months(month_start(today), 1):%Y-%m}"
    client.force_login(org.operator_a)
    for period in ("9999-12", following):
        url = reverse("billing:invoice_pdf", kwargs={"number": case.account.number, "period": period})
        assert client.get(url).status_code == 404
    api = APIClient()
    api.force_authenticate(org.operator_a)
    response = api.get(f"/api/v1/accounts/{case.account.number}/invoices/9999-12.pdf")
    assert response.status_code == 400
    assert response.json()["errors"] == {"period": ["No invoice for 9999-12: the period has not begun yet."]}
    assert api.get(f"/api/v1/accounts/{case.account.number}/invoices/{following}.pdf").status_code == 400
    assert api.get(f"/api/v1/accounts/{case.account.number}/invoices/2026-13.pdf").status_code == 404
    with pytest.raises(invoices.PeriodNotBillable):
        invoices.invoice_pdf(case.account, dt.date(9999, 12, 1))
    assert not Invoice.objects.exists()
    # The current month is allowed.
    current = f"{month_start(today):%Y-%m}"
    assert api.get(f"/api/v1/accounts/{case.account.number}/invoices/{current}.pdf").status_code == 200
