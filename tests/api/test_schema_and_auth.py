"""The OpenAPI document (drf-spectacular) and the two ways to authenticate."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.conftest import problem

EXPECTED_PATHS = {
    "/api/v1/appeals/",
    "/api/v1/appeals/{id}/",
    "/api/v1/appeals/by-number/{number}/",
    "/api/v1/appeals/{id}/assign/",
    "/api/v1/appeals/{id}/answer/",
    "/api/v1/appeals/{id}/cancel/",
    "/api/v1/appeals/{id}/answers/{answer_id}/pdf/",
    "/api/v1/appeals/{id}/attachments/",
    "/api/v1/appeals/{id}/attachments/{attachment_id}/download/",
    "/api/v1/customers/",
    "/api/v1/customers/{id}/history/",
    "/api/v1/customers/{customer_id}/appeals/",
    "/api/v1/accounts/lookup/",
    "/api/v1/reference/",
    "/api/v1/branches/",
    "/api/v1/departments/",
    "/api/v1/grid-districts/",
    "/api/v1/answer-templates/",
    "/api/v1/deadline-policies/",
    "/api/v1/audit/access/",
    "/api/v1/audit/changes/",
}


def test_schema_generates_and_validates_without_warnings(tmp_path: Path, db):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    schema = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) >= EXPECTED_PATHS
    assert "post" in schema["paths"]["/api/v1/appeals/{id}/assign/"]
    body = schema["paths"]["/api/v1/appeals/{id}/assign/"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    assert body["$ref"].endswith("/AssignRequest")


def test_schema_view_serves_the_document(api, org):
    response = api(org.operator_a).get("/api/schema/?format=json")

    assert response.status_code == 200
    assert set(response.json()["paths"]) >= EXPECTED_PATHS


def test_token_authentication(org):
    token = Token.objects.create(user=org.operator_a)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")

    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    good = client.get("/api/v1/appeals/")
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    bad = client.get("/api/v1/appeals/")

    assert good.status_code == 200
    assert bad.status_code == 401
    assert problem(bad)["detail"] == "Invalid token."
    assert bad["WWW-Authenticate"] == "Token"


def test_session_authentication(org):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.operator_a)

    assert client.get("/api/v1/reference/").status_code == 200


def test_inactive_user_token_is_refused(org):
    token = Token.objects.create(user=org.operator_a)
    org.operator_a.is_active = False
    org.operator_a.save()
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert client.get("/api/v1/appeals/").status_code == 401
