"""Fixtures of the web UI tests: logged-in clients per persona, and Playwright with Debian's Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# live_server runs Django in a thread while Playwright's sync API holds an event loop in the test thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Screenshots of the browser tests go to an ignored artifacts folder (or OKNO_SCREENSHOT_DIR).
SCREENSHOTS = Path(
    os.environ.get("OKNO_SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
)
SCREENSHOTS.mkdir(parents=True, exist_ok=True)

#: The marks of a browser test module (``pytestmark = BROWSER_ONLY``): run under CI=true or
#: OKNO_BROWSER_TESTS=1, where /usr/bin/chromium and pytest-playwright are installed.
BROWSER_ONLY = [
    pytest.mark.browser,
    pytest.mark.skipif(
        os.environ.get("CI") != "true" and os.environ.get("OKNO_BROWSER_TESTS") != "1",
        reason="browser tests run under CI=true or OKNO_BROWSER_TESTS=1",
    ),
]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Operators' browsers ask for Russian, the default language of the UI."""
    return {**browser_context_args, "locale": "ru-RU"}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The personas are created with passwords; PBKDF2 makes each test seconds slower for nothing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def okno_static(settings):
    """Serve okno/static/ in the live server even while settings.STATICFILES_DIRS does not list it."""
    path = settings.BASE_DIR / "okno" / "static"
    dirs = [str(d) for d in getattr(settings, "STATICFILES_DIRS", [])]
    if str(path) not in dirs:
        settings.STATICFILES_DIRS = [*dirs, str(path)]
    return path


@pytest.fixture
def login(client):
    """``login(user)`` → the test client logged in as that user."""

    def _login(user):
        client.force_login(user)
        return client

    return _login
