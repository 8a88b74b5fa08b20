"""The operator's account card: a hand-made history shows its numbers; branch scope; bounded queries;
the search by account number; the consumption chart."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from okno.billing.periods import add_months, month_end

AS_OF = dt.date(2025, 6, 1)
SVG = "{http://www.w3.org/2000/svg}"


def _run(period):
    from okno.billing.models import BillingRun

    return BillingRun.objects.create(period=period, status=BillingRun.Status.DONE)


def _charge_month(account, meter, period, volume_wh, price_e4, due):
    """One actual charge line, its ledger entry, priced per kWh and rounded to the kopeck."""
    from okno.billing.models import Charge, LedgerEntry, Method

    amount = (volume_wh * price_e4 + 50_000) // 100_000  # Wh × 1/10 000 ₽ per kWh = 1/10⁵ kopeck
    run = _run(period)
    Charge.objects.create(
        account=account,
        period=period,
        run=run,
        meter=meter,
        method=Method.ACTUAL,
        zones=1,
        zone=1,
        volume_wh=volume_wh,
        price_e4=price_e4,
        amount_kop=amount,
    )
    LedgerEntry.objects.create(
        account=account,
        kind=LedgerEntry.Kind.CHARGE,
        period=period,
        entry_date=month_end(period),
        due_date=due,
        amount_kop=amount,
        run=run,
    )
    return amount


def _pay(account, day, amount_kop):
    from okno.billing.models import LedgerEntry, Payment

    payment = Payment.objects.create(
        account=account, amount_kop=amount_kop, paid_on=day, source=Payment.Source.CASHIER
    )
    LedgerEntry.objects.create(
        account=account,
        kind=LedgerEntry.Kind.PAYMENT,
        entry_date=day,
        amount_kop=-amount_kop,
        payment=payment,
    )
    return payment


def _read(meter, taken_on, t1_wh, period=None):
    from okno.billing.models import Reading

    return Reading.objects.create(
        meter=meter,
        account=meter.account,
        period=period or taken_on.replace(day=1),
        taken_on=taken_on,
        t1_wh=t1_wh,
        channel=Reading.Channel.CABINET,
    )


def build_history(metered):
    """Иванов's one-zone meter at 1000.0 kWh on 15.01.2025, then:

    readings 20.02 1100.0, 20.03 1250.0, 20.04 1450.0 → 100, 150, 200 kWh in February–April;
    charge for March 150 kWh × 6.43 ₽ = 964.50 ₽ (due 10.04), paid in full on 05.04;
    charge for April 200 kWh × 6.43 ₽ = 1286.00 ₽ (due 10.05), 500.00 ₽ paid on 20.05;
    invoice for April: 1286.00 ₽.
    On 01.06.2025: balance 964.50 − 964.50 + 1286.00 − 500.00 = 786.00 ₽, all of it overdue
    (both due dates have passed).
    """
    from okno.billing.models import Invoice

    acc, meter = metered.account, metered.meter
    _read(meter, dt.date(2025, 2, 20), 1_100_000)
    r_march = _read(meter, dt.date(2025, 3, 20), 1_250_000)
    _read(meter, dt.date(2025, 4, 20), 1_450_000)
    march = _charge_month(acc, meter, dt.date(2025, 3, 1), 150_000, 64_300, dt.date(2025, 4, 10))
    assert march == 96_450
    _pay(acc, dt.date(2025, 4, 5), 96_450)
    april = _charge_month(acc, meter, dt.date(2025, 4, 1), 200_000, 64_300, dt.date(2025, 5, 10))
    assert april == 128_600
    _pay(acc, dt.date(2025, 5, 20), 50_000)
    Invoice.objects.create(
        account=acc,
        period=dt.date(2025, 4, 1),
        number="2025-04-0000001",
        amount_kop=128_600,
        total_kop=128_600,
        due_date=dt.date(2025, 5, 10),
    )
    return SimpleNamespace(account=acc, meter=meter, reading_march=r_march)


@pytest.fixture
def history(metered):
    return build_history(metered)


def card_url(account, on=AS_OF):
    return reverse("billing:account", args=[account.number]) + f"?on={on.isoformat()}"


# --- the summary -------------------------------------------------------------------------------


def test_summary_has_hand_computed_balance_consumption_and_charges(history):
    from okno.billing.queries import account_summary

    s = account_summary(history.account, AS_OF)
    assert s.balance_kop == 78_600 and str(s.balance) == "786.00"
    assert s.overdue_kop == 78_600
    assert [(c.period, c.by_zone) for c in s.consumption] == [
        (dt.date(2025, 2, 1), {1: 100_000}),
        (dt.date(2025, 3, 1), {1: 150_000}),
        (dt.date(2025, 4, 1), {1: 200_000}),
    ]
    assert [(cp.period, cp.total_kop, cp.methods) for cp in s.charges] == [
        (dt.date(2025, 4, 1), 128_600, ["actual"]),
        (dt.date(2025, 3, 1), 96_450, ["actual"]),
    ]
    # Ledger, oldest first, with the running balance: +964.50, −964.50, +1286.00, −500.00.
    assert [r.balance_kop for r in s.ledger] == [96_450, 0, 128_600, 78_600]
    # Debt by period: March paid off, April 1286.00 − 500.00 = 786.00 still open and overdue.
    assert [(str(d.period), str(d.open), d.overdue) for d in s.debts] == [
        ("2025-04-01", "786.00", True),
        ("2025-03-01", "0.00", False),
    ]
    assert s.meters[0].last_reading.t1_wh == 1_450_000
    assert s.latest_invoice is not None and s.latest_invoice.number == "2025-04-0000001"
    assert s.debt_case is None


def test_summary_before_a_payment_does_not_count_it(history):
    from okno.billing.queries import account_summary

    # On 15.05.2025 the second payment has not come: 964.50 − 964.50 + 1286.00 = 1286.00 ₽ due,
    # overdue since 10.05.
    s = account_summary(history.account, dt.date(2025, 5, 15))
    assert s.balance_kop == 128_600
    assert s.overdue_kop == 128_600
    assert len(s.payments) == 1


def test_rollover_reading_counts_consumption_over_the_capacity(metered):
    from okno.billing.queries import account_summary

    meter = metered.meter
    meter.integer_digits = 4  # rolls over at 10 000 kWh
    meter.save(update_fields=["integer_digits"])
    _read(meter, dt.date(2025, 2, 20), 9_950_000, period=dt.date(2025, 2, 1))
    _read(meter, dt.date(2025, 3, 20), 30_000, period=dt.date(2025, 3, 1))
    s = account_summary(metered.account, AS_OF)
    # 1000.0 → 9950.0: 8950 kWh; 9950.0 → (10000) → 30.0: 50 + 30 = 80 kWh.
    by_period = {c.period: c.by_zone[1] for c in s.consumption}
    assert by_period == {dt.date(2025, 2, 1): 8_950_000, dt.date(2025, 3, 1): 80_000}
    assert s.readings[0].rollover is True


def test_superseded_reading_is_left_out_and_its_correction_used(history):
    from okno.billing.models import Reading
    from okno.billing.queries import account_summary

    old = history.reading_march
    Reading.objects.filter(pk=old.pk).update(status=Reading.Status.SUPERSEDED)
    Reading.objects.create(
        meter=old.meter,
        account=old.account,
        period=old.period,
        taken_on=old.taken_on,
        t1_wh=1_240_000,
        channel=Reading.Channel.OFFICE,
        version=2,
        supersedes=old,
        reason="Опечатка",
    )
    s = account_summary(history.account, AS_OF)
    # 1100.0 → 1240.0 = 140 kWh in March; 1240.0 → 1450.0 = 210 kWh in April.
    assert {c.period.month: c.by_zone[1] for c in s.consumption} == {2: 100_000, 3: 140_000, 4: 210_000}
    assert all(r.reading.pk != old.pk for r in s.readings)


def _extend(history, months):
    """Add ``months`` more months of readings, charges and payments after April 2025."""
    acc, meter = history.account, history.meter
    value = 1_450_000
    for i in range(1, months + 1):
        period = add_months(dt.date(2025, 4, 1), i)
        value += 100_000
        _read(meter, period.replace(day=20), value)
        amount = _charge_month(acc, meter, period, 100_000, 64_300, add_months(period, 1).replace(day=10))
        _pay(acc, add_months(period, 1).replace(day=5), amount)


def _count(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_summary_query_count_does_not_grow_with_history(history, django_assert_max_num_queries):
    from okno.billing.queries import account_summary

    far = dt.date(2030, 1, 1)
    short = _count(lambda: account_summary(history.account, far))
    _extend(history, 36)
    with django_assert_max_num_queries(12):
        s = account_summary(history.account, far)
    assert len(s.charges) == 38 and len(s.readings) == 40
    assert _count(lambda: account_summary(history.account, far)) == short


def test_card_query_count_does_not_grow_with_history(client, org, history):
    client.force_login(org.operator_a)
    url = card_url(history.account, dt.date(2030, 1, 1))
    client.get(url)  # the per-process caches (the company) are filled by the first page
    short = _count(lambda: client.get(url))
    _extend(history, 24)
    long = _count(lambda: client.get(url))
    assert long == short


# --- the card page -----------------------------------------------------------------------------


def test_card_shows_balance_charge_line_reading_and_chart(client, org, history):
    client.force_login(org.operator_a)
    response = client.get(card_url(history.account))
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'id="balance" data-kop="78600">786\.00<', html)
    assert re.search(r'id="overdue" data-kop="78600">786\.00<', html)
    # The March charge line: 150 kWh × 6.4300 ₽ = 964.50 ₽, method in words.
    line = re.search(r'<tr class="charge-line">(?:(?!</tr>).)*03\.2025(?:(?!</tr>).)*</tr>', html, re.S)
    assert line is not None
    assert "By readings" in line[0] and "150.000" in line[0] and "6.4300" in line[0] and "964.50" in line[0]
    assert "1250.0<" in html and "1250.00" not in html  # the March reading, with the meter's one decimal
    assert "Меркурий 201.8" in html and "41234567" in html
    assert "2025-04-0000001" in html
    assert html.count('class="bar"') == 3
    assert "Иванов Пётр Сергеевич" in html


def test_card_offers_actions_whose_routes_exist_and_permissions_allow(client, org, history):
    client.force_login(org.operator_a)
    html = client.get(card_url(history.account)).content.decode()
    reading_url = reverse("billing:reading_new", args=[history.account.number])
    assert f'href="{reading_url}"' in html
    pay_url = reverse("billing:cashier", args=[history.account.number])
    assert f'href="{pay_url}"' in html
    pdf = reverse("billing:invoice_pdf", args=[history.account.number, "2025-04"])
    assert f'href="{pdf}"' in html
    # Replacing a meter is the billing staff's work (meter.change), not an operator's.
    replace_url = reverse("billing:meter_replace", args=[history.meter.pk])
    assert replace_url not in html
    client.force_login(org.head_a)
    assert replace_url in client.get(card_url(history.account)).content.decode()


def test_card_of_another_branch_is_404(client, org, history):
    client.force_login(org.operator_b)
    assert client.get(card_url(history.account)).status_code == 404


def test_card_needs_charge_view(client, org, history):
    client.force_login(org.security)  # sees customers and accounts, not billing
    assert client.get(card_url(history.account)).status_code == 403


def test_contact_centre_operator_sees_every_branch(client, org, history):
    client.force_login(org.cc_operator)
    assert client.get(card_url(history.account)).status_code == 200


def test_card_opening_is_recorded_in_the_access_log(client, org, history):
    from okno.core.models import AccessLog

    client.force_login(org.operator_a)
    client.get(card_url(history.account))
    assert AccessLog.objects.filter(
        actor=org.operator_a, customer_id=history.account.customer_id, context="ui:billing-account"
    ).exists()


def test_card_of_account_without_meter_or_history(client, org, customers):
    client.force_login(org.operator_b)
    response = client.get(reverse("billing:account", args=[customers.acc_romashka.number]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No meter: billed by the consumption norm." in html
    assert "No consumption by readings yet." in html
    assert re.search(r'id="balance" data-kop="0">0\.00<', html)


# --- search by account number ------------------------------------------------------------------


def test_search_exact_number_opens_the_card(client, org, customers):
    client.force_login(org.operator_a)
    number = customers.acc_ivanov.number
    response = client.get(reverse("billing:accounts"), {"q": f" {number[:3]} {number[3:]} "})
    assert response.status_code == 302
    assert response["Location"] == reverse("billing:account", args=[number])


def test_search_prefix_lists_only_visible_accounts(client, org, customers):
    client.force_login(org.operator_a)
    html = client.get(reverse("billing:accounts"), {"q": customers.acc_ivanov.number[:4]}).content.decode()
    assert customers.acc_ivanov.number in html
    assert customers.acc_romashka.number not in html
    # Branch B's account by its exact number is not found for branch A.
    response = client.get(reverse("billing:accounts"), {"q": customers.acc_romashka.number})
    assert response.status_code == 200
    assert "No account matches" in response.content.decode()


# --- the chart ---------------------------------------------------------------------------------


def _bars(svg):
    root = ET.fromstring(str(svg))  # noqa: S314  (our own markup, made in the test)
    return root, [e for e in root.iter(f"{SVG}rect") if e.get("class") == "bar"]


def test_chart_bars_have_heights_in_proportion_to_consumption():
    from okno.billing.chart import consumption_svg

    data = {
        dt.date(2025, 2, 1): {1: 100_000},
        dt.date(2025, 3, 1): {1: 150_000},
        dt.date(2025, 5, 1): {1: 200_000},  # April has no reading: an empty slot
    }
    root, bars = _bars(consumption_svg(data, {1: "all day"}, title="Consumption <test>"))
    assert root[0].tag == f"{SVG}title" and root[0].text == "Consumption <test>"
    assert root.get("role") == "img"
    assert [(b.get("data-period"), b.get("data-kwh")) for b in bars] == [
        ("2025-02", "100.000"),
        ("2025-03", "150.000"),
        ("2025-05", "200.000"),
    ]
    heights = [float(b.get("height")) for b in bars]
    # 100 : 150 : 200 kWh → 2 : 3 : 4 (to the rounding of the coordinates, 0.01 px).
    assert heights[1] / heights[0] == pytest.approx(1.5, abs=0.001)
    assert heights[2] / heights[0] == pytest.approx(2.0, abs=0.001)
    # The axis tops at a round 200 kWh, so the highest bar fills the plot (260 − 34 − 44 = 182 px).
    assert heights[2] == pytest.approx(182.0)
    # Bars stand on the baseline.
    assert {round(float(b.get("y")) + float(b.get("height")), 2) for b in bars} == {216.0}
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "kWh" in texts and "Month" in texts
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "month"] == [
        "02.25",
        "03.25",
        "04.25",
        "05.25",
    ]


def test_chart_of_two_zones_has_a_bar_per_zone_and_a_legend():
    from okno.billing.chart import consumption_svg

    data = {dt.date(2026, 1, 1): {1: 180_000, 2: 90_000}, dt.date(2026, 2, 1): {1: 120_000, 2: 60_000}}
    root, bars = _bars(consumption_svg(data, {1: "day", 2: "night"}))
    assert [(b.get("data-period"), b.get("data-zone")) for b in bars] == [
        ("2026-01", "1"),
        ("2026-01", "2"),
        ("2026-02", "1"),
        ("2026-02", "2"),
    ]
    h = {(b.get("data-period"), b.get("data-zone")): float(b.get("height")) for b in bars}
    assert h[("2026-01", "1")] / h[("2026-01", "2")] == pytest.approx(2.0, abs=0.001)
    assert h[("2026-01", "1")] / h[("2026-02", "1")] == pytest.approx(1.5, abs=0.001)
    assert "night" in [t.text for t in root.iter(f"{SVG}text")]


def test_chart_ticks_are_round_numbers():
    from okno.billing.chart import nice_step

    assert nice_step(200) == 50
    assert nice_step(8950) == 2500
    assert nice_step(3) == 1


def test_customer_card_links_to_the_billing_card(client, org, customers):
    url = reverse("customers:detail", args=[customers.ivanov.pk])
    card = reverse("billing:account", args=[customers.acc_ivanov.number])
    client.force_login(org.operator_a)
    assert f'href="{card}"' in client.get(url).content.decode()
    client.force_login(org.security)  # sees the customer, not billing
    html = client.get(url).content.decode()
    assert customers.acc_ivanov.number in html and f'href="{card}"' not in html
