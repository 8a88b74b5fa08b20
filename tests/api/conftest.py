"""API clients for the personas of ``tests/conftest.py``: token auth, as integrators use it."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture
def api(org):
    """``api(user)`` → an APIClient that sends ``Authorization: Token …`` of that user; ``api()`` is anonymous."""

    def _client(user=None) -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")  # messages asserted in English, whatever the .po says
        if user is not None:
            token, _created = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return _client


def problem(response) -> dict:
    """The problem+json body of an error response (asserting its media type)."""
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    return response.json()


def appeal_body(acc, **overrides):
    body = {
        "channel": "contact_center",
        "kind": "report",
        "topic": "outage",
        "text": "Нет света в квартире с утра.",
        "account": acc.number,
    }
    body.update(overrides)
    return body


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Personas are created with passwords; the production hasher would make each test take seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
