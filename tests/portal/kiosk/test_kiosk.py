"""The office terminal: identification by account number and check value, balance, readings, the
invoice, the inactivity sign-out, and that nothing but the identified account is ever reachable."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from okno.billing.models import BillingRun, Charge, Invoice, LedgerEntry, Meter, Method, Reading
from okno.billing.periods import month_end
from okno.customers.models import ContactEvent
from okno.portal.kiosk import session, urls, views

GENERIC = "The account number or check value does not match."
FEB = dt.date(2026, 2, 1)


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def invoiced(metered):
    """Иванов with a February 2026 bill: 150 kWh × 6.43 = 964.50 ₽ due 15 March, a payment of 500.00 ₽
    on 5 March, and the February invoice built from the ledger (to pay 964.50 ₽: the check value)."""
    from okno.billing import invoices

    acc, meter = metered.account, metered.meter
    run = BillingRun.objects.create(period=FEB, status=BillingRun.Status.DONE)
    Reading.objects.create(
        meter=meter,
        account=acc,
        period=FEB,
        taken_on=dt.date(2026, 2, 20),
        t1_wh=1_150_000,
        channel="cabinet",
    )
    Charge.objects.create(
        account=acc, period=FEB, run=run, meter=meter, method=Method.ACTUAL, zones=1, zone=1, tier=1,
        volume_wh=150_000, price_e4=64_300, amount_kop=96_450,
    )  # fmt: skip
    LedgerEntry.objects.create(
        account=acc, kind=LedgerEntry.Kind.CHARGE, period=FEB, entry_date=month_end(FEB),
        due_date=dt.date(2026, 3, 15), amount_kop=96_450, run=run,
    )  # fmt: skip
    from okno.billing.payments import register_payment

    register_payment(amount_kop=50_000, paid_on=dt.date(2026, 3, 5), source="acquiring", account=acc)
    invoice = invoices.build_invoice(acc, FEB)
    assert invoice.total_kop == 96_450  # the payment came after February
    return invoice


def identify(client, number, check_value, ip="10.0.0.5"):
    return client.post(reverse("kiosk:start"), {"number": number, "check_value": check_value}, REMOTE_ADDR=ip)


@pytest.fixture
def at_kiosk(client, metered):
    """A terminal where Иванов identified with his meter's serial (no invoice yet)."""
    response = identify(client, metered.account.number, "41234567")
    assert response.status_code == 302
    return client


def romashka_meter(customers):
    return Meter.objects.create(
        account=customers.acc_romashka, model="Меркурий 230", serial="77700011", integer_digits=6,
        fraction_digits=1, zones=1, installed_on=dt.date(2025, 1, 15),
    )  # fmt: skip


# --- start -------------------------------------------------------------------------------------


