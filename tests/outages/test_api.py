"""The outages API: register, schedule, lifecycle actions, errors and access."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from okno.outages import actions
from okno.outages.models import Announcement, Outage

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_dispatcher_registers_an_unplanned_outage(grid, org):
    etr = (timezone.now() + dt.timedelta(hours=2)).replace(microsecond=0)
    response = client_for(org.dispatcher_a).post(
        "/api/v1/outages/",
        {
            "kind": "unplanned",
            "node": "Ф-1",
            "cause": "weather",
            "etr": etr.isoformat(),
            "reason": "Обрыв провода",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "active"
    assert body["customers_affected"] == 9
    assert body["node"]["code"] == "Ф-1"
    assert [dt.datetime.fromisoformat(c["etr"]) for c in body["etr_changes"]] == [etr]


def test_bad_input_answers_field_errors_and_saves_nothing(grid, org):
    client = client_for(org.dispatcher_a)
    past = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    response = client.post(
        "/api/v1/outages/", {"kind": "unplanned", "node": "Ф-1", "etr": past}, format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert "etr" in response.json()["errors"]
    response = client.post("/api/v1/outages/", {"kind": "unplanned", "node": "НЕТ-ТАКОГО"}, format="json")
    assert response.status_code == 400
    assert "node" in response.json()["errors"]
    response = client.post("/api/v1/outages/", {"kind": "planned", "node": "ТП-12"}, format="json")
    assert set(response.json()["errors"]) == {"planned_start", "planned_end"}
    assert not Outage.objects.exists()


def test_overlap_answers_409(grid, org):
    client = client_for(org.dispatcher_a)
    client.post("/api/v1/outages/", {"kind": "unplanned", "node": "Ф-1"}, format="json")
    response = client.post("/api/v1/outages/", {"kind": "unplanned", "node": "ТП-11"}, format="json")
    assert response.status_code == 409
    assert Outage.objects.count() == 1


def test_partial_then_full_restoration_and_etr(grid, org):
    client = client_for(org.dispatcher_a)
    created = client.post(
        "/api/v1/outages/",
        {"kind": "unplanned", "node": "ТП-11", "extra_nodes": ["ТП-12"]},
        format="json",
    ).json()
    url = f"/api/v1/outages/{created['id']}/"
    etr = (timezone.now() + dt.timedelta(hours=5)).isoformat()
    response = client.post(
        url + "etr/", {"etr": etr, "reason": "Нужен кран", "version": created["version"]}, format="json"
    )
    assert response.status_code == 200
    assert len(response.json()["etr_changes"]) == 1
    stale = client.post(url + "etr/", {"etr": etr, "version": created["version"]}, format="json")
    assert stale.status_code == 409
    response = client.post(url + "restore/", {"nodes": ["ТП-12"]}, format="json")
    assert response.json()["status"] == "partially_restored"
    response = client.post(url + "restore/", {}, format="json")
    assert response.json()["status"] == "restored"
    assert client.post(url + "restore/", {}, format="json").status_code == 409


def test_schedule_and_cancel_planned_works(grid, org):
    client = client_for(org.dispatcher_a)
    start = timezone.now() + dt.timedelta(days=31)
    response = client.post(
        "/api/v1/outages/",
        {
            "kind": "planned",
            "node": "ТП-21",
            "planned_start": start.isoformat(),
            "planned_end": (start + dt.timedelta(hours=4)).isoformat(),
            "reason": "Ремонт ВЛ-0,4 кВ",
            "works_order": "НР-5",
        },
        format="json",
    )
    assert response.status_code == 201
    url = f"/api/v1/outages/{response.json()['id']}/cancel/"
    assert client.post(url, {}, format="json").status_code == 400
    assert client.post(url, {"reason": "Перенос"}, format="json").json()["status"] == "cancelled"


def test_access_by_role_and_branch(grid, org):
    outage = actions.register_unplanned(node=grid.f1, actor=org.dispatcher_a)
    # An operator sees outages (to tell callers) but cannot register or change them.
    operator = client_for(org.operator_a)
    assert operator.get("/api/v1/outages/").status_code == 200
    assert (
        operator.post("/api/v1/outages/", {"kind": "unplanned", "node": "Ф-2"}, format="json").status_code
        == 403
    )
    assert operator.post(f"/api/v1/outages/{outage.pk}/restore/", {}, format="json").status_code == 403
    # Another branch does not see it at all.
    other = client_for(org.operator_b)
    assert other.get(f"/api/v1/outages/{outage.pk}/").status_code == 404
    assert other.get("/api/v1/outages/").json()["results"] == []
    # A security officer has no business here.
    assert client_for(org.security).get("/api/v1/outages/").status_code == 403
    assert APIClient().get("/api/v1/outages/").status_code in (401, 403)


def test_filters(grid, org):
    actions.register_unplanned(node=grid.tp21, actor=org.dispatcher_a)
    start = timezone.now() + dt.timedelta(days=40)
    actions.schedule_planned(
        node=grid.tp12,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1),
        reason="Ремонт",
        actor=org.dispatcher_a,
    )
    client = client_for(org.dispatcher_a)
    assert [o["kind"] for o in client.get("/api/v1/outages/?active=true").json()["results"]] == ["unplanned"]
    assert [o["status"] for o in client.get("/api/v1/outages/?kind=planned").json()["results"]] == [
        "scheduled"
    ]


def test_announcements_for_callers(grid, org):
    outage = actions.register_unplanned(node=grid.f1, actor=org.dispatcher_a)
    Announcement.objects.create(
        branch=org.a, outage=outage, settlements=["Северск"], text="Авария в Северске"
    )
    client = client_for(org.cc_operator)
    rows = client.get("/api/v1/outage-announcements/?settlement=Северск").json()
    assert [r["text"] for r in rows] == ["Авария в Северске"]
    assert client.get("/api/v1/outage-announcements/?settlement=Берёзовка").json() == []
    assert client_for(org.operator_b).get("/api/v1/outage-announcements/").json() == []
