"""End to end in headless Chromium, the contact centre's "done when": a customer calls the simulated line,
hears the restoration time for their address, asks for an operator, an agent on the desktop gets the call
with the customer's card, registers an appeal and wraps up; the wallboard shows the call.

Runs under CI=true or OKNO_BROWSER_TESTS=1 (needs /usr/bin/chromium and pytest-playwright).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests.outages.conftest import grid  # noqa: F401  (the fixture)
from tests.web.conftest import (
    BROWSER_ONLY,  # noqa: F401  (Debian's Chromium)
    SCREENSHOTS,
)

pytestmark = BROWSER_ONLY
IVANOV_PHONE = "+79123456789"


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "okno-test-pass")
    page.click("form[action='/login/'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/queue/$"))


@pytest.mark.django_db(transaction=True)
def test_caller_hears_the_etr_queues_and_an_agent_registers_an_appeal(
    live_server,
    okno_static,  # noqa: F811
    browser,
    org,
    customers,
    grid,  # noqa: F811
):
    from okno.appeals.models import Appeal
    from okno.contact_center.flows import ensure_defaults
    from okno.contact_center.models import Agent, Call, Queue, Skill
    from okno.outages import actions as outage_actions

    base = live_server.url
    ensure_defaults()
    agent = Agent.objects.create(user=org.cc_operator, extension="101")
    for queue in Queue.objects.all():
        Skill.objects.create(agent=agent, queue=queue, penalty=0)
    etr = (timezone.now() + dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    outage_actions.register_unplanned(node=grid.f1, actor=org.dispatcher_a, cause="weather", etr=etr)
    etr_local = timezone.localtime(etr, org.a.tz).strftime("%H:%M")

    desk = browser.new_page(locale="ru-RU", viewport={"width": 1360, "height": 1000})
    line = browser.new_page(locale="ru-RU", viewport={"width": 900, "height": 1000})

    # The agent logs in to the desktop and becomes available.
    _login(desk, base, "cc_operator")
    desk.goto(f"{base}/cc/desktop/")
    desk.click("form.cc-state-buttons button[value=available]")
    desk.wait_for_load_state()
    agent.refresh_from_db()
    assert agent.state == "available"

    # Иванов calls from his phone: the IVR knows him by the number and reads the ETR for his address.
    _login(line, base, "operator_a")
    line.goto(f"{base}/cc/line/")
    line.fill("#id_number", IVANOV_PHONE)
    line.click("form.cc-line-start button[type=submit]")
    line.wait_for_url(re.compile(r".*/cc/line/[0-9a-f-]+/$"))
    line.click("button.cc-key[data-key='1']")
    line.wait_for_load_state()
    heard = line.locator(".cc-line-log").inner_text()
    assert etr_local in heard, heard
    line.screenshot(path=str(SCREENSHOTS / "cc-line-etr.png"), full_page=True)

    # 0 for an operator: the call goes to the free agent.
    line.click("button.cc-key[data-key='0']")
    line.wait_for_load_state()
    call = Call.objects.get(caller=IVANOV_PHONE)
    assert call.agent_id == agent.pk and call.answered_at is not None

    # The desktop shows the customer's card with the outage at his address.
    desk.goto(f"{base}/cc/desktop/")
    card = desk.locator("#cc-power-title").locator("..").inner_text()
    assert etr_local in card, card
    assert "Иванов" in desk.content()
    desk.screenshot(path=str(SCREENSHOTS / "cc-desktop-card.png"), full_page=True)

    # The supervisor's wallboard shows the call while it is on.
    board = browser.new_page(locale="ru-RU")
    _login(board, base, "head_a")
    board.goto(f"{base}/cc/wallboard.json")
    live = board.evaluate("() => JSON.parse(document.body.innerText)")
    assert [c["caller"] for c in live["calls"]] == [IVANOV_PHONE], live
    board.goto(f"{base}/cc/wallboard/")
    assert IVANOV_PHONE in board.content()
    board.screenshot(path=str(SCREENSHOTS / "cc-wallboard.png"), full_page=True)

    # One-screen registration, then wrap-up.
    desk.check(f"input[name=pick][value='account:{customers.acc_ivanov.pk}']")
    desk.select_option("#register-form select[name=kind]", "report")
    desk.select_option("#register-form select[name=topic]", "outage")
    desk.fill("#register-form textarea[name=text]", "Нет света в квартире, сообщили время восстановления.")
    desk.click("#register-form button[type=submit]")
    desk.wait_for_load_state()
    appeal = Appeal.objects.get(channel="contact_center")
    assert appeal.account_id == customers.acc_ivanov.pk
    desk.select_option("#wrapup-form select[name=code]", "appeal")
    desk.click("#wrapup-form button[type=submit]")
    desk.wait_for_load_state()
    call.refresh_from_db()
    assert call.appeal_id == appeal.pk and call.wrapup_code.code == "appeal"

    # Afterwards the wallboard counts it as answered in its queue.
    board.goto(f"{base}/cc/wallboard.json")
    data = board.evaluate("() => JSON.parse(document.body.innerText)")
    rows = {row["queue"]: row for row in data["queues"]}
    assert rows[call.queue.code]["answered"] == 1, data
    assert data["calls"] == [], data
