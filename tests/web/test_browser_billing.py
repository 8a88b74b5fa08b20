"""End to end in headless Chromium: a branch head bills a month and opens the account's card.

Runs under CI=true or OKNO_BROWSER_TESTS=1 (needs /usr/bin/chromium and pytest-playwright).
"""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.utils import translation

from tests.web.conftest import BROWSER_ONLY, SCREENSHOTS

pytestmark = BROWSER_ONLY


@pytest.mark.django_db(transaction=True)
def test_branch_head_bills_a_month_and_sees_it_on_the_card(live_server, okno_static, page, org, customers):
    from okno.billing.models import (
        BillingProfile,
        BillingRun,
        ConsumerCategory,
        ConsumptionNorm,
        LedgerEntry,
        Meter,
        Reading,
        Tariff,
        TariffRate,
    )

    acc = customers.acc_ivanov
    acc.opened_on = dt.date(2025, 1, 1)
    acc.save()
    urban = ConsumerCategory.objects.get(code="urban")
    tariff = Tariff.objects.create(
        region="Тестовая область", category=urban, zones=1, valid_from=dt.date(2024, 1, 1)
    )
    TariffRate.objects.create(tariff=tariff, zone=1, tier=1, price_e4=64_300)
    ConsumptionNorm.objects.create(
        region="Тестовая область", category=urban, valid_from=dt.date(2020, 1, 1), wh_per_resident=100_000
    )
    BillingProfile.objects.create(account=acc, category=urban, residents=2)
    meter = Meter.objects.create(
        account=acc, model="Меркурий 201", serial="777", zones=1, installed_on=dt.date(2025, 1, 15)
    )
    for period, wh, kind in (
        (dt.date(2025, 1, 1), 1_000_000, "initial"),
        (dt.date(2025, 2, 1), 1_150_000, "regular"),
    ):
        Reading.objects.create(
            meter=meter, account=acc, period=period, taken_on=period.replace(day=20), t1_wh=wh, kind=kind,
            channel="office",
        )  # fmt: skip

    base = live_server.url
    page.set_viewport_size({"width": 1360, "height": 1000})
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "branch_head_a")
    page.fill("input[name=password]", "okno-test-pass")
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/queue/$"))

    page.goto(f"{base}/billing/")
    page.fill("#id_period", "2025-02")
    page.select_option("#id_branch", str(org.a.pk))
    page.click("#start-run-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/billing/runs/\d+/$"))
    with translation.override("ru"):
        done = str(BillingRun.Status.DONE.label)
    page.locator("#run-status", has_text=done).wait_for(timeout=15_000)
    assert page.locator("#run-accounts").inner_text().strip() == "1"
    assert (
        LedgerEntry.objects.get(account=acc, period=dt.date(2025, 2, 1), kind="charge").amount_kop == 96_450
    )

    page.goto(f"{base}/billing/accounts/?q={acc.number}")
    page.wait_for_url(re.compile(rf".*/billing/accounts/{acc.number}/.*"))
    text = page.content().replace("\xa0", " ")
    # 150 kWh × 6.43 ₽ = 964.50 ₽, shown with a Russian decimal comma.
    assert "964,50" in text
    page.screenshot(path=os.path.join(str(SCREENSHOTS), "billing-card.png"), full_page=True)
