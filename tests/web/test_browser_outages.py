"""End to end in headless Chromium: a dispatcher registers an outage on a feeder, a caller's report
attaches to it, the public page shows it, and restoration closes the report.

Runs under CI=true or OKNO_BROWSER_TESTS=1 (needs /usr/bin/chromium and pytest-playwright).
"""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.utils import timezone

from okno.appeals.actions import register_appeal
from okno.appeals.choices import Status
from okno.outages.models import Outage
from tests.outages.conftest import grid  # noqa: F401  (the fixture)
from tests.web.conftest import BROWSER_ONLY, SCREENSHOTS

pytestmark = BROWSER_ONLY
SCREENSHOTS = str(SCREENSHOTS)


@pytest.mark.django_db(transaction=True)
def test_dispatcher_outage_report_public_page_and_restoration(
    live_server,
    okno_static,
    page,
    org,
    customers,
    grid,  # noqa: F811
):
    base = live_server.url
    page.set_viewport_size({"width": 1360, "height": 1000})
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "dispatcher_a")
    page.fill("input[name=password]", "okno-test-pass")
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/queue/$"))

    page.goto(f"{base}/dispatch/new/")
    page.fill("#id_node", "Ф-1")
    page.select_option("#id_cause", "weather")
    etr = timezone.localtime(timezone.now() + dt.timedelta(hours=3), org.a.tz).replace(
        second=0, microsecond=0
    )
    page.fill("#id_etr", etr.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_reason", "Обрыв провода на Ф-1")
    page.click("#outage-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/dispatch/\d+/$"))
    outage = Outage.objects.get()
    assert page.locator("#customers").inner_text().strip() == "9"

    # A caller from the contact centre reports no power at Иванов's flat, under Ф-1.
    appeal = register_appeal(
        channel="contact_center",
        kind="report",
        topic="outage",
        text="Нет света",
        actor=org.cc_operator,
        account=customers.acc_ivanov,
    )
    page.reload()
    page.locator("#attached-reports", has_text=appeal.number).wait_for(timeout=10_000)
    page.screenshot(path=os.path.join(SCREENSHOTS, "outage-card.png"), full_page=True)

    page.goto(f"{base}/outages/")
    public = page.content()
    assert "Северск" in public
    assert "ул. Ленина" in public
    page.screenshot(path=os.path.join(SCREENSHOTS, "outage-public.png"), full_page=True)

    page.goto(f"{base}/dispatch/{outage.pk}/")
    page.click("#restore-form button[type=submit]")
    page.wait_for_url(re.compile(rf".*/dispatch/{outage.pk}/$"))
    outage.refresh_from_db()
    assert outage.status == "restored"
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED
