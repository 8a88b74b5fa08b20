"""The public "Есть свет!" form: double opt-in by e-mail or SMS code, errors kept in the form, honeypot."""

from __future__ import annotations

import pytest

from okno.notify.models import Subscription

pytestmark = pytest.mark.django_db

URL = "/outages/subscribe/"


def test_subscribe_by_email_waits_for_the_link(client, grid):
    response = client.post(
        URL,
        {
            "settlement": "Северск",
            "street": "ул. Ленина",
            "house": "3",
            "email": "Me@Example.ru",
            "consent": "1",
        },
    )
    assert response.status_code == 200
    assert 'id="subscribe-done"' in response.content.decode()
    sub = Subscription.objects.get()
    assert (sub.settlement, sub.street, sub.house) == ("Северск", "ул. Ленина", "3")
    assert sub.email == "me@example.ru"
    assert sub.confirmed_at is None  # not used before the link is opened


def test_subscribe_by_phone_goes_to_the_code_page(client, grid):
    response = client.post(
        URL,
        {
            "settlement": "Берёзовка",
            "street": "ул. Мира",
            "house": "5",
            "phone": "8 912 111-22-33",
            "consent": "1",
        },
    )
    sub = Subscription.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/notify/confirm/{sub.token}/"
    assert sub.phone == "+79121112233"


def test_errors_keep_the_values_and_save_nothing(client, grid):
    response = client.post(
        URL, {"settlement": "Северск", "street": "ул. Ленина", "house": "3", "email": "a@b.ru"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Consent to receive the notices is required." in html
    assert 'value="a@b.ru"' in html
    response = client.post(
        URL,
        {"settlement": "Северск", "street": "ул. Ленина", "house": "99", "email": "a@b.ru", "consent": "1"},
    )
    assert response.status_code == 400
    assert "We do not know this building." in response.content.decode()
    response = client.post(
        URL, {"settlement": "Северск", "street": "ул. Ленина", "house": "3", "consent": "1"}
    )
    assert "Give at least one contact" in response.content.decode()
    assert not Subscription.objects.exists()


def test_the_honeypot_catches_bots_quietly(client, grid):
    response = client.post(
        URL,
        {
            "settlement": "Северск",
            "street": "ул. Ленина",
            "house": "3",
            "email": "bot@x.ru",
            "consent": "1",
            "website": "x",
        },
    )
    assert response.status_code == 200
    assert not Subscription.objects.exists()
