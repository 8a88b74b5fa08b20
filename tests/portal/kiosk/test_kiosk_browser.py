"""The terminal in headless Chromium: the on-screen keypad, big touch targets, a reading, the Print
button, and the countdown that ends the session after inactivity.

Runs under CI=true or OKNO_BROWSER_TESTS=1 (needs /usr/bin/chromium and pytest-playwright).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from okno.billing import invoices
from okno.billing.models import Reading
from tests.web.conftest import BROWSER_ONLY, SCREENSHOTS

pytestmark = BROWSER_ONLY
SCREENSHOTS = str(SCREENSHOTS)


def _tap_digits(page, text):
    for ch in text:
        page.click(f"[data-keypad-panel] button[data-key='{ch}']")


@pytest.mark.django_db(transaction=True)
def test_kiosk_keypad_reading_and_idle_sign_out(live_server, okno_static, page, metered, settings):
    settings.OKNO_KIOSK_IDLE_SECONDS = 8
    base = live_server.url
    page.goto(f"{base}/kiosk/")
    assert page.locator("html").get_attribute("lang") == "ru"
    # Every control is a touch target of at least 48 × 48 px.
    for control in page.locator("button:visible, input:visible, a:visible").all():
        box = control.bounding_box()
        assert box is not None and box["height"] >= 48 and box["width"] >= 48, control.evaluate(
            "e => e.outerHTML"
        )

    page.click("#id_number")
    _tap_digits(page, metered.account.number)
    assert page.input_value("#id_number") == metered.account.number
    page.click("#id_check_value")
    page.keyboard.type("41234567")  # the physical keyboard works as well
    page.screenshot(path=f"{SCREENSHOTS}/kiosk-start.png")
    page.click("form.kiosk-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/kiosk/home/$"))
    page.screenshot(path=f"{SCREENSHOTS}/kiosk-home.png")

    page.click("a[href='/kiosk/reading/']")
    page.click("#id_t1")
    _tap_digits(page, "1100,5")
    page.click("form.kiosk-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/kiosk/home/$"))
    assert Reading.objects.get(channel=Reading.Channel.TERMINAL).t1_wh == 1_100_500

    # The invoice page: the Print button appears with JavaScript.
    invoices.build_invoice(metered.account, dt.date(2025, 2, 1))
    page.goto(f"{base}/kiosk/invoice/")
    assert page.locator("button[data-print]").is_visible()
    page.screenshot(path=f"{SCREENSHOTS}/kiosk-invoice.png")
    page.goto(f"{base}/kiosk/home/")
    # The keep-alive the script sends on activity passes the CSRF check.
    status = page.evaluate(
        """() => fetch("/kiosk/ping/", {method: "POST", headers: {"X-CSRFToken":
            document.querySelector("input[name=csrfmiddlewaretoken]").value}}).then(r => r.status)"""
    )
    assert status == 204

    # Left alone, the page warns and then ends the session.
    countdown = page.wait_for_selector("[data-countdown]:not([hidden])", timeout=10_000)
    assert re.search(r"\d+", countdown.inner_text())  # the seconds left
    page.screenshot(path=f"{SCREENSHOTS}/kiosk-countdown.png")
    page.wait_for_url(re.compile(r".*/kiosk/end/\?reason=idle$"), timeout=10_000)
    page.goto(f"{base}/kiosk/home/")
    page.wait_for_url(re.compile(r".*/kiosk/(\?reason=idle)?$"))
