"""Reference data (read-only, every role) and the security officer's audit endpoints."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from okno.core.audit import log_access
from okno.core.models import AccessLog
from tests.api.conftest import problem


def test_reference_lists_every_enumeration_with_code_and_label(api, org):
    data = api(org.operator_a).get("/api/v1/reference/").json()

    assert set(data) == {
        "channels",
        "appeal_types",
        "topics",
        "answer_channels",
        "statuses",
        "cancel_reasons",
    }
    assert {"code": "outage", "label": "Power outage"} in data["topics"]
    assert [s["code"] for s in data["statuses"]] == [
        "registered",
        "assigned",
        "in_progress",
        "waiting_customer",
        "answered",
        "closed",
        "cancelled",
    ]
    assert len(data["channels"]) == 13


def test_branches_departments_and_districts_follow_the_scope(api, org):
    operator = api(org.operator_a)
    admin = api(org.admin)

    assert [b["code"] for b in operator.get("/api/v1/branches/").json()] == ["north"]
    assert sorted(b["code"] for b in admin.get("/api/v1/branches/").json()) == ["east", "north"]
    assert {d["branch"] for d in operator.get("/api/v1/departments/").json()} == {org.a.pk}
    assert [d["name"] for d in admin.get(f"/api/v1/departments/?branch={org.b.pk}").json()] == [
        "Группа обслуживания клиентов"
    ]
    assert [d["code"] for d in operator.get("/api/v1/grid-districts/").json()] == ["north-1"]
    assert operator.get(f"/api/v1/branches/{org.b.pk}/").status_code == 404


def test_answer_templates_and_deadline_policies_are_readable(api, org):
    from okno.appeals.models import AnswerTemplate

    AnswerTemplate.objects.create(
        code="api-test-new", title="Свет восстановлен", topic="outage", body="Уважаемый {customer}…"
    )
    AnswerTemplate.objects.create(code="api-test-old", title="Старый", body="…", active=False)
    client = api(org.specialist_a1)

    templates = client.get("/api/v1/answer-templates/").json()
    policies = client.get("/api/v1/deadline-policies/").json()

    codes = [t["code"] for t in templates]
    assert "api-test-new" in codes
    assert "api-test-old" not in codes
    assert len(codes) == AnswerTemplate.objects.filter(active=True).count()
    assert policies and {"unit", "amount", "legal_basis"} <= set(policies[0])
    assert client.post("/api/v1/deadline-policies/", {}, format="json").status_code == 405


def test_security_officer_sees_who_viewed_a_customer_in_a_period(api, org, customers):
    api(org.operator_a).get(f"/api/v1/customers/{customers.ivanov.pk}/")
    api(org.cc_operator).get(f"/api/v1/customers/{customers.romashka.pk}/")
    old = AccessLog.objects.create(
        actor=org.admin, actor_name="admin", customer_id=customers.ivanov.pk, context="web:customer"
    )
    AccessLog.objects.filter(pk=old.pk).update(time=timezone.now() - dt.timedelta(days=40))
    since = (timezone.now() - dt.timedelta(days=7)).isoformat()

    response = api(org.security).get(
        "/api/v1/audit/access/", {"customer": customers.ivanov.pk, "since": since}
    )

    rows = response.json()["results"]
    assert [(r["actor_name"], r["context"]) for r in rows] == [("operator_a", "api:customer")]


def test_change_log_of_one_object(api, org, register):
    appeal = register()

    rows = (
        api(org.security)
        .get("/api/v1/audit/changes/", {"object_type": "appeals.appeal", "object_id": str(appeal.pk)})
        .json()["results"]
    )

    assert rows[-1]["action"] == "create"
    assert rows[-1]["object_repr"] == appeal.number
    assert rows[0]["after"]["status"] == "assigned"  # the latest snapshot


def test_audit_is_closed_to_operators(api, org, customers):
    log_access(actor=org.admin, customer_id=customers.ivanov.pk, context_name="test")

    response = api(org.operator_a).get("/api/v1/audit/access/")

    assert response.status_code == 403
    assert problem(response)["status"] == 403
