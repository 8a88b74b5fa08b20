"""End to end in headless Chromium: an operator registers a phone appeal in one screen, a specialist answers and closes it.

Runs under CI=true or OKNO_BROWSER_TESTS=1 (needs /usr/bin/chromium and pytest-playwright).
"""

from __future__ import annotations

import os
import re

import pytest
from django.utils import timezone, translation

from okno.appeals.choices import Status
from tests.web.conftest import BROWSER_ONLY, SCREENSHOTS

pytestmark = BROWSER_ONLY

SCREENSHOTS = str(SCREENSHOTS)


def _label(status: str) -> str:
    with translation.override("ru"):
        return str(Status(status).label)


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "okno-test-pass")
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/queue/$"))


def _log_out(page) -> None:
    page.click("form[action='/logout/'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/login/"))


@pytest.mark.django_db(transaction=True)
def test_operator_registers_a_phone_appeal_and_a_specialist_answers_and_closes_it(
    live_server, okno_static, page, org, customers
):
    from okno.appeals.models import Appeal

    base = live_server.url
    page.set_viewport_size({"width": 1360, "height": 1000})
    _log_in(page, base, "cc_operator")

    # One screen: search, pick the account, say what happened, register.
    page.goto(f"{base}/appeals/new/")
    page.fill("#id_search_q", "Иванов")
    page.press("#id_search_q", "Enter")
    account_radio = page.locator(f"input[name=pick][value='account:{customers.acc_ivanov.pk}']")
    account_radio.wait_for()
    page.fill("#id_text", "Нет света в квартире с 8 утра, у соседей тоже.")  # typed after the search: kept
    account_radio.check()
    page.screenshot(path=os.path.join(SCREENSHOTS, "okno-register.png"), full_page=True)
    page.select_option("#id_channel", "phone")
    page.select_option("#id_kind", "report")
    page.select_option("#id_topic", "outage")
    page.press("#id_contact_name", "Enter")  # Enter in a field registers (the form's default button)
    page.wait_for_url(re.compile(r".*/appeals/\d+/$"))

    appeal = Appeal.objects.get()
    deadline = timezone.localtime(appeal.deadline_at, org.a.tz).strftime("%d.%m.%Y %H:%M")
    assert appeal.number in page.text_content("h1")
    assert deadline in page.text_content(".messages")
    assert page.text_content("#appeal-deadline").strip() == deadline
    assert page.text_content("#appeal-status").strip() == _label(Status.ASSIGNED)
    page.screenshot(path=os.path.join(SCREENSHOTS, "okno-card.png"), full_page=True)
    _log_out(page)

    # The specialist it was routed to finds it in their queue, answers by phone and closes it.
    _log_in(page, base, appeal.assignee.username)
    assert page.locator(f"a:has-text('{appeal.number}')").count() == 1
    page.screenshot(path=os.path.join(SCREENSHOTS, "okno-queue.png"), full_page=True)
    page.click(f"a:has-text('{appeal.number}')")
    page.click(f"form[action='/appeals/{appeal.pk}/do/start/'] button")
    assert page.text_content("#appeal-status").strip() == _label(Status.IN_PROGRESS)
    page.click("#act-answer > summary")
    page.fill("#act-answer textarea[name=text]", "Свет восстановлен в 12:40, причина — повреждение кабеля.")
    page.select_option("#act-answer select[name=channel]", "phone")
    page.click("#act-answer form[method=post] button[type=submit]")
    assert page.text_content("#appeal-status").strip() == _label(Status.ANSWERED)
    page.click(f"form[action='/appeals/{appeal.pk}/do/close/'] button")
    assert page.text_content("#appeal-status").strip() == _label(Status.CLOSED)
    page.screenshot(path=os.path.join(SCREENSHOTS, "okno-card-closed.png"), full_page=True)
    appeal.refresh_from_db()
    assert appeal.status == Status.CLOSED and appeal.on_time is True
