"""Starting billing runs from the web page, the API and ``okno billing run``."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from okno.billing.models import BillingRun, LedgerEntry
from tests.billing.test_engine import read

D = dt.date


@pytest.fixture
def feb_reading(metered):
    read(metered.meter, D(2025, 2, 1), "1150.0")
    return metered


@pytest.mark.django_db
def test_cli_run_prints_a_summary_and_refuses_a_second_concurrent_run(feb_reading):
    out = StringIO()
    call_command("billing", "run", "2025-02", stdout=out)
    text = out.getvalue()
    assert "Billed 1 accounts for 2025-02" in text and "964.50 RUB" in text
    assert "actual" in text
    out = StringIO()
    call_command("billing", "run", "2025-02", "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["accounts"] == 0 and summary["skipped"] == 1  # restart bills nothing twice
    assert LedgerEntry.objects.filter(kind="charge", period=D(2025, 2, 1)).count() == 1
    BillingRun.objects.create(period=D(2025, 3, 1), status="running")
    with pytest.raises(CommandError, match="already in progress"):
        call_command("billing", "run", "2025-03")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("billing", "run", "March")
    with pytest.raises(CommandError, match="not begun"):
        call_command("billing", "run", "2999-01")


@pytest.mark.django_db
def test_start_from_the_web_page(client, org, feb_reading, django_capture_on_commit_callbacks):
    client.force_login(org.branch_head_a)
    page = client.get(reverse("billing:runs"))
    assert page.status_code == 200 and "Start a billing run" in page.text
    for name in (
        "readings_held",
        "reading_import",
        "payment_registry",
        "payments_unidentified",
        "debt_cases",
    ):
        assert reverse(f"billing:{name}") in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("billing:runs"), {"period": "2025-02", "branch": str(org.a.pk)})
    run = BillingRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("billing:run", args=[run.pk])
    assert run.status == "done" and run.branch == org.a and run.counts["accounts"] == 1
    detail = client.get(reverse("billing:run", args=[run.pk]))
    assert "964.50" in detail.text and 'id="run-accounts">1<' in detail.text
    # A branch head may not start a company-wide run; a bad month is a form error, nothing started.
    response = client.post(reverse("billing:runs"), {"period": "2025-03", "branch": ""})
    assert response.status_code == 400 and "company-wide access" in response.text
    response = client.post(reverse("billing:runs"), {"period": "2025-3x", "branch": str(org.a.pk)})
    assert response.status_code == 400 and "YYYY-MM" in response.text
    assert BillingRun.objects.count() == 1


@pytest.mark.django_db
def test_operators_see_runs_but_may_not_start_them(client, org, feb_reading):
    client.force_login(org.operator_a)
    assert client.get(reverse("billing:runs")).status_code == 200
    assert (
        client.post(reverse("billing:runs"), {"period": "2025-02", "branch": str(org.a.pk)}).status_code
        == 403
    )
    client.force_login(org.security)
    assert client.get(reverse("billing:runs")).status_code == 403


@pytest.mark.django_db
def test_api_start_and_follow(api, org, feb_reading, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(org.admin).post("/api/v1/billing-runs/", {"period": "2025-02"}, format="json")
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]
    body = api(org.admin).get(f"/api/v1/billing-runs/{run_id}/").json()
    assert body["status"] == "done" and body["counts"]["amount_kop"] == 96_450 and body["period"] == "2025-02"
    bad = api(org.admin).post("/api/v1/billing-runs/", {"period": "02.2025"}, format="json")
    assert bad.status_code == 400 and "period" in json.dumps(bad.json())
    assert (
        api(org.operator_a).post("/api/v1/billing-runs/", {"period": "2025-02"}, format="json").status_code
        == 403
    )
    BillingRun.objects.create(period=D(2025, 3, 1), status="queued")
    busy = api(org.admin).post("/api/v1/billing-runs/", {"period": "2025-03"}, format="json")
    assert busy.status_code == 409
    # Branch B staff see company-wide runs and their own branch's, not branch A's.
    BillingRun.objects.create(period=D(2025, 4, 1), branch=org.a)
    seen = {r["period"] for r in api(org.operator_b).get("/api/v1/billing-runs/").json()["results"]}
    assert "2025-04" not in seen and "2025-02" in seen


@pytest.mark.django_db
def test_a_failed_run_is_marked_and_a_new_one_resumes(feb_reading, monkeypatch):
    from okno.billing import engine

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(engine, "_post_penalties", boom)
    with pytest.raises(RuntimeError):
        call_command("billing", "run", "2025-02", stdout=StringIO())
    failed = BillingRun.objects.get()
    assert failed.status == "failed" and "disk full" in failed.errors[0]["detail"]
    monkeypatch.undo()
    out = StringIO()
    call_command("billing", "run", "2025-02", "--json", stdout=out)
    # The chunks committed before the failure stay; the new run bills nothing twice.
    assert json.loads(out.getvalue())["skipped"] == 1
    assert LedgerEntry.objects.filter(kind="charge", period=D(2025, 2, 1)).count() == 1


@pytest.mark.django_db
def test_an_abandoned_run_does_not_block_a_new_one(feb_reading):
    from django.utils import timezone

    stuck = BillingRun.objects.create(
        period=D(2025, 2, 1), status="running", started_at=timezone.now() - dt.timedelta(hours=3)
    )
    out = StringIO()
    call_command("billing", "run", "2025-02", "--json", stdout=out)
    assert json.loads(out.getvalue())["accounts"] == 1
    stuck.refresh_from_db()
    assert stuck.status == "failed" and stuck.errors[0]["error"] == "abandoned"


@pytest.mark.django_db
def test_a_bad_branch_value_is_a_form_error(client, org, feb_reading):
    client.force_login(org.admin)
    response = client.post(reverse("billing:runs"), {"period": "2025-02", "branch": "abc"})
    assert response.status_code == 400 and "Choose a branch from the list." in response.text
