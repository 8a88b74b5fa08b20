"""POST /api/v1/appeals/: registration through the action, field errors, scope of account and customer."""

from __future__ import annotations

import pytest

from okno.appeals.models import Appeal
from tests.api.conftest import appeal_body, problem

URL = "/api/v1/appeals/"


def test_operator_registers_appeal_by_account_number_and_gets_number_route_and_deadline(api, org, customers):
    response = api(org.operator_a).post(URL, appeal_body(customers.acc_ivanov), format="json")

    assert response.status_code == 201
    data = response.json()
    appeal = Appeal.objects.get()
    assert data["number"] == appeal.number
    assert data["number"].endswith("-000001")
    assert data["status"] == "assigned"
    assert data["branch"] == org.a.pk
    assert data["department"] == org.dept_a.pk
    assert data["assignee"] in (org.specialist_a1.pk, org.specialist_a2.pk)
    assert data["deadline_at"].endswith("+03:00")  # shown in the branch's time zone (Moscow)
    assert data["version"] == appeal.version
    assert response["Location"].endswith(f"/api/v1/appeals/{appeal.pk}/")
    assert appeal.customer == customers.ivanov
    assert appeal.registered_by == org.operator_a


def test_account_may_be_given_by_id_or_as_account_number(api, org, customers):
    client = api(org.operator_a)
    by_id = client.post(
        URL, appeal_body(customers.acc_ivanov, account=customers.acc_ivanov.pk), format="json"
    )
    body = appeal_body(customers.acc_ivanov)
    del body["account"]
    by_number = client.post(URL, {**body, "account_number": customers.acc_ivanov.number}, format="json")

    assert by_id.status_code == 201
    assert by_number.status_code == 201
    assert list(Appeal.objects.values_list("account_id", flat=True)) == [customers.acc_ivanov.pk] * 2


def test_unknown_account_number_is_a_field_error_and_nothing_is_saved(api, org, customers):
    response = api(org.operator_a).post(
        URL, appeal_body(customers.acc_ivanov, account="1234567890"), format="json"
    )

    assert response.status_code == 400
    assert problem(response)["errors"] == {"account": ["Account 1234567890 not found."]}
    assert Appeal.objects.count() == 0


def test_account_of_another_branch_reads_as_not_found(api, org, customers):
    number = customers.acc_romashka.number
    response = api(org.operator_a).post(URL, appeal_body(customers.acc_romashka), format="json")

    assert response.status_code == 400
    assert problem(response)["errors"]["account"] == [f"Account {number} not found."]


def test_unknown_or_out_of_scope_customer_is_a_field_error(api, org, customers):
    client = api(org.operator_a)
    body = {"channel": "phone", "kind": "info_request", "topic": "billing", "text": "Вопрос о счёте."}

    unknown = client.post(URL, {**body, "customer": 999999}, format="json")
    other_branch = client.post(URL, {**body, "customer": customers.romashka.pk}, format="json")

    assert problem(unknown)["errors"] == {"customer": ["Customer 999999 not found."]}
    assert problem(other_branch)["errors"] == {"customer": [f"Customer {customers.romashka.pk} not found."]}


def test_missing_and_invalid_fields_are_reported_per_field(api, org, customers):
    response = api(org.operator_a).post(
        URL, {"channel": "pigeon", "kind": "report", "text": ""}, format="json"
    )

    errors = problem(response)["errors"]
    assert response.status_code == 400
    assert set(errors) == {"channel", "topic", "text"}
    assert errors["topic"] == ["This field is required."]


def test_rules_of_the_action_come_back_as_field_errors(api, org):
    body = {
        "channel": "phone",
        "kind": "report",
        "topic": "outage",
        "text": "Нет света.",
        "contact_phone": "12",
    }
    response = api(org.cc_operator).post(URL, body, format="json")

    errors = problem(response)["errors"]
    assert errors["contact_name"] == ["Choose a customer or give the name of the person who applies."]
    assert errors["contact_phone"] == ["Phone number 12 is not valid."]
    assert Appeal.objects.count() == 0


def test_supply_complaint_needs_the_retail_market_fields(api, org, customers):
    client = api(org.operator_a)
    body = appeal_body(customers.acc_ivanov, kind="complaint")

    missing = client.post(URL, body, format="json")
    complete = client.post(
        URL,
        {
            **body,
            "violation_place": "Северск, ул. Ленина, 10",
            "violation_at": "2026-11-20T08:00:00+03:00",
            "demand": "Восстановить электроснабжение и сделать перерасчёт.",
        },
        format="json",
    )

    assert set(problem(missing)["errors"]) == {"violation_place", "violation_at", "demand"}
    assert complete.status_code == 201
    assert Appeal.objects.get().contract_number == "Д-1001"


def test_anonymous_contact_with_address_text_is_registered(api, org):
    body = {
        "channel": "phone",
        "kind": "report",
        "topic": "equipment",
        "text": "Упал столб.",
        "contact_name": "Сергеев Иван",
        "contact_phone": "+7 912 000 11 22",
        "address_text": "Северск, ул. Мира, 3",
    }
    response = api(org.operator_a).post(URL, body, format="json")

    assert response.status_code == 201
    appeal = Appeal.objects.get()
    assert (appeal.customer, appeal.contact_phone, appeal.address_text) == (
        None,
        "+79120001122",
        "Северск, ул. Мира, 3",
    )
    assert appeal.branch == org.a  # the operator's branch when nothing else places it


@pytest.mark.parametrize("persona", ["quality", "security"])
def test_roles_without_register_permission_get_403(api, org, customers, persona):
    response = api(getattr(org, persona)).post(URL, appeal_body(customers.acc_ivanov), format="json")

    assert response.status_code == 403
    assert problem(response)["status"] == 403
    assert Appeal.objects.count() == 0


def test_anonymous_request_is_refused_with_401(api, customers):
    response = api().post(URL, appeal_body(customers.acc_ivanov), format="json")

    assert response.status_code == 401
    assert problem(response)["title"]
