"""``GET /api/v1/outages/at``: public address lookups, staff-only account and phone lookups (401/403
before anything is looked up, so existence is never revealed), branch scope, access log, 400s."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.outages.test_lookup import _outage, grid  # noqa: F401  (the grid fixture)

pytestmark = pytest.mark.django_db

URL = "/api/v1/outages/at"


@pytest.fixture
def api(org):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def _client(user=None) -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        if user is not None:
            token, _created = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return _client


def test_anonymous_address_lookup_answers_with_the_outage_and_its_etr(api, grid, org):  # noqa: F811
    etr = timezone.now() + dt.timedelta(hours=2)
    _outage(org, "A-1", grid.f1, etr=etr, reason="Авария на фидере")
    response = api().get(URL, {"address": "Северск, ул. Ленина, 10"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["power_on"] is False
    [match] = body["matches"]
    assert match["text"] == "Северск, ул. Ленина, д. 10" and "account" not in match
    [outage] = body["outages"]
    assert outage["number"] == "A-1" and outage["off_now"] is True and outage["node_code"] == "F1"
    assert outage["etr"] is not None and outage["reason"] == "Авария на фидере"
    assert match["outages"] == body["outages"]


def test_address_not_found_answers_200_with_suggestions(api, grid):  # noqa: F811
    body = api().get(URL, {"address": "Северск, Ленина 11"}).json()
    assert body["status"] == "not_found" and body["power_on"] is None
    assert "Северск, ул. Ленина, д. 10" in body["suggestions"]


def test_ambiguous_address_then_choice_by_address_id(api, grid):  # noqa: F811
    body = api().get(URL, {"address": "Ленина 10"}).json()
    assert body["status"] == "ambiguous" and len(body["matches"]) == 2
    chosen = body["matches"][0]
    again = api().get(URL, {"address_id": chosen["id"]}).json()
    assert again["status"] == "ok" and again["matches"][0]["text"] == chosen["text"]


@pytest.mark.parametrize("params", [{}, {"address": "Ленина 10", "phone": "+79123456789"}, {"address": "  "}])
def test_none_or_several_parameters_answer_400_problem(api, grid, params):  # noqa: F811
    response = api().get(URL, params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"]


def test_address_id_must_be_a_number(api, grid):  # noqa: F811
    for value in ("x", "²", "١٢"):
        response = api().get(URL, {"address_id": value})
        assert response.status_code == 400 and "address_id" in response.json()["errors"]


@pytest.mark.parametrize("param", ["account", "phone"])
def test_anonymous_account_or_phone_lookup_is_401_whether_or_not_it_exists(api, grid, customers, param):  # noqa: F811
    real = customers.acc_ivanov.number if param == "account" else "+79123456789"
    fake = "0000000000" if param == "account" else "+79000000000"
    answers = [api().get(URL, {param: value}) for value in (real, fake)]
    assert [r.status_code for r in answers] == [401, 401]
    assert answers[0].json() == answers[1].json()


def test_user_without_outage_view_gets_403_for_account_but_may_ask_by_address(api, grid, org, customers):  # noqa: F811
    assert api(org.security).get(URL, {"account": customers.acc_ivanov.number}).status_code == 403
    assert api(org.security).get(URL, {"address": "Северск, Ленина 10"}).status_code == 200


def test_staff_account_lookup_shows_the_account_and_logs_the_access(api, grid, org, customers):  # noqa: F811
    from okno.core.models import AccessLog

    _outage(org, "A-2", grid.l1)
    response = api(org.operator_a).get(URL, {"account": customers.acc_ivanov.number})
    assert response.status_code == 200
    body = response.json()
    assert body["power_on"] is False
    assert body["matches"][0]["account"] == customers.acc_ivanov.number
    assert body["matches"][0]["text"] == "Северск, ул. Ленина, д. 10, кв. 5"
    log = AccessLog.objects.get(customer_id=customers.ivanov.pk)
    assert log.actor == org.operator_a and log.context == "api:outages-at:account"


def test_staff_phone_lookup_in_any_format(api, grid, org, customers):  # noqa: F811
    body = api(org.cc_operator).get(URL, {"phone": "8 (912) 345-67-89"}).json()
    assert body["status"] == "ok" and [m["account"] for m in body["matches"]] == [customers.acc_ivanov.number]


def test_another_branchs_account_is_not_found_for_branch_staff(api, grid, org, customers):  # noqa: F811
    response = api(org.operator_b).get(URL, {"account": customers.acc_ivanov.number})
    assert response.status_code == 200
    assert response.json()["status"] == "not_found" and response.json()["matches"] == []
    # Company-wide staff see it.
    assert api(org.cc_operator).get(URL, {"account": customers.acc_ivanov.number}).json()["status"] == "ok"


def test_session_user_may_ask_too(client, grid, org, customers):  # noqa: F811
    client.force_login(org.specialist_a1)
    response = client.get(URL, {"account": customers.acc_ivanov.number})
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_the_route_is_in_the_openapi_schema(api, org):
    response = api(org.admin).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "/api/v1/outages/at" in response.json()["paths"]
