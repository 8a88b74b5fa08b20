"""In headless Chromium: the register screen shows the assistant's suggestion while the operator types,
pre-fills type, topic, account and address without a reload, and the card tells it was kept.

Runs under CI=true or OKNO_BROWSER_TESTS=1 (needs /usr/bin/chromium and pytest-playwright)."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import BROWSER_ONLY

pytestmark = BROWSER_ONLY


@pytest.mark.django_db(transaction=True)
def test_typing_the_text_prefills_the_form(live_server, okno_static, page, org, customers):
    from okno.appeals.models import Appeal

    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "cc_operator")
    page.fill("input[name=password]", "okno-test-pass")
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/queue/$"))

    page.goto(f"{base}/appeals/new/")
    page.fill("#id_contact_phone", "+7 912 345-67-89")
    page.fill(
        "#id_text",
        f"Здравствуйте, лицевой счёт {customers.acc_ivanov.number}, на улице Ленина дом 10 третий день нет света",
    )
    page.wait_for_selector("#suggestion-panel[data-topic=outage]", timeout=20_000)

    assert page.input_value("#id_kind") == "report"
    assert page.input_value("#id_topic") == "outage"
    assert page.input_value("#id_address_text") == customers.acc_ivanov.service_point.address.short()
    assert "свет" in page.inner_text("#suggestion")
    assert page.is_checked(f"input[name=pick][value='account:{customers.acc_ivanov.pk}']")
    assert Appeal.objects.count() == 0

    page.click("#register-form button[type=submit]:not([name=action]):not(.visually-hidden)")
    page.wait_for_url(re.compile(r".*/appeals/\d+/$"))
    appeal = Appeal.objects.get()
    assert (appeal.kind, appeal.topic, appeal.account) == ("report", "outage", customers.acc_ivanov)
    assert appeal.suggestion_followed is True
    assert page.locator("#assistant-suggestion").is_visible()
