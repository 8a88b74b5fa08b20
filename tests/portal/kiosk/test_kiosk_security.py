"""The terminal's identification: failures counted per account number together with the cabinet's,
counted before the check, and the terminal networks (``OKNO_KIOSK_NETWORKS``)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from okno.portal import abuse
from okno.portal.kiosk import session

pytestmark = pytest.mark.django_db
RIGHT = "41234567"  # the meter's serial: Иванов's account has no invoice


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def identify(client, number, check, ip="10.0.0.5"):
    return client.post(reverse("kiosk:start"), {"number": number, "check_value": check}, REMOTE_ADDR=ip)


def test_rotating_terminals_gives_no_more_guesses_for_one_account(client, metered):
    number = metered.account.number
    codes = [identify(client, number, str(i + 1), ip=f"10.9.{i}.1").status_code for i in range(8)]
    assert codes == [400] * abuse.PROOF_FAILURES + [429] * (8 - abuse.PROOF_FAILURES)
    blocked = identify(client, number, RIGHT, ip="10.9.99.1")
    assert blocked.status_code == 429
    assert session.SESSION_KEY not in client.session


def test_kiosk_and_cabinet_failures_count_together(client, metered):
    number = metered.account.number
    for i in range(abuse.PROOF_FAILURES):
        response = client.post(
            reverse("cabinet:signup"),
            {
                "account_number": number,
                "check_value": str(i + 1),
                "login": f"x{i}@example.ru",
                "password1": "Long-Enough-Pass-1",
                "password2": "Long-Enough-Pass-1",
                "consent": "on",
            },
            REMOTE_ADDR=f"10.8.{i}.1",
        )
        assert response.status_code == 400
    assert identify(client, number, RIGHT, ip="10.9.1.1").status_code == 429


def test_a_right_proof_is_handed_back(client, metered, settings):
    settings.OKNO_KIOSK_IDENTIFY_LIMIT = 2
    for _ in range(5):
        assert identify(client, metered.account.number, RIGHT).status_code == 302
        client.post(reverse("kiosk:end"))
    key = abuse.account_key(metered.account.number)
    assert abuse.attempts(abuse.PROOF_SCOPE, key, window_s=abuse.PROOF_WINDOW_S) == 0


def test_outside_the_terminal_networks_the_kiosk_is_404(client, metered, settings):
    settings.OKNO_KIOSK_NETWORKS = ["10.20.0.0/16"]
    assert client.get(reverse("kiosk:start"), REMOTE_ADDR="203.0.113.5").status_code == 404
    assert identify(client, metered.account.number, RIGHT, ip="203.0.113.5").status_code == 404
    assert client.get(reverse("kiosk:home"), REMOTE_ADDR="203.0.113.5").status_code == 404
    assert client.post(reverse("kiosk:ping"), REMOTE_ADDR="203.0.113.5").status_code == 404
    assert client.get(reverse("kiosk:start"), REMOTE_ADDR="10.20.3.4").status_code == 200
    assert identify(client, metered.account.number, RIGHT, ip="10.20.3.4").status_code == 302


def test_an_attempt_is_counted_before_the_check(client, metered, monkeypatch):
    from okno.portal.kiosk import views

    key = abuse.account_key(metered.account.number)
    during = []

    def spy(number, check_value):
        during.append(
            (
                abuse.attempts(views.THROTTLE_SCOPE, "10.0.0.5", window_s=views.IDENTIFY_WINDOW_S),
                abuse.attempts(abuse.PROOF_SCOPE, key, window_s=abuse.PROOF_WINDOW_S),
            )
        )
        return None

    monkeypatch.setattr(views, "account_by_proof", spy)
    assert identify(client, metered.account.number, "1").status_code == 400
    assert during == [(1, 1)]


def test_a_cabinet_proof_is_counted_before_the_check(client, metered, monkeypatch):
    from okno.portal.cabinet import auth_views

    key = abuse.account_key(metered.account.number)
    during = []

    def spy(number, check_value):
        during.append(abuse.attempts(abuse.PROOF_SCOPE, key, window_s=abuse.PROOF_WINDOW_S))
        return None

    monkeypatch.setattr(auth_views, "account_by_proof", spy)
    data = {
        "account_number": metered.account.number,
        "check_value": "1",
        "login": "x@example.ru",
        "password1": "Long-Enough-Pass-1",
        "password2": "Long-Enough-Pass-1",
        "consent": "on",
    }
    assert client.post(reverse("cabinet:signup"), data).status_code == 400
    assert during == [1]
