"""The debt workflow: the debtor threshold, warning → restriction → suspension → payment → reconnection,
payment before restriction, notices, idempotency, and the web pages and API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from okno.billing import debt
from okno.billing.models import BillingRun, BillingSettings, DebtCase, DebtOrder, LedgerEntry
from okno.core.errors import Conflict
from okno.core.models import ChangeLog
from okno.customers.models import Consent, ContactEvent

Status, Kind = DebtCase.Status, DebtOrder.Kind
# The threshold of Иванов (2 residents, urban): 100 kWh × 2 × 6.43 ₽ = 1 286.00 ₽ a month;
# × 2.0 months = 2 572.00 ₽ = 257 200 kopecks.
THRESHOLD = 257_200
DEBT = 3 * 150_000  # October, November and December 2025, 1 500.00 ₽ each


@pytest.fixture
def debtor(metered):
    """Иванов owes 1 500.00 ₽ for each of October–December 2025, due on the 10th of the next month."""
    acc = metered.account
    run = BillingRun.objects.create(period=dt.date(2025, 12, 1), status=BillingRun.Status.DONE)
    for period, end, due in (
        (dt.date(2025, 10, 1), dt.date(2025, 10, 31), dt.date(2025, 11, 10)),
        (dt.date(2025, 11, 1), dt.date(2025, 11, 30), dt.date(2025, 12, 10)),
        (dt.date(2025, 12, 1), dt.date(2025, 12, 31), dt.date(2026, 1, 10)),
    ):
        LedgerEntry.objects.create(
            account=acc,
            kind="charge",
            period=period,
            entry_date=end,
            due_date=due,
            amount_kop=150_000,
            run=run,
        )
    return acc


def pay(acc, on, amount_kop):
    LedgerEntry.objects.create(account=acc, kind="payment", entry_date=on, amount_kop=-amount_kop)


def history(acc):
    return list(
        ContactEvent.objects.filter(customer_id=acc.customer_id, ref_type__startswith="billing.debt")
        .order_by("id")
        .values_list("summary", flat=True)
    )


def test_threshold_is_months_of_charges_at_the_norm(debtor):
    assert debt.monthly_norm_charge_kop(100_000, 2, 64_300) == 128_600
    assert debt.threshold_kop(debtor, dt.date(2026, 1, 20)) == THRESHOLD
    settings = BillingSettings.current()
    settings.debtor_months = Decimal("3.5")
    settings.save()
    assert debt.threshold_kop(debtor, dt.date(2026, 1, 20)) == 450_100  # 1 286.00 × 3.5 = 4 501.00 ₽


def test_threshold_uses_the_branch_region_like_the_billing_run(debtor):
    from okno.customers.models import Address
    from okno.org.models import Branch

    point = debtor.service_point
    # The postal address names another region (no tariffs there): the branch's region still decides.
    Address.objects.filter(pk=point.address_id).update(region="Другая область")
    assert debt.threshold_kop(debtor, dt.date(2026, 1, 20)) == THRESHOLD
    # A branch in a region without a norm or tariffs: no threshold, whatever the address says.
    Address.objects.filter(pk=point.address_id).update(region="Тестовая область")
    Branch.objects.filter(pk=point.branch_id).update(region="Другая область")
    assert debt.threshold_kop(debtor, dt.date(2026, 1, 20)) is None


def test_not_a_debtor_below_the_threshold(debtor):
    # On 15 December only October and November are overdue: 3 000.00 ₽ > 2 572.00 ₽ — a debtor;
    # after paying 500.00 ₽ on the 14th, 2 500.00 ₽ ≤ 2 572.00 ₽ — not one.
    pay(debtor, dt.date(2025, 12, 14), 50_000)
    assert debt.open_cases(dt.date(2025, 12, 15), actor=None)["opened"] == 0
    assert not DebtCase.objects.exists()


def test_full_timeline_warning_restriction_suspension_payment_reconnection(debtor, org):
    actor = org.branch_head_a
    # 20 January 2026: 4 500.00 ₽ overdue > 2 572.00 ₽ → a case and a warning, sent by post (no consent).
    assert debt.open_cases(dt.date(2026, 1, 20), actor=actor) == {
        "overdue_accounts": 1,
        "debtors": 1,
        "opened": 1,
    }
    case = DebtCase.objects.get(account=debtor)
    assert (case.status, case.opened_on, case.debt_kop, case.threshold_kop) == (
        Status.WARNED,
        dt.date(2026, 1, 20),
        DEBT,
        THRESHOLD,
    )
    warning = case.orders.get()
    assert (warning.kind, warning.number, warning.channel, warning.delivered_on) == (
        Kind.WARNING,
        f"W-{case.pk:06d}-1",
        "post",
        None,
    )
    assert "4500.00 ₽" in history(debtor)[0] and "20 days" in history(debtor)[0]
    # Not delivered yet: nothing moves, however long.
    assert debt.advance(dt.date(2026, 3, 1), actor=actor).get("restricted", 0) == 0

    debt.mark_delivered(warning, dt.date(2026, 1, 23), actor)
    # Delivered 23 January + 20 days = 12 February.
    assert debt.advance(dt.date(2026, 2, 11), actor=actor).get("restricted", 0) == 0
    assert debt.advance(dt.date(2026, 2, 12), actor=actor)["restricted"] == 1
    case.refresh_from_db()
    assert case.status == Status.RESTRICTED
    restriction = case.orders.get(kind=Kind.RESTRICTION)
    assert (restriction.issued_on, restriction.scheduled_on, restriction.debt_kop) == (
        dt.date(2026, 2, 12),
        dt.date(2026, 2, 12),
        DEBT,
    )
    # Restricted 12 February + 10 days = 22 February → suspension.
    assert debt.advance(dt.date(2026, 2, 21), actor=actor).get("suspended", 0) == 0
    assert debt.advance(dt.date(2026, 2, 22), actor=actor)["suspended"] == 1
    case.refresh_from_db()
    assert case.status == Status.SUSPENDED

    # Paid in full on 25 February → a reconnection order within 2 days; the case waits for it.
    pay(debtor, dt.date(2026, 2, 25), DEBT)
    assert debt.advance(dt.date(2026, 2, 25), actor=actor)["reconnection_ordered"] == 1
    case.refresh_from_db()
    assert case.status == Status.PAID
    reconnection = case.orders.get(kind=Kind.RECONNECTION)
    assert (reconnection.scheduled_on, reconnection.debt_kop) == (dt.date(2026, 2, 27), 0)

    debt.mark_done(reconnection, dt.date(2026, 2, 26), actor)
    case.refresh_from_db()
    assert (case.status, case.closed_on) == (Status.CLOSED, dt.date(2026, 2, 26))
    assert list(case.orders.order_by("id").values_list("kind", flat=True)) == [
        Kind.WARNING,
        Kind.RESTRICTION,
        Kind.SUSPENSION,
        Kind.RECONNECTION,
    ]
    lines = history(debtor)
    assert len(lines) == 6  # warning, delivered, restriction, suspension, reconnection, reconnection done
    assert "delivered on 23.01.2026" in lines[1]
    assert "restricted from 12.02.2026" in lines[2]
    assert "suspended from 22.02.2026" in lines[3]
    assert "restored by 27.02.2026" in lines[4]
    assert ChangeLog.objects.filter(object_type="billing.debtorder").count() == 4 + 2  # 4 created, 2 updated
    assert ChangeLog.objects.filter(object_type="billing.debtcase", action="update").count() == 4


def test_payment_before_restriction_closes_the_case(debtor, org):
    actor = org.branch_head_a
    debt.open_cases(dt.date(2026, 1, 20), actor=actor)
    case = DebtCase.objects.get()
    debt.mark_delivered(case.orders.get(), dt.date(2026, 1, 23), actor)
    # 1 February: 2 000.00 ₽ paid, 2 500.00 ₽ still overdue ≤ 2 572.00 ₽ — no longer above the threshold.
    pay(debtor, dt.date(2026, 2, 1), 200_000)
    assert debt.advance(dt.date(2026, 2, 1), actor=actor)["closed"] == 1
    case.refresh_from_db()
    assert (case.status, case.closed_on) == (Status.CLOSED, dt.date(2026, 2, 1))
    assert debt.advance(dt.date(2026, 2, 12), actor=actor) == {"checked": 0}
    assert not case.orders.filter(kind=Kind.RESTRICTION).exists()
    assert "paid before restriction" in history(debtor)[-1]


def test_payment_event_settles_the_case_at_once(debtor, org, django_capture_on_commit_callbacks):
    from okno.core import events

    debt.connect()
    debt.open_cases(dt.date(2026, 1, 20), actor=org.admin)
    pay(debtor, dt.date(2026, 1, 21), DEBT)
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(
            "payment.received", payment_id=1, account_id=debtor.pk, amount_kop=DEBT, paid_on="2026-01-21"
        )
    assert DebtCase.objects.get().status == Status.CLOSED


def test_running_the_job_twice_changes_nothing_the_second_time(debtor, org):
    from okno.core.jobs import REGISTRY

    job = REGISTRY["billing.debt_workflow"].func
    assert REGISTRY["billing.debt_workflow"].every == dt.timedelta(days=1)
    first = job(as_of="2026-01-20")
    second = job(as_of="2026-01-20")
    assert (first["opened"], second["opened"]) == (1, 0)
    debt.mark_delivered(DebtOrder.objects.get(), dt.date(2026, 1, 21), org.admin)
    assert job(as_of="2026-02-10")["advance_restricted"] == 1
    again = job(as_of="2026-02-10")
    assert "advance_restricted" not in again and again["opened"] == 0
    assert DebtOrder.objects.count() == 2
    assert DebtCase.objects.count() == 1


def test_warning_by_email_with_consent_is_sent_and_counts_as_delivered(
    debtor, org, customers, django_capture_on_commit_callbacks
):
    Consent.objects.create(customer=customers.ivanov, channel="email", purpose="service_notices")
    with django_capture_on_commit_callbacks(execute=True):
        debt.open_cases(dt.date(2026, 1, 20), actor=org.admin)
    warning = DebtOrder.objects.get()
    assert (warning.channel, warning.delivered_on) == ("email", dt.date(2026, 1, 20))
    [message] = mail.outbox
    assert message.to == ["ivanov@example.ru"]
    assert "Warning of restriction" in message.subject and debtor.number in message.subject
    assert "4500.00 ₽" in message.body


def test_withdrawn_consent_means_a_letter(debtor, org, customers, django_capture_on_commit_callbacks):
    from django.utils import timezone

    Consent.objects.create(
        customer=customers.ivanov, channel="email", purpose="service_notices", withdrawn_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        debt.open_cases(dt.date(2026, 1, 20), actor=org.admin)
    assert DebtOrder.objects.get().channel == "post"
    assert mail.outbox == []


def test_manual_steps_are_validated_and_need_the_permission(debtor, org):
    debt.open_cases(dt.date(2026, 1, 20), actor=org.admin)
    warning = DebtOrder.objects.get()
    with pytest.raises(PermissionDenied):
        debt.mark_delivered(warning, dt.date(2026, 1, 21), org.operator_a)
    with pytest.raises(ValidationError) as err:
        debt.mark_delivered(warning, dt.date(2026, 1, 19), org.head_a)
    assert "before the order was issued" in str(err.value)
    with pytest.raises(ValidationError):
        debt.mark_done(warning, dt.date(2026, 1, 21), org.head_a)
    debt.mark_delivered(warning, dt.date(2026, 1, 21), org.head_a)
    with pytest.raises(Conflict):
        debt.mark_delivered(warning, dt.date(2026, 1, 22), org.head_a)


def test_web_list_case_page_and_delivered_button(debtor, org, client):
    debt.open_cases(dt.date(2026, 1, 20), actor=org.admin)
    case = DebtCase.objects.get()
    warning = case.orders.get()
    client.force_login(org.head_a)
    page = client.get(reverse("billing:debt_cases"))
    assert page.status_code == 200 and debtor.number in page.content.decode()
    detail = client.get(reverse("billing:debt_case", args=[case.pk]))
    assert detail.status_code == 200 and warning.number in detail.content.decode()
    response = client.post(
        reverse("billing:debt_order_delivered", args=[warning.pk]), {"on": "2026-01-22"}, follow=True
    )
    assert response.status_code == 200
    warning.refresh_from_db()
    assert warning.delivered_on == dt.date(2026, 1, 22)
    bad = client.post(
        reverse("billing:debt_order_delivered", args=[warning.pk]), {"on": "2026-01-23"}, follow=True
    )
    assert "already delivered" in bad.content.decode()
    client.force_login(org.operator_b)
    assert client.get(reverse("billing:debt_case", args=[case.pk])).status_code == 404
    client.force_login(org.operator_a)
    assert (
        client.post(
            reverse("billing:debt_order_delivered", args=[warning.pk]), {"on": "2026-01-22"}
        ).status_code
        == 403
    )


def test_api_lists_cases_and_marks_delivery(debtor, org):
    debt.open_cases(dt.date(2026, 1, 20), actor=org.admin)
    case = DebtCase.objects.get()
    api = APIClient()
    api.force_authenticate(org.head_a)
    listing = api.get("/api/v1/debt-cases/")
    assert listing.status_code == 200
    [row] = listing.json()["results"]
    assert (row["account"], row["status"], row["debt_kop"], row["threshold_kop"]) == (
        debtor.number,
        "warned",
        DEBT,
        THRESHOLD,
    )
    assert row["orders"][0]["kind"] == "warning"
    bad = api.post(f"/api/v1/debt-cases/{case.pk}/delivered/", {"delivered_on": "2026-01-01"}, format="json")
    assert bad.status_code == 400 and "delivered_on" in bad.json()["errors"]
    ok = api.post(f"/api/v1/debt-cases/{case.pk}/delivered/", {"delivered_on": "2026-01-22"}, format="json")
    assert ok.status_code == 200 and ok.json()["orders"][0]["delivered_on"] == "2026-01-22"
    again = api.post(
        f"/api/v1/debt-cases/{case.pk}/delivered/", {"delivered_on": "2026-01-22"}, format="json"
    )
    assert again.status_code == 409
    operator = APIClient()
    operator.force_authenticate(org.operator_a)
    assert operator.get("/api/v1/debt-cases/").status_code == 200
    denied = operator.post(
        f"/api/v1/debt-cases/{case.pk}/delivered/", {"delivered_on": "2026-01-22"}, format="json"
    )
    assert denied.status_code == 403
    other = APIClient()
    other.force_authenticate(org.operator_b)
    assert other.get("/api/v1/debt-cases/").json()["results"] == []
