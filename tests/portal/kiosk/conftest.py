"""Playwright with Debian's Chromium for the kiosk's browser test: a portrait touch screen."""

from __future__ import annotations

import pytest

from tests.web.conftest import browser_type_launch_args, okno_static  # noqa: F401  (the same Chromium)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A terminal: Russian, a 1080×1920 portrait touch screen."""
    return {
        **browser_context_args,
        "locale": "ru-RU",
        "viewport": {"width": 1080, "height": 1920},
        "has_touch": True,
    }
