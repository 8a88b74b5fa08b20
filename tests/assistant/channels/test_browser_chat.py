"""The site chat in headless Chromium: the first message by the plain form, the next ones through the
script without reloading, a choice button, and an operator's answer arriving by polling.

Runs under CI=true or OKNO_BROWSER_TESTS=1 (needs /usr/bin/chromium and pytest-playwright).
"""

from __future__ import annotations

import pytest

from tests.web.conftest import (
    BROWSER_ONLY,  # noqa: F401  (Debian's Chromium for the browser tests)
    SCREENSHOTS,
)

pytestmark = BROWSER_ONLY


@pytest.mark.django_db(transaction=True)
def test_customer_chats_and_gets_the_operators_answer_without_reloading(
    live_server,
    okno_static,  # noqa: F811
    page,
    org,
):
    from okno.assistant.dialogue import engine
    from okno.assistant.models import Conversation

    page.goto(f"{live_server.url}/chat/")
    page.locator("#chat-text").fill("привет")
    page.locator("#chat-form button[type=submit]").click()
    page.wait_for_selector(".chat-msg.chat-customer")
    conversation = Conversation.objects.get()
    page.evaluate("window.__notReloaded = true")

    # A choice button goes through the script: the page is not reloaded.
    choices = page.locator("#chat-choices .chat-choice")
    assert choices.count() >= 1
    before = page.locator(".chat-msg").count()
    choices.first.click()
    page.wait_for_function(f"document.querySelectorAll('.chat-msg').length > {before + 1}")
    assert page.evaluate("window.__notReloaded") is True

    # Typed and sent with Enter; the hand-off starts the polling.
    page.locator("#chat-text").fill("позовите оператора")
    page.locator("#chat-text").press("Enter")
    page.wait_for_function("document.querySelector('[data-chat]').dataset.status === 'waiting'")
    assert page.evaluate("window.__notReloaded") is True
    conversation.refresh_from_db()
    assert conversation.status == "waiting"

    engine.operator_reply(conversation, org.cc_operator, "<b>Здравствуйте</b>, я оператор.")
    page.wait_for_selector(".chat-msg.chat-operator", timeout=15_000)
    operator_line = page.locator(".chat-msg.chat-operator .chat-text").last.inner_text()
    assert operator_line == "<b>Здравствуйте</b>, я оператор."  # shown as text, not as markup
    assert page.evaluate("window.__notReloaded") is True
    page.screenshot(path=str(SCREENSHOTS / "chat-site.png"), full_page=True)
