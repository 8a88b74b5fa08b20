"""End to end in headless Chromium, as a customer on the public site and in the personal cabinet:
find an office on the map, report no power at an address, sign up, log in, hand in a reading, see the
charge after a billing run, pay through the simulated provider, file an appeal and see its status change
after an operator answers.

Runs under CI=true or OKNO_BROWSER_TESTS=1 (needs /usr/bin/chromium and pytest-playwright).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from tests.outages.conftest import grid  # noqa: F401  (the fixture)
from tests.web.conftest import BROWSER_ONLY, SCREENSHOTS

pytestmark = BROWSER_ONLY
PASSWORD = "Svet-2026-okno"


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"portal-{name}.png"), full_page=True)


def _code_from_mail(to: str) -> str:
    for message in reversed(mail.outbox):
        if to in message.to:
            found = re.search(r"\b(\d{6})\b", message.body)
            if found:
                return found.group(1)
    raise AssertionError(f"no code was sent to {to}: {[m.to for m in mail.outbox]}")


@pytest.mark.django_db(transaction=True)
def test_customer_walks_the_site_and_the_cabinet(
    live_server,
    okno_static,
    page,
    org,
    customers,
    metered,
    grid,  # noqa: F811
    settings,
):
    from okno.appeals import actions as appeal_actions
    from okno.appeals.models import Appeal
    from okno.billing import runs
    from okno.billing.models import LedgerEntry, Payment, Reading
    from okno.org.models import Office, ServiceCentre
    from okno.outages import actions as outage_actions

    settings.OKNO_PUBLIC_URL = live_server.url
    base = live_server.url
    account = customers.acc_ivanov
    page.set_viewport_size({"width": 1280, "height": 1000})

    # An office with coordinates, and an outage on Ф-2 (Берёзовка, ул. Мира).
    centre = ServiceCentre.objects.create(branch=org.a, name="ЦОК Северск", category=2)
    office = Office.objects.create(
        service_centre=centre,
        name="Офис обслуживания в Северске",
        address="Северск, ул. Ленина, 1",
        phone="+7 (3823) 00-00-00",
        hours="Пн–Пт 8:00–17:00",
        services="Приём показаний\nОплата",
        latitude=Decimal("56.600000"),
        longitude=Decimal("84.880000"),
    )
    etr = timezone.now() + dt.timedelta(hours=4)
    outage = outage_actions.register_unplanned(
        node=grid.f2, actor=org.dispatcher_a, cause="weather", etr=etr, reason="Обрыв провода"
    )

    # 1. The public site: home, then the office on the map.
    page.goto(f"{base}/")
    assert page.locator("html").get_attribute("lang") == "ru"
    _shot(page, "home")
    page.goto(f"{base}/territory/")
    marker = page.locator(f"a[href='#office-{office.pk}']").first
    marker.focus()
    page.keyboard.press("Enter")
    card = page.locator(f"#office-{office.pk}")
    assert "Северск, ул. Ленина, 1" in card.inner_text()
    assert "Пн–Пт 8:00–17:00" in card.inner_text()
    _shot(page, "territory")

    # 2. Report no power at an address under the outage: the page knows the outage, the report attaches.
    page.goto(f"{base}/reception/no-power/")
    page.fill("#id_address", "Берёзовка, ул. Мира, 5")
    page.click("button[name=action][value=check]")
    assert outage.number in page.locator("#check-title").locator("..").inner_text()
    page.fill("#id_contact_name", "Сидоров Иван")
    page.fill("#id_contact_email", "sidorov@example.ru")
    page.check("#id_consent")
    page.click("button[name=action][value=report]")
    page.wait_for_url(re.compile(r".*/reception/done/.+"))
    report = Appeal.objects.get(topic="outage", channel="web")
    assert report.number in page.content()
    _shot(page, "no-power-done")
    report.refresh_from_db()
    assert report.incident_id == outage.incident_id  # the outage loop attached it

    # 3. Sign up with the account number and the meter serial (no invoice yet), with a code by e-mail.
    page.goto(f"{base}/cabinet/signup/")
    page.fill("#id_account_number", account.number)
    page.fill("#id_check_value", metered.meter.serial)
    page.fill("#id_login", "petr.ivanov@example.ru")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.check("#id_consent")
    page.click("form[action='/cabinet/signup/'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/cabinet/signup/verify/.*"))
    page.fill("#id_code", _code_from_mail("petr.ivanov@example.ru"))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    _shot(page, "signed-up")

    # 4. Log out and log in again with the password.
    page.goto(f"{base}/cabinet/")
    page.locator("nav.cabinet-nav form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/cabinet/login/.*"))
    page.fill("#id_login", "petr.ivanov@example.ru")
    page.fill("#id_password", PASSWORD)
    page.click("form[action='/cabinet/login/'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/cabinet/(accounts/\d+/)?$"))
    assert account.number in page.content()

    # 5. Hand in a reading: 1150.0 kWh after the initial 1000.0.
    page.goto(f"{base}/cabinet/accounts/{account.pk}/reading/")
    page.locator("form.reading-form input[type=text]").first.fill("1150")
    page.click("form.reading-form button[type=submit]")
    page.locator("#reading-result").wait_for()
    reading = Reading.objects.filter(account=account, channel="cabinet").get()
    assert reading.t1_wh == 1_150_000
    _shot(page, "reading")

    # 6. The branch bills the month; the cabinet shows the charge on the month's invoice.
    runs.start_run(period=reading.period, actor=org.branch_head_a)
    charge = LedgerEntry.objects.get(account=account, period=reading.period, kind="charge")
    assert charge.amount_kop > 0
    page.goto(f"{base}/cabinet/accounts/{account.pk}/")
    roubles = f"{charge.amount_kop // 100:,}".replace(",", "\xa0") + f",{charge.amount_kop % 100:02d}"
    assert roubles in page.content() or roubles.replace("\xa0", " ") in page.content().replace("\xa0", " ")
    _shot(page, "account")

    # 7. Pay the debt through the simulated provider: the real signed callback registers the payment.
    page.goto(f"{base}/cabinet/accounts/{account.pk}/pay/")
    page.fill("#id_amount", f"{charge.amount_kop // 100}.{charge.amount_kop % 100:02d}")
    page.click("form.pay-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/cabinet/pay/sim/.+"))
    _shot(page, "pay-sim")
    page.click("button[name=action][value=pay]")
    page.wait_for_url(re.compile(r".*/cabinet/pay/.+/return/$"))
    page.locator("#pay-status").wait_for()
    payment = Payment.objects.get(account=account, source="acquiring")
    assert payment.amount_kop == charge.amount_kop
    _shot(page, "paid")

    # 8. File an appeal, then an operator answers it by phone; the cabinet shows the new status.
    page.goto(f"{base}/cabinet/appeals/new/")
    page.select_option("#id_kind", "info_request")
    page.select_option("#id_topic", "billing")
    page.fill("#id_text", "Почему начисление за ноябрь выше, чем за октябрь?")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()
    appeal = Appeal.objects.get(channel="cabinet")
    assert appeal.number in page.content()
    appeal_actions.answer_appeal(
        appeal,
        actor=org.operator_a,
        text="Начисление выросло из-за показаний за два месяца.",
        channel="phone",
    )
    page.goto(f"{base}/cabinet/appeals/{appeal.pk}/")
    assert "Начисление выросло из-за показаний за два месяца." in page.content()
    _shot(page, "appeal-answered")
