"""Fixtures of the registration tests: a classifier answering chosen confidences (for the threshold's
branches), the grid of tests/outages for addresses, a clean rate-limit cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from okno.assistant import nlu, suggest
from tests.web.conftest import (  # noqa: F401  (Debian's Chromium for the browser test)
    browser_context_args,
    browser_type_launch_args,
    okno_static,
)


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def classifier(monkeypatch):
    """``classifier(kind, topic, kind_confidence, topic_confidence, reasons)`` makes every text read so."""

    def _set(kind, topic, kind_confidence, topic_confidence, reasons=("слово",)):
        result = nlu.Classification(
            kind,
            topic,
            kind_confidence,
            topic_confidence,
            min(kind_confidence, topic_confidence),
            list(reasons),
        )
        monkeypatch.setattr(suggest, "_model_ready", lambda: True)
        monkeypatch.setattr(nlu, "classify", lambda text: result)
        monkeypatch.setattr(suggest, "_supply_problem_confidence", lambda text: None)
        return result

    return _set


@pytest.fixture
def login(client):
    """``login(user)`` → the test client logged in as that user."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


def register_form(**overrides):
    """The operator's register form as a browser posts it, empty but for ``overrides``."""
    data = {
        "q": "",
        "pick": "",
        "channel": "phone",
        "kind": "info_request",
        "topic": "other",
        "text": "",
        "address_text": "",
        "address_id": "",
        "prefilled_kind": "",
        "prefilled_topic": "",
        "contact_name": "",
        "contact_phone": "",
        "contact_email": "",
    }
    data.update(overrides)
    return data
