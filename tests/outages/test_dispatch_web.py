"""The dispatcher's pages: board, registering and planning, the outage card's actions, waiting reports."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from okno.appeals.actions import register_appeal
from okno.outages import actions
from okno.outages.choices import OutageStatus
from okno.outages.models import Outage

pytestmark = pytest.mark.django_db


def local(value: dt.datetime, tz) -> str:
    return timezone.localtime(value, tz).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def dispatcher(client, org):
    client.force_login(org.dispatcher_a)
    return client


def test_board_shows_outages_and_totals(dispatcher, grid, org):
    outage = actions.register_unplanned(node=grid.f1, actor=org.dispatcher_a, reason="Гроза")
    page = dispatcher.get("/dispatch/")
    assert page.status_code == 200
    html = page.content.decode()
    assert outage.number in html
    assert '<strong id="customers-off">9</strong>' in html


def test_board_is_closed_to_roles_without_outage_view(client, org):
    client.force_login(org.security)
    assert client.get("/dispatch/").status_code == 403


def test_register_form_creates_the_outage_in_branch_time(dispatcher, grid, org):
    tz = org.a.tz
    etr = (timezone.now() + dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    response = dispatcher.post(
        "/dispatch/new/",
        {
            "node": "ТП-21",
            "cause": "vegetation",
            "etr": local(etr, tz),
            "reason": "Дерево на линии",
            "crews": "1",
        },
    )
    outage = Outage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/dispatch/{outage.pk}/"
    assert outage.etr == etr
    assert outage.cause == "vegetation"
    assert outage.crews == 1


def test_register_form_errors_keep_values_and_save_nothing(dispatcher, grid, org):
    past = local(timezone.now() - dt.timedelta(hours=1), org.a.tz)
    response = dispatcher.post("/dispatch/new/", {"node": "ТП-21", "etr": past, "reason": "Авария"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "The estimated restoration time is in the past." in html
    assert 'value="ТП-21"' in html
    response = dispatcher.post("/dispatch/new/", {"node": "НЕТ", "reason": "Авария"})
    assert "No grid node with this code in your branches." in response.content.decode()
    assert not Outage.objects.exists()


def test_operator_may_not_register(client, grid, org):
    client.force_login(org.operator_a)
    assert client.get("/dispatch/").status_code == 200
    assert client.post("/dispatch/new/", {"node": "ТП-21"}).status_code == 403


def test_plan_form_schedules_works(dispatcher, grid, org):
    tz = org.a.tz
    start = (timezone.now() + dt.timedelta(days=32)).replace(second=0, microsecond=0)
    response = dispatcher.post(
        "/dispatch/plan/",
        {
            "node": "ТП-12",
            "planned_start": local(start, tz),
            "planned_end": local(start + dt.timedelta(hours=5), tz),
            "reason": "Замена КТП",
            "works_order": "НР-1",
        },
    )
    assert response.status_code == 302
    outage = Outage.objects.get()
    assert outage.status == OutageStatus.SCHEDULED
    assert outage.planned_start == start


def test_card_actions_change_etr_and_restore_in_steps(dispatcher, grid, org):
    tz = org.a.tz
    outage = actions.register_unplanned(node=grid.tp11, extra_nodes=[grid.tp12], actor=org.dispatcher_a)
    url = f"/dispatch/{outage.pk}/"
    etr = (timezone.now() + dt.timedelta(hours=4)).replace(second=0, microsecond=0)
    assert (
        dispatcher.post(url, {"op": "etr", "etr": local(etr, tz), "version": outage.version}).status_code
        == 302
    )
    outage.refresh_from_db()
    assert outage.etr == etr
    stale = dispatcher.post(url, {"op": "etr", "etr": local(etr + dt.timedelta(hours=1), tz), "version": "1"})
    assert stale.status_code == 400
    assert "changed by someone else" in stale.content.decode()
    dispatcher.post(url, {"op": "restore", "nodes": [grid.tp12.pk]})
    outage.refresh_from_db()
    assert outage.status == OutageStatus.PARTIALLY_RESTORED
    dispatcher.post(url, {"op": "restore"})
    outage.refresh_from_db()
    assert outage.status == OutageStatus.RESTORED
    page = dispatcher.get(url).content.decode()
    assert "Restoration time history" in page


def test_waiting_reports_are_grouped_by_feeding_node(dispatcher, grid, org):
    register_appeal(
        channel="contact_center",
        kind="report",
        topic="outage",
        text="Нет света",
        actor=org.cc_operator,
        account=grid.accounts["ТП-21"][0],
    )
    html = dispatcher.get("/dispatch/waiting/").content.decode()
    assert "ТП-21" in html
    assert "Register an outage here" in html


def test_odd_numbers_in_the_form_are_field_errors_not_crashes(dispatcher, grid, org):
    for crews in ("²", "99999999999999999999", "-1"):
        response = dispatcher.post("/dispatch/new/", {"node": "ТП-21", "crews": crews, "reason": "Авария"})
        assert response.status_code == 400
        assert "Enter a whole number." in response.content.decode()
    assert not Outage.objects.exists()
