"""Open311 GeoReport v2 at /open311/v2/: services, POST a request with api_key, read it back."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from okno.appeals import actions
from okno.appeals.choices import Topic
from okno.appeals.models import Appeal

BASE = "/open311/v2"


@pytest.fixture
def key(org):
    return Token.objects.create(user=org.operator_a).key


@pytest.fixture
def client():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def post_form(client, **data):
    return client.post(f"{BASE}/requests.json", data)


def test_services_are_the_topics(client, db):
    services = client.get(f"{BASE}/services.json").json()

    assert [s["service_code"] for s in services] == list(Topic.values)
    outage = services[0]
    assert (outage["service_name"], outage["metadata"], outage["type"]) == ("Power outage", False, "realtime")


def test_round_trip_form_post_then_public_and_staff_reads(client, org, customers, key):
    created = post_form(
        client,
        api_key=key,
        service_code="outage",
        description="Нет света во всём подъезде.",
        first_name="Анна",
        last_name="Петрова",
        email="anna@example.ru",
        phone="+7 912 555-44-33",
        address_string="Северск, ул. Ленина, 10",
        **{"attribute[account_id]": customers.acc_ivanov.number},
    )

    assert created.status_code == 201
    [row] = created.json()
    appeal = Appeal.objects.get(number=row["service_request_id"])
    assert row["account_id"] == customers.acc_ivanov.number
    assert row["expected_datetime"] == timezone.localtime(appeal.deadline_at, org.a.tz).isoformat(
        timespec="seconds"
    )
    assert row["service_notice"].startswith(f"Appeal {appeal.number} is registered")
    assert (appeal.channel, appeal.kind, appeal.topic) == ("web", "report", "outage")
    assert (appeal.contact_name, appeal.contact_email, appeal.contact_phone) == (
        "Петрова Анна",
        "anna@example.ru",
        "+79125554433",
    )
    assert (appeal.address_text, appeal.customer, appeal.registered_by) == (
        "Северск, ул. Ленина, 10",
        customers.ivanov,
        org.operator_a,
    )

    [public] = client.get(f"{BASE}/requests/{appeal.number}.json").json()
    [staff] = client.get(f"{BASE}/requests/{appeal.number}.json?api_key={key}").json()

    assert public["status"] == "open"
    assert public["agency_responsible"] == "Северный филиал"
    assert public["requested_datetime"].endswith("+03:00")
    assert public["description"] is None and public["address"] is None
    assert staff["description"] == "Нет света во всём подъезде."
    assert staff["address"] == "Северск, ул. Ленина, 10"


def test_json_post_with_attribute_object_and_kind(client, org, key):
    body = {
        "api_key": key,
        "service_code": "metering",
        "description": "Прошу заменить счётчик.",
        "first_name": "Иван",
        "last_name": "Сергеев",
        "attribute": {"kind": "application"},
    }

    response = client.post(f"{BASE}/requests.json", body, content_type="application/json")

    assert response.status_code == 201
    assert Appeal.objects.get().kind == "application"


@pytest.mark.parametrize(
    "data,code,description",
    [
        (
            {"service_code": "outage", "description": "x", "first_name": "A"},
            403,
            "A valid api_key is required.",
        ),
        ({"api_key": "nope", "service_code": "outage"}, 403, "A valid api_key is required."),
        ({"api_key": "KEY", "description": "Нет света"}, 400, "service_code is required."),
        ({"api_key": "KEY", "service_code": "ufo", "description": "x"}, 400, "Unknown service_code: ufo."),
        (
            {
                "api_key": "KEY",
                "service_code": "outage",
                "description": "x",
                "first_name": "A",
                "attribute[account_id]": "1234567890",
            },
            400,
            "Account 1234567890 not found.",
        ),
        (
            {"api_key": "KEY", "service_code": "outage", "description": "Нет света"},
            400,
            "contact_name: Choose a customer or give the name of the person who applies.",
        ),
    ],
)
def test_post_errors_follow_the_georeport_format(client, key, data, code, description):
    data = {k: (key if v == "KEY" else v) for k, v in data.items()}

    response = post_form(client, **data)

    assert response.status_code == code
    assert response.json() == [{"code": code, "description": description}]
    assert Appeal.objects.count() == 0


def test_key_of_a_role_that_cannot_register_is_refused(client, org):
    key = Token.objects.create(user=org.quality).key

    response = post_form(client, api_key=key, service_code="outage", description="x", first_name="A")

    assert response.json() == [{"code": 403, "description": "This api_key may not submit requests."}]


def test_account_of_another_branch_is_not_found_for_the_key(client, org, customers):
    key = Token.objects.create(user=org.operator_b).key

    response = post_form(
        client,
        api_key=key,
        service_code="outage",
        description="x",
        first_name="A",
        account_id=customers.acc_ivanov.number,
    )

    assert response.json() == [
        {"code": 400, "description": f"Account {customers.acc_ivanov.number} not found."}
    ]


def test_list_filters_status_service_ids_and_default_window(client, org, register):
    open_one = register()
    answered = register(topic="metering", text="Счётчик.")
    actions.answer_appeal(answered, actor=org.specialist_a1, text="Счётчик заменён 20.11.", channel="phone")
    old = register(
        topic="billing", text="Старый вопрос.", received_at=timezone.now() - dt.timedelta(days=120)
    )

    def ids(query=""):
        return [r["service_request_id"] for r in client.get(f"{BASE}/requests.json{query}").json()]

    assert ids() == [answered.number, open_one.number]  # the last 90 days by default
    assert ids("?status=closed") == [answered.number]
    assert ids("?service_code=outage,metering&status=open") == [open_one.number]
    assert ids(f"?service_request_id={old.number},{open_one.number}") == [open_one.number, old.number]
    start = (timezone.now() - dt.timedelta(days=200)).date().isoformat()
    assert ids(f"?start_date={start}&service_code=billing") == [old.number]


def test_status_notes_give_the_answer_to_staff_and_the_cancel_reason_to_everyone(client, org, register):
    answered = register()
    actions.answer_appeal(
        answered, actor=org.specialist_a1, text="Свет восстановлен в 12:00.", channel="phone"
    )
    cancelled = register(text="Дубль.")
    actions.cancel(cancelled, actor=org.head_a, reason="withdrawn", comment="Клиент отозвал по телефону")
    key = Token.objects.create(user=org.operator_a).key

    public = {r["service_request_id"]: r for r in client.get(f"{BASE}/requests.json").json()}
    staff = {r["service_request_id"]: r for r in client.get(f"{BASE}/requests.json?api_key={key}").json()}

    assert public[answered.number]["status"] == "closed"
    assert public[answered.number]["status_notes"] is None
    assert staff[answered.number]["status_notes"] == "Свет восстановлен в 12:00."
    assert public[cancelled.number]["status_notes"] == "Withdrawn by the customer"
    assert staff[cancelled.number]["status_notes"] == "Withdrawn by the customer: Клиент отозвал по телефону"


def test_staff_of_another_branch_reads_only_public_fields(client, org, register):
    appeal = register()
    key = Token.objects.create(user=org.operator_b).key

    [row] = client.get(f"{BASE}/requests/{appeal.number}.json?api_key={key}").json()

    assert row["description"] is None


def test_read_errors(client, db):
    assert client.get(f"{BASE}/requests/2026-999999.json").json() == [
        {"code": 404, "description": "Request 2026-999999 not found."}
    ]
    bad_status = client.get(f"{BASE}/requests.json?status=maybe")
    bad_date = client.get(f"{BASE}/requests.json?start_date=yesterday")
    bad_key = client.get(f"{BASE}/requests.json?api_key=nope")
    assert bad_status.status_code == bad_date.status_code == 400
    assert bad_status.json() == [{"code": 400, "description": "status is open or closed."}]
    assert bad_key.status_code == 403
