"""The cabinet/integration API of an account's billing: values of the hand-made history of
``test_account_card.build_history``; branch scope and permissions; the readings-chart series."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.billing.test_account_card import build_history


def _api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def history(metered):
    return build_history(metered)


def _billing(user, number, on="2025-06-01"):
    return _api(user).get(f"/api/v1/accounts/{number}/billing/", {"on": on})


def test_billing_summary_values(org, history):
    response = _billing(org.operator_a, history.account.number)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["account"]["number"] == history.account.number
    assert data["account"]["customer"] == "Иванов Пётр Сергеевич"
    assert data["as_of"] == "2025-06-01"
    assert data["profile"] == {
        "category": "urban",
        "category_name": history.account.billing.category.name,
        "residents": 2,
        "billable": True,
    }
    # 964.50 − 964.50 + 1286.00 − 500.00 = 786.00 ₽, overdue since 10.05.2025.
    assert data["balance"] == "786.00"
    assert data["overdue"] == "786.00"

    (meter,) = data["meters"]
    assert meter["serial"] == "41234567" and meter["zones"] == 1 and meter["status"] == "active"
    assert meter["verification_due"] == "2040-11-01" and meter["verification_expired"] is False
    assert meter["last_reading"] == {
        "taken_on": "2025-04-20",
        "period": "2025-04",
        "values": [{"zone": 1, "zone_name": "all day", "kwh": "1450.000", "consumption_kwh": None}],
    }
    newest = data["readings"][0]
    assert newest["taken_on"] == "2025-04-20"
    assert newest["values"][0]["consumption_kwh"] == "200.000"  # 1450.0 − 1250.0
    assert data["readings"][-1]["kind"] == "initial"

    april, march = data["charges"]
    assert april["period"] == "2025-04" and april["total"] == "1286.00" and april["volume_kwh"] == "200.000"
    assert march["lines"] == [
        {
            "meter": history.meter.pk,
            "method": "actual",
            "method_name": "By readings",
            "zone": 1,
            "zone_name": "all day",
            "tier": 1,
            "months": 1,
            "volume_kwh": "150.000",
            "price": "6.4300",
            "amount": "964.50",  # 150 kWh × 6.43 ₽
        }
    ]
    assert data["debts"][0] == {
        "period": "2025-04",
        "due_date": "2025-05-10",
        "charged": "1286.00",
        "paid": "500.00",
        "open": "786.00",
        "overdue": True,
    }
    assert [(p["paid_on"], p["amount"], p["channel"]) for p in data["payments"]] == [
        ("2025-05-20", "500.00", "cashier"),
        ("2025-04-05", "964.50", "cashier"),
    ]
    (invoice,) = data["invoices"]
    assert (
        invoice["period"] == "2025-04"
        and invoice["total"] == "1286.00"
        and invoice["due_date"] == "2025-05-10"
    )
    assert invoice["pdf_url"].endswith(f"/billing/accounts/{history.account.number}/invoices/2025-04.pdf")
    assert data["debt_case"] is None


def test_billing_of_another_branch_is_404(org, history):
    response = _billing(org.operator_b, history.account.number)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


def test_billing_needs_charge_view(org, history):
    assert _billing(org.security, history.account.number).status_code == 403


def test_billing_needs_authentication(history):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    assert client.get(f"/api/v1/accounts/{history.account.number}/billing/").status_code in (401, 403)


def test_billing_bad_date_is_400_with_field_error(org, history):
    response = _billing(org.operator_a, history.account.number, on="01.06.2025")
    assert response.status_code == 400
    assert response.json()["errors"] == {"on": ["Give the date as YYYY-MM-DD."]}


def test_billing_is_recorded_in_the_access_log(org, history):
    from okno.core.models import AccessLog

    _billing(org.cc_operator, history.account.number)
    assert AccessLog.objects.filter(actor=org.cc_operator, context="api:account-billing").count() == 1


def test_readings_chart_series(org, history):
    response = _api(org.operator_a).get(
        f"/api/v1/accounts/{history.account.number}/readings-chart/", {"on": "2025-06-01"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "account": history.account.number,
        "zones": {"1": "all day"},
        "periods": [
            {"period": "2025-02", "volumes": {"1": "100.000"}, "total_kwh": "100.000"},
            {"period": "2025-03", "volumes": {"1": "150.000"}, "total_kwh": "150.000"},
            {"period": "2025-04", "volumes": {"1": "200.000"}, "total_kwh": "200.000"},
        ],
    }


def test_readings_chart_of_a_two_zone_meter(org, customers, tariffs):
    from okno.billing.models import BillingProfile, Meter, Reading

    acc = customers.acc_romashka
    BillingProfile.objects.create(account=acc, category=tariffs.urban, residents=1)
    meter = Meter.objects.create(
        account=acc, model="Энергомера CE102", serial="0099", zones=2, installed_on=dt.date(2026, 1, 10)
    )
    rows = [
        (dt.date(2026, 1, 10), 0, 0, Reading.Kind.INITIAL),
        (dt.date(2026, 1, 25), 120_500, 60_250, Reading.Kind.REGULAR),
        (dt.date(2026, 2, 24), 300_000, 150_000, Reading.Kind.REGULAR),
    ]
    for taken, t1, t2, kind in rows:
        Reading.objects.create(
            meter=meter,
            account=acc,
            period=taken.replace(day=1),
            taken_on=taken,
            t1_wh=t1,
            t2_wh=t2,
            kind=kind,
            channel=Reading.Channel.SMS,
        )
    response = _api(org.operator_b).get(
        f"/api/v1/accounts/{acc.number}/readings-chart/", {"on": "2026-03-01"}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["zones"] == {"1": "day", "2": "night"}
    # January: 120.5 and 60.25 kWh; February: 300 − 120.5 = 179.5 and 150 − 60.25 = 89.75 kWh.
    assert data["periods"] == [
        {"period": "2026-01", "volumes": {"1": "120.500", "2": "60.250"}, "total_kwh": "180.750"},
        {"period": "2026-02", "volumes": {"1": "179.500", "2": "89.750"}, "total_kwh": "269.250"},
    ]
    assert _api(org.operator_a).get(f"/api/v1/accounts/{acc.number}/readings-chart/").status_code == 404


def test_schema_describes_the_billing_endpoints(org):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.admin)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/accounts/{number}/billing/" in schema["paths"]
    assert "/api/v1/accounts/{number}/readings-chart/" in schema["paths"]
    props = schema["components"]["schemas"]["AccountBilling"]["properties"]
    assert {"balance", "overdue", "meters", "charges", "payments", "invoices"} <= set(props)
