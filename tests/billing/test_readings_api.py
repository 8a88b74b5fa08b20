"""/api/v1/readings/, /meters/, /reading-imports/: create, 400 field errors with codes, scope, permissions."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from okno.billing.models import Meter, Reading


@pytest.fixture
def api(org):
    def _client(user) -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        token, _created = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return _client


def problem(response) -> dict:
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    return response.json()


def post_reading(client, account, values, taken_on="2025-02-20", **extra):
    return client.post(
        "/api/v1/readings/",
        {"account": account.number, "values": values, "taken_on": taken_on, **extra},
        format="json",
    )


def test_operator_submits_a_reading(api, metered, org):
    response = post_reading(api(org.operator_a), metered.account, ["1100.5"], channel="phone")

    assert response.status_code == 201, response.content
    body = response.json()
    assert {
        k: body[k] for k in ("account", "meter_serial", "period", "taken_on", "values", "channel", "status")
    } == {
        "account": metered.account.number,
        "meter_serial": "41234567",
        "period": "2025-02-01",
        "taken_on": "2025-02-20",
        "values": ["1100.500"],
        "channel": "phone",
        "status": "accepted",
    }
    assert Reading.objects.get(pk=body["id"]).submitted_by == org.operator_a


@pytest.mark.parametrize(
    ("values", "taken_on", "field", "code"),
    [
        (["900"], "2025-02-20", "values", "lower_than_previous"),
        (["1100", "1"], "2025-02-20", "values", "zones_mismatch"),
        (["1100.55"], "2025-02-20", "values", "too_many_digits"),
        (["1100"], "2099-01-01", "taken_on", "future_date"),
    ],
)
def test_refusals_are_400_field_errors_with_a_code(api, metered, org, values, taken_on, field, code):
    response = post_reading(api(org.operator_a), metered.account, values, taken_on)

    assert response.status_code == 400
    body = problem(response)
    assert body["code"] == code
    assert list(body["errors"]) == [field]
    assert body["errors"][field] == [body["detail"]]


def test_bad_body_is_a_400_with_field_errors(api, metered, org):
    response = api(org.operator_a).post(
        "/api/v1/readings/", {"account": metered.account.number}, format="json"
    )
    channel = post_reading(api(org.operator_a), metered.account, ["1100"], channel="sms")

    assert response.status_code == 400
    assert problem(response)["errors"] == {"values": ["This field is required."]}
    assert problem(channel)["errors"] == {"channel": ["Unknown channel “sms”."]}


def test_security_officer_cannot_submit_or_read(api, metered, org):
    client = api(org.security)

    assert post_reading(client, metered.account, ["1100"]).status_code == 403
    assert client.get("/api/v1/readings/").status_code == 403


def test_other_branch_neither_sees_nor_submits(api, metered, org):
    post_reading(api(org.operator_a), metered.account, ["1100"])
    reading = Reading.objects.get(kind="regular")
    client = api(org.operator_b)

    listed = client.get(f"/api/v1/readings/?account={metered.account.number}")
    detail = client.get(f"/api/v1/readings/{reading.pk}/")
    submit = post_reading(client, metered.account, ["1200"], taken_on="2025-03-20")

    assert listed.status_code == 200 and listed.json()["results"] == []
    assert detail.status_code == 404
    assert submit.status_code == 400
    assert problem(submit)["code"] == "not_found"
    assert problem(submit)["errors"] == {"account": [f"Account {metered.account.number} not found."]}
    mine = api(org.operator_a).get(f"/api/v1/readings/?account={metered.account.number}").json()["results"]
    assert [(r["kind"], r["values"]) for r in mine] == [("regular", ["1100.000"]), ("initial", ["1000.000"])]


def test_correct_and_review_need_the_billing_permission(api, metered, org):
    post_reading(api(org.operator_a), metered.account, ["1100"], taken_on="2025-02-15")
    post_reading(api(org.operator_a), metered.account, ["1200"], taken_on="2025-03-15")
    held = post_reading(api(org.operator_a), metered.account, ["3000"], taken_on="2025-04-15").json()
    assert (held["status"], held["flags"]) == ("held", ["jump"])

    forbidden = api(org.operator_a).post(
        f"/api/v1/readings/{held['id']}/review/", {"accept": True}, format="json"
    )
    reviewed = api(org.head_a).post(f"/api/v1/readings/{held['id']}/review/", {"accept": True}, format="json")
    again = api(org.head_a).post(f"/api/v1/readings/{held['id']}/review/", {"accept": False}, format="json")
    corrected = api(org.head_a).post(
        f"/api/v1/readings/{held['id']}/correct/",
        {"values": ["2000"], "reason": "Photo checked"},
        format="json",
    )
    no_reason = api(org.head_a).post(
        f"/api/v1/readings/{corrected.json()['id']}/correct/", {"values": ["2001"]}
    )

    assert forbidden.status_code == 403
    assert (reviewed.status_code, reviewed.json()["status"]) == (200, "accepted")
    assert again.status_code == 409
    assert corrected.status_code == 201
    assert {k: corrected.json()[k] for k in ("version", "supersedes", "reason", "values", "status")} == {
        "version": 2,
        "supersedes": held["id"],
        "reason": "Photo checked",
        "values": ["2000.000"],
        "status": "accepted",
    }
    assert problem(no_reason)["errors"] == {"reason": ["This field is required."]}


def test_meters_install_list_and_replace(api, customers, org, tariffs):
    head_b = org.operator_b  # operators lack meter.change
    body = {
        "account": customers.acc_romashka.number,
        "model": "Меркурий 201",
        "serial": "M-1",
        "zones": 1,
        "installed_on": "2025-01-10",
        "initial_values": ["5"],
    }

    forbidden = api(head_b).post("/api/v1/meters/", body, format="json")
    created = api(org.admin).post("/api/v1/meters/", body, format="json")
    twice = api(org.admin).post("/api/v1/meters/", {**body, "serial": "M-2"}, format="json")
    listed = api(org.operator_b).get(f"/api/v1/meters/?account={customers.acc_romashka.number}")
    hidden = api(org.operator_a).get(f"/api/v1/meters/?account={customers.acc_romashka.number}")
    replaced = api(org.admin).post(
        f"/api/v1/meters/{created.json()['id']}/replace/",
        {
            **body,
            "serial": "M-3",
            "zones": 2,
            "on": "2025-03-01",
            "final_values": ["4"],
            "initial_values": ["0", "0"],
        },
        format="json",
    )

    assert forbidden.status_code == 403
    assert created.status_code == 201 and created.json()["status"] == "active"
    assert twice.status_code == 400
    assert problem(twice)["errors"] == {"serial": ["The account already has a meter in service; replace it."]}
    assert [m["serial"] for m in listed.json()["results"]] == ["M-1"]
    assert hidden.json()["results"] == []
    assert replaced.status_code == 400
    assert problem(replaced)["code"] == "lower_than_previous"
    ok = api(org.admin).post(
        f"/api/v1/meters/{created.json()['id']}/replace/",
        {
            **body,
            "serial": "M-3",
            "zones": 2,
            "on": "2025-03-01",
            "final_values": ["40"],
            "initial_values": ["0", "0"],
        },
        format="json",
    )
    assert ok.status_code == 201
    assert (ok.json()["serial"], ok.json()["zones"]) == ("M-3", 2)
    assert Meter.objects.get(pk=created.json()["id"]).status == "removed"


def test_reading_import_upload_is_idempotent(api, metered, org):
    data = f"{metered.account.number};41234567;2025-02-20;1100\nbad line\n".encode()

    def upload(user):
        return api(user).post(
            "/api/v1/reading-imports/",
            {"file": SimpleUploadedFile("agent.csv", data, content_type="text/csv"), "kind": "agent"},
            format="multipart",
        )

    forbidden = upload(org.operator_a)
    first = upload(org.head_a)
    second = upload(org.head_a)
    bad_kind = api(org.head_a).post(
        "/api/v1/reading-imports/",
        {"file": SimpleUploadedFile("x.csv", b"1", content_type="text/csv"), "kind": "nope"},
        format="multipart",
    )

    assert forbidden.status_code == 403
    assert first.status_code == 201
    assert {k: first.json()[k] for k in ("lines", "accepted", "held", "rejected")} == {
        "lines": 2,
        "accepted": 1,
        "held": 0,
        "rejected": 1,
    }
    assert first.json()["errors"] == [
        {"line": 2, "code": "malformed", "message": "Expected account;meter_serial;date;t1[;t2;t3]."}
    ]
    assert (second.status_code, second.json()["id"]) == (200, first.json()["id"])
    assert Reading.objects.filter(kind="regular").count() == 1
    assert problem(bad_kind)["errors"] == {"kind": ["Unknown kind of file “nope”."]}
    assert api(org.head_a).get(f"/api/v1/reading-imports/{first.json()['id']}/").json()["accepted"] == 1
