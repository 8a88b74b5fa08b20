"""'Report no power': the address lookup, and the outage loop attaching the report on commit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from okno.appeals.models import Appeal
from okno.outages import actions
from tests.portal.reception.conftest import data_for

URL = "reception:no_power"


@pytest.mark.django_db(transaction=True)
def test_report_at_an_address_under_an_outage_is_attached_and_shows_the_etr(client, grid, org, customers):
    etr = timezone.now() + dt.timedelta(hours=3)
    outage = actions.register_unplanned(
        node=grid.f1, actor=org.dispatcher_a, etr=etr, reason="Повреждение кабеля"
    )
    response = client.post(reverse(URL), data_for("no_power", address="Северск, ул. Ленина, 3"))
    assert response.status_code == 302, response.content.decode()[:2000]
    appeal = Appeal.objects.get()
    assert (appeal.channel, appeal.kind, appeal.topic) == ("web", "report", "outage")
    assert appeal.incident_id == outage.incident_id
    assert appeal.address is not None and (appeal.address.street, appeal.address.house) == ("ул. Ленина", "3")
    outage.refresh_from_db()
    assert outage.reports == 1
    assert any(appeal.number in m.subject for m in mail.outbox)  # the acknowledgement
    html = client.get(response["Location"]).content.decode()
    assert appeal.number in html
    assert outage.number in html
    assert timezone.localtime(etr, org.a.tz).strftime("%d.%m.%Y %H:%M") in html


@pytest.mark.django_db(transaction=True)
def test_report_with_no_known_outage_waits_for_the_dispatcher(client, grid, org, customers):
    from okno.outages import loop

    response = client.post(reverse(URL), data_for("no_power", address="Берёзовка, ул. Мира, 5"))
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.incident_id is None
    assert list(loop.waiting_reports([org.a.pk])) == [appeal]
    assert loop.place(appeal) is not None  # the address put it on the grid


@pytest.mark.django_db
def test_check_shows_the_known_outage_and_its_etr_without_registering(client, grid, org, customers):
    etr = timezone.now() + dt.timedelta(hours=2)
    outage = actions.register_unplanned(node=grid.tp11, actor=org.dispatcher_a, etr=etr)
    response = client.post(reverse(URL), {"address": "Северск, ул. Ленина, 10", "action": "check"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Outage {outage.number} is known: power is off." in html
    assert timezone.localtime(etr, org.a.tz).strftime("%d.%m.%Y %H:%M") in html
    assert 'value="Северск, ул. Ленина, 10"' in html
    assert 'id="id_contact_name_error"' not in html  # only looked, no errors shown
    assert not Appeal.objects.exists()


@pytest.mark.django_db
def test_check_at_an_address_with_power_says_no_outage_is_known(client, grid, org, customers):
    html = client.post(
        reverse(URL), {"address": "Берёзовка, ул. Мира, 6", "action": "check"}
    ).content.decode()
    assert "No outage is known at this address." in html


@pytest.mark.django_db
def test_unknown_address_can_still_be_reported(client, grid, org, customers):
    check = client.post(reverse(URL), {"address": "Северск, ул. Ленинаа, 1", "action": "check"})
    assert "This address is not in our directory." in check.content.decode()
    response = client.post(reverse(URL), data_for("no_power", address="Северск, ул. Неизвестная, 1"))
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.address is None and appeal.address_text == "Северск, ул. Неизвестная, 1"
    assert appeal.branch == org.a  # Северск is served by branch A's district


@pytest.mark.django_db
def test_no_power_report_needs_contacts(client, grid, org, customers):
    response = client.post(reverse(URL), {"address": "Северск, ул. Ленина, 10", "action": "report"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_contact_name_error"' in html
    assert not Appeal.objects.exists()


@pytest.mark.django_db
def test_an_address_matching_several_buildings_asks_which_one(client, grid, org, customers):
    from okno.customers.models import Address, ServicePoint

    other = Address.objects.create(
        region="Тестовая область",
        settlement="Берёзовка",
        street="ул. Ленина",
        house="1",
        grid_district=org.district_a,
    )
    ServicePoint.objects.create(address=other, branch=org.a, grid_district=org.district_a)
    data = data_for("no_power", address="ул. Ленина, 1")
    response = client.post(reverse(URL), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Several buildings match this address: choose yours." in html
    assert 'type="radio" name="building"' in html
    assert not Appeal.objects.exists()
    response = client.post(reverse(URL), {**data, "building": str(other.pk)})
    assert response.status_code == 302
    assert Appeal.objects.get().address == other
    # A building that is not one of the candidates is refused.
    response = client.post(
        reverse(URL), {**data, "building": str(customers.acc_romashka.service_point.address_id)}
    )
    assert response.status_code == 400