def test_start_page_is_the_kiosk_layout_with_numeric_labelled_inputs(client, org):
    response = client.get(reverse("kiosk:start"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="kiosk"' in html
    assert "site-header" not in html and reverse("cabinet:login") not in html  # no way out of the kiosk
    assert '<label for="id_number">' in html and '<label for="id_check_value">' in html
    assert 'inputmode="numeric"' in html
    assert 'aria-describedby="id_check_value_helptext"' in html
    assert 'name="language" value="ru" lang="ru">Русский' in html  # tests run in English: the switch back
    assert "data-keypad-panel hidden" in html  # the keypad waits for JavaScript


@pytest.mark.parametrize("which", ["unknown number", "wrong check value", "malformed number"])
def test_wrong_proof_gets_one_generic_message_and_no_session(client, metered, which):
    number, check = {
        "unknown number": ("000000000000", "41234567"),
        "wrong check value": (metered.account.number, "41234568"),
        "malformed number": ("<b>12</b>", "41234567"),
    }[which]
    response = identify(client, number, check)
    html = response.content.decode()
    assert response.status_code == 400
    assert GENERIC in html
    assert 'aria-describedby="form-errors' in html
    assert "41234567" not in html and "41234568" not in html  # the check value is not shown back
    assert "<b>12</b>" not in html  # hostile input escaped
    assert session.SESSION_KEY not in client.session
    assert not ContactEvent.objects.filter(customer=metered.account.customer).exists()


def test_wrong_proofs_are_throttled_per_terminal(client, metered, settings):
    settings.OKNO_KIOSK_IDENTIFY_LIMIT = 3
    codes = [identify(client, metered.account.number, "0").status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]
    blocked = identify(client, metered.account.number, "41234567")  # even the right proof
    assert blocked.status_code == 429
    assert "Too many unsuccessful attempts at this terminal" in blocked.content.decode()
    assert session.SESSION_KEY not in client.session
    # Another terminal is not affected.
    assert identify(client, metered.account.number, "41234567", ip="10.0.0.6").status_code == 302


def test_right_proofs_do_not_count_towards_the_limit(client, metered, settings):
    settings.OKNO_KIOSK_IDENTIFY_LIMIT = 2
    for _ in range(4):
        assert identify(client, metered.account.number, "41234567").status_code == 302
        client.post(reverse("kiosk:end"))


def test_meter_serial_identifies_an_account_without_an_invoice(client, metered):
    response = identify(client, metered.account.number.replace("", " ").strip(), "41-23-45-67")
    assert response.status_code == 302 and response["Location"] == reverse("kiosk:home")
    assert client.session[session.SESSION_KEY]["id"] == metered.account.pk
    event = ContactEvent.objects.get(customer=metered.account.customer)
    assert event.kind == "visit" and event.channel == "terminal"
    assert event.ref_type == "customers.account" and event.ref_id == metered.account.pk
    assert event.actor.username == "system:kiosk"
    assert "self-service terminal" in event.summary


def test_home_shows_the_balance_due_date_and_payments(client, invoiced):
    account = invoiced.account
    assert identify(client, account.number, "964,50 ₽").status_code == 302
    html = client.get(reverse("kiosk:home")).content.decode()
    assert 'id="balance" data-kop="46450"' in html and "464.50 ₽" in html  # 964.50 − 500.00
    assert "Overdue: 464.50 ₽" in html  # due 15 March 2026, long past
    assert "Invoice for 02.2026: 964.50 ₽, due by 15.03.2026." in html
    assert "05.03.2026" in html and "500.00" in html  # the payment
    assert "Meter No. 41234567" in html and "1150.0" in html  # the last reading, with one decimal
    assert reverse("kiosk:reading") in html and reverse("kiosk:invoice") in html


def test_the_old_check_value_fails_once_an_invoice_exists(client, invoiced):
    assert identify(client, invoiced.account.number, "41234567").status_code == 400


def test_home_without_debt_says_so(at_kiosk):
    html = at_kiosk.get(reverse("kiosk:home")).content.decode()
    assert 'data-kop="0"' in html and "No debt" in html
    assert reverse("kiosk:invoice") not in html  # no invoice yet: no button


def test_identified_start_goes_home(at_kiosk):
    response = at_kiosk.get(reverse("kiosk:start"))
    assert response.status_code == 302 and response["Location"] == reverse("kiosk:home")


# --- readings ----------------------------------------------------------------------------------


def test_reading_is_accepted_with_the_terminal_channel_and_written_to_history(at_kiosk, metered):
    page = at_kiosk.get(reverse("kiosk:reading")).content.decode()
    assert '<label for="id_t1">Reading, kWh</label>' in page
    assert 'inputmode="decimal"' in page
    response = at_kiosk.post(reverse("kiosk:reading"), {"t1": "1100,5"})
    assert response.status_code == 302 and response["Location"] == reverse("kiosk:home")
    reading = Reading.objects.get(meter=metered.meter, channel=Reading.Channel.TERMINAL)
    assert reading.status == Reading.Status.ACCEPTED and reading.t1_wh == 1_100_500
    assert reading.submitted_by.username == "system:kiosk"
    history = ContactEvent.objects.filter(customer=metered.account.customer, ref_type="billing.reading")
    assert [(e.channel, e.ref_id) for e in history] == [("terminal", reading.pk)]
    home = at_kiosk.get(reverse("kiosk:home")).content.decode()
    assert "Reading accepted for" in home


def test_refused_reading_shows_the_reason_and_keeps_the_value(at_kiosk, metered):
    response = at_kiosk.post(reverse("kiosk:reading"), {"t1": "900"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "T1: 900 kWh is lower than the previous reading 1000 kWh." in html
    assert 'value="900"' in html
    assert 'aria-describedby="id_t1_error"' in html
    assert not Reading.objects.filter(channel=Reading.Channel.TERMINAL).exists()


def test_too_many_decimals_are_refused(at_kiosk):
    response = at_kiosk.post(reverse("kiosk:reading"), {"t1": "1100.55"})
    assert response.status_code == 400
    assert 'value="1100.55"' in response.content.decode()
    assert not Reading.objects.filter(channel=Reading.Channel.TERMINAL).exists()


def test_two_zone_meter_gets_a_field_per_zone_and_a_linked_form_error(client, metered):
    meter = metered.meter
    Meter.objects.filter(pk=meter.pk).update(zones=2)
    Reading.objects.filter(meter=meter).update(t2_wh=500_000)
    assert identify(client, metered.account.number, "41234567").status_code == 302
    html = client.get(reverse("kiosk:reading")).content.decode()
    assert 'id="id_t1"' in html and 'id="id_t2"' in html
    response = client.post(reverse("kiosk:reading"), {"t1": "1100", "t2": "400"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "lower than the previous reading 500 kWh" in html
    assert html.count('aria-describedby="form-errors"') == 2
    ok = client.post(reverse("kiosk:reading"), {"t1": "1100", "t2": "550"})
    assert ok.status_code == 302
    assert Reading.objects.get(channel=Reading.Channel.TERMINAL).values_wh() == [1_100_000, 550_000]


# --- inactivity --------------------------------------------------------------------------------


def _age(client, seconds):
    s = client.session
    data = s[session.SESSION_KEY]
    data["at"] = time.time() - seconds
    s[session.SESSION_KEY] = data
    s.save()


def test_idle_session_is_signed_out_on_the_server(at_kiosk):
    _age(at_kiosk, session.IDLE_SECONDS + 1)
    response = at_kiosk.get(reverse("kiosk:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("kiosk:start") + "?reason=idle"
    assert session.SESSION_KEY not in at_kiosk.session
    start = at_kiosk.get(response["Location"]).content.decode()
    assert "The previous session ended after a period of inactivity." in start
    # Nothing posted after the timeout is taken.
    assert at_kiosk.post(reverse("kiosk:reading"), {"t1": "1100"}).status_code == 302
    assert not Reading.objects.filter(channel=Reading.Channel.TERMINAL).exists()


def test_idle_post_is_not_accepted(at_kiosk):
    _age(at_kiosk, session.IDLE_SECONDS + 5)
    response = at_kiosk.post(reverse("kiosk:reading"), {"t1": "1100"})
    assert response["Location"].endswith("?reason=idle")
    assert not Reading.objects.filter(channel=Reading.Channel.TERMINAL).exists()


def test_activity_keeps_the_session_alive(at_kiosk):
    _age(at_kiosk, session.IDLE_SECONDS - 10)
    assert at_kiosk.get(reverse("kiosk:home")).status_code == 200
    assert time.time() - at_kiosk.session[session.SESSION_KEY]["at"] < 5  # moved to now


def test_idle_limit_follows_the_setting(at_kiosk, settings):
    settings.OKNO_KIOSK_IDLE_SECONDS = 20
    _age(at_kiosk, 25)
    assert at_kiosk.get(reverse("kiosk:home")).status_code == 302
    assert session.SESSION_KEY not in at_kiosk.session


def test_pages_carry_the_inactivity_refresh_and_are_never_cached(at_kiosk, settings):
    settings.OKNO_KIOSK_IDLE_SECONDS = 45
    response = at_kiosk.get(reverse("kiosk:home"))
    html = response.content.decode()
    end = reverse("kiosk:end") + "?reason=idle"
    assert f'<meta http-equiv="refresh" content="45;url={end}">' in html
    assert 'data-idle="45"' in html
    assert "no-store" in response["Cache-Control"]


def test_ping_keeps_alive_and_reports_the_end(at_kiosk):
    _age(at_kiosk, session.IDLE_SECONDS - 10)
    assert at_kiosk.post(reverse("kiosk:ping")).status_code == 204
    _age(at_kiosk, session.IDLE_SECONDS + 1)
    assert at_kiosk.post(reverse("kiosk:ping")).status_code == 410


def test_end_signs_out_and_resets_the_language(at_kiosk, settings):
    at_kiosk.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = at_kiosk.post(reverse("kiosk:end"))
    assert response.status_code == 200
    assert "Your session has ended." in response.content.decode()
    assert session.SESSION_KEY not in at_kiosk.session
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""  # deleted: back to Russian
    assert at_kiosk.get(reverse("kiosk:home")).status_code == 302


def test_end_by_get_after_the_countdown(at_kiosk):
    response = at_kiosk.get(reverse("kiosk:end") + "?reason=idle")
    assert "The session ended after a period of inactivity." in response.content.decode()
    assert session.SESSION_KEY not in at_kiosk.session


# --- invoice -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["kiosk:home", "kiosk:reading", "kiosk:invoice", "kiosk:invoice_pdf"])
def test_pages_need_an_identified_account(client, invoiced, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"] == reverse("kiosk:start")


def test_invoice_page_and_pdf_of_the_identified_account(client, invoiced):
    account = invoiced.account
    assert identify(client, account.number, "964.50").status_code == 302
    html = client.get(reverse("kiosk:invoice")).content.decode()
    assert f"Invoice No. {invoiced.number}" in html
    assert 'id="invoice-total">964.50 ₽' in html
    assert "Total to pay by 15.03.2026" in html
    assert "data-print hidden" in html  # the Print button appears with JavaScript
    assert reverse("kiosk:invoice_pdf") in html
    pdf = client.get(reverse("kiosk:invoice_pdf"))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert f'filename="{invoiced.number}.pdf"' in pdf["Content-Disposition"]


def test_no_invoice_yet(at_kiosk):
    assert (
        "There is no invoice for your account yet." in at_kiosk.get(reverse("kiosk:invoice")).content.decode()
    )
    assert at_kiosk.get(reverse("kiosk:invoice_pdf")).status_code == 404


# --- nothing but the identified account ---------------------------------------------------------


def test_no_kiosk_route_takes_an_account_or_object_id():
    assert all(not p.pattern.converters for p in urls.urlpatterns)


def test_other_accounts_are_never_reachable(at_kiosk, customers, metered):
    other = customers.acc_romashka
    other_meter = romashka_meter(customers)
    Invoice.objects.create(
        account=other, period=FEB, number=f"{other.number}-202602", amount_kop=1, total_kop=1,
        due_date=dt.date(2026, 3, 15),
    )  # fmt: skip
    for name in ("kiosk:home", "kiosk:reading", "kiosk:invoice"):
        for query in (f"?account={other.pk}", f"?number={other.number}", f"?id={other.pk}"):
            html = at_kiosk.get(reverse(name) + query).content.decode()
            assert other.number not in html and other_meter.serial not in html
    # Posted ids are ignored: the reading goes to the identified account's meter.
    at_kiosk.post(reverse("kiosk:reading"), {"t1": "1100", "meter": other_meter.pk, "account": other.pk})
    assert not Reading.objects.filter(meter=other_meter).exists()
    assert Reading.objects.get(channel=Reading.Channel.TERMINAL).account_id == metered.account.pk
    assert (
        at_kiosk.get(reverse("kiosk:invoice_pdf")).status_code == 404
    )  # Иванов has none; Ромашка's stays out


def test_a_closed_account_is_signed_out(at_kiosk, metered):
    type(metered.account).objects.filter(pk=metered.account.pk).update(closed_on=dt.date(2026, 1, 31))
    assert at_kiosk.get(reverse("kiosk:home")).status_code == 302
    assert session.SESSION_KEY not in at_kiosk.session


def test_identification_changes_the_session_key(client, metered):
    client.get(reverse("kiosk:start"))
    before = client.session.session_key
    identify(client, metered.account.number, "41234567")
    assert client.session.session_key != before


def test_kiosk_actor_is_the_named_system_user(db):
    assert views.kiosk_actor().username == "system:kiosk"
