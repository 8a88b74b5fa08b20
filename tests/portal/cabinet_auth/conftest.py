"""Cabinet sign-up and login tests: a clean throttle cache and SMS outbox, and a POST that runs on-commit sends."""

from __future__ import annotations

import re

import pytest


@pytest.fixture(autouse=True)
def _clean_counters():
    from django.core.cache import cache

    from okno.notify.transports.registry import SimulatedTransport

    cache.clear()
    SimulatedTransport.outbox.clear()
    yield
    cache.clear()
    SimulatedTransport.outbox.clear()


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """``post(client, url, data)``: a POST whose on-commit callbacks (sending codes) run."""

    def _post(client, url, data=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data or {}, **kwargs)

    return _post


def last_code(channel: str = "email") -> str:
    """The 6-digit code of the last e-mail (django.core.mail.outbox) or simulated SMS."""
    from django.core import mail

    from okno.notify.transports.registry import SimulatedTransport

    if channel == "email":
        text = mail.outbox[-1].body
    else:
        text = SimulatedTransport.outbox[-1].wire["text"]
    match = re.search(r"\b(\d{6})\b", text)
    assert match, text
    return match.group(1)
