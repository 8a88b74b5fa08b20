"""Handing in a reading from the cabinet: accepted, held for review, refused with billing's reason and
the typed values kept; the draft kept across an expired session."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.portal.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def url(history):
    return reverse("cabinet:reading", args=[history.account.pk])


def test_form_shows_one_field_per_zone_with_the_previous_reading(cabinet, url):
    html = cabinet.get(url).content.decode()
    assert '<label for="id_t1">all day, kWh</label>' in html
    assert 'name="t2"' not in html
    assert "Previous reading: 1250.0 kWh" in html


def test_accepted_reading_is_recorded_for_the_cabinet_channel(cabinet, history, url):
    from okno.billing.models import Reading

    response = cabinet.post(url, {"t1": "1300,5"})
    assert response.status_code == 302
    reading = Reading.objects.get(account=history.account, taken_on=history.today)
    assert (reading.t1_wh, reading.channel, reading.status) == (1_300_500, "cabinet", "accepted")
    assert reading.submitted_by.username == "system:cabinet"
    assert response["Location"] == f"{url}?done={reading.pk}"
    html = cabinet.get(response["Location"]).content.decode()
    assert "Reading accepted" in html
    assert "1300.5 kWh" in html


def test_implausible_jump_is_held_for_review(cabinet, history, url):
    from okno.billing.models import Reading

    response = cabinet.post(url, {"t1": "9000"})
    assert response.status_code == 302
    reading = Reading.objects.get(account=history.account, taken_on=history.today)
    assert reading.status == Reading.Status.HELD
    assert "held for review" in cabinet.get(response["Location"]).content.decode()


def test_refused_reading_answers_400_with_the_reason_and_keeps_the_value(cabinet, history, url):
    response = cabinet.post(url, {"t1": "1200"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "T1: 1200 kWh is lower than the previous reading 1250 kWh." in html
    assert 'value="1200"' in html
    assert 'aria-invalid="true"' in html
    assert 'id="reading-error"' in html and "reading-error" in html.split('name="t1"')[1].split(">")[0]
    assert not history.account.readings.filter(taken_on=history.today).exists()


def test_bad_and_empty_values(cabinet, url):
    response = cabinet.post(url, {"t1": "abc"})
    assert response.status_code == 400
    assert "“abc” is not a meter reading." in response.content.decode()
    response = cabinet.post(url, {"t1": "1300.55"})
    assert response.status_code == 400
    assert "1 digit(s) after the decimal point" in response.content.decode()
    response = cabinet.post(url, {"t1": "  "})
    assert response.status_code == 400
    assert "Enter the reading of this zone." in response.content.decode()


def test_hostile_value_is_shown_escaped(cabinet, url):
    response = cabinet.post(url, {"t1": "<script>alert(1)</script>"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_expired_session_keeps_the_draft(client, ivanov_user, history, url):
    from tests.portal.conftest import sign_in_long_ago

    sign_in_long_ago(client, ivanov_user)
    response = client.post(url, {"t1": "1333.3"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("cabinet:login"))
    sign_in(client, ivanov_user)
    html = client.get(url).content.decode()
    assert 'value="1333.3"' in html
    # Shown once.
    assert 'value="1333.3"' not in client.get(url).content.decode()


def test_account_without_a_meter(cabinet, customers):
    from okno.customers.models import CabinetLink, CabinetUser

    user = CabinetUser.objects.get(email="ivanov@example.ru")
    assert CabinetLink.objects.filter(user=user).count() == 1
    url = reverse("cabinet:reading", args=[customers.acc_ivanov.pk])
    assert "no meter in service" in cabinet.get(url).content.decode()
    response = cabinet.post(url, {"t1": "10"})
    assert response.status_code == 400
