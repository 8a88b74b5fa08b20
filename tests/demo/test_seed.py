"""``okno seed``: deterministic, realistic and consistent demo data."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum

from okno.appeals.models import Answer, Appeal, AppealCounter, AppealEvent, AppealStat
from okno.appeals.queries import my_queue
from okno.customers.models import Account, Customer
from okno.customers.numbers import is_valid_account_number, is_valid_inn
from okno.demo.generator import seed
from okno.org.choices import Role
from okno.org.models import Branch, User

ANCHOR = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _fingerprint() -> dict:
    appeals = Appeal.objects.order_by("number")
    return {
        "counts": (
            Customer.objects.count(),
            Account.objects.count(),
            appeals.count(),
            Answer.objects.count(),
            AppealEvent.objects.count(),
        ),
        "numbers": list(appeals.values_list("number", flat=True)[:5]),
        "texts": list(appeals.values_list("text", "channel", "kind", "topic", "status")[:20]),
        "names": list(
            Customer.objects.order_by("id").values_list("last_name", "first_name", "organisation", "inn")[:20]
        ),
        "accounts": list(Account.objects.order_by("id").values_list("number", flat=True)[:20]),
    }


@pytest.mark.django_db
def test_same_seed_gives_same_data_and_another_seed_differs():
    seed(accounts=200, appeals=600, seed=7, anchor=ANCHOR)
    first = _fingerprint()
    seed(accounts=200, appeals=600, seed=7, reset=True, anchor=ANCHOR)
    assert _fingerprint() == first
    seed(accounts=200, appeals=600, seed=8, reset=True, anchor=ANCHOR)
    assert _fingerprint()["texts"] != first["texts"]
    assert first["counts"][:3] == (190, 200, 600)


@pytest.fixture
def demo(db):
    return seed(accounts=1500, appeals=4000, seed=1, anchor=ANCHOR)


def test_channel_type_and_topic_mix_follows_the_annual_reports(demo):
    n = Appeal.objects.count()
    channels = Counter(dict(Appeal.objects.values_list("channel").annotate(c=Count("id"))))
    digital = sum(channels[c] for c in ("web", "cabinet", "email", "mobile_app", "chat", "messenger", "sms"))
    assert channels["contact_center"] / n == pytest.approx(0.81, abs=0.025)
    assert digital / n == pytest.approx(0.12, abs=0.02)
    assert (n - channels["contact_center"] - digital) / n == pytest.approx(0.07, abs=0.02)
    kinds = Counter(dict(Appeal.objects.values_list("kind").annotate(c=Count("id"))))
    assert kinds["report"] / n == pytest.approx(0.76, abs=0.025)
    assert kinds["application"] / n == pytest.approx(0.11, abs=0.02)
    assert kinds["info_request"] / n == pytest.approx(0.105, abs=0.02)
    assert kinds["complaint"] / n == pytest.approx(0.017, abs=0.01)
    topics = Counter(dict(Appeal.objects.values_list("topic").annotate(c=Count("id"))))
    assert topics["outage"] / n == pytest.approx(0.77, abs=0.03)
    assert topics["grid_connection"] / n == pytest.approx(0.07, abs=0.02)
    late = Appeal.objects.filter(on_time=False).count()
    assert 0.02 <= late / n <= 0.06
    assert Appeal.objects.filter(status="closed", delivered_at__isnull=False).count() / n > 0.9


def test_every_role_has_a_demo_login_with_the_demo_password(demo):
    for login, role in [
        ("operator", Role.OPERATOR),
        ("cc_operator", Role.OPERATOR),
        ("specialist", Role.SPECIALIST),
        ("head", Role.HEAD_OF_DEPARTMENT),
        ("branch_head", Role.BRANCH_HEAD),
        ("quality", Role.QUALITY_MANAGER),
        ("security", Role.SECURITY_OFFICER),
        ("admin", Role.ADMINISTRATOR),
    ]:
        user = User.objects.get(username=login)
        assert user.role == role
        assert user.check_password("okno-demo")
    assert User.objects.get(username="cc_operator").all_branches
    assert User.objects.get(username="operator").branch_ids == [Branch.objects.get(code="ladoga").pk]
    assert {login for login, _r, _s in demo.logins} >= {
        "operator",
        "specialist",
        "head",
        "branch_head",
        "admin",
    }
    assert 4 <= Branch.objects.count() <= 6
    assert len(set(Branch.objects.values_list("timezone", flat=True))) >= 4


def test_numbers_are_unique_per_year_and_counters_hold_the_last(demo):
    numbers = list(Appeal.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 4000
    for counter in AppealCounter.objects.all():
        in_year = [int(n.split("-")[1]) for n in numbers if n.startswith(f"{counter.year}-")]
        assert max(in_year) == counter.last == len(in_year)


def test_identifiers_are_valid_and_customers_mostly_individuals(demo):
    assert all(is_valid_account_number(n) for n in Account.objects.values_list("number", flat=True))
    inns = Customer.objects.exclude(inn="").values_list("inn", flat=True)
    assert inns and all(is_valid_inn(i) for i in inns)
    share = Customer.objects.filter(kind="individual").count() / Customer.objects.count()
    assert share == pytest.approx(0.9, abs=0.03)


def test_statistics_rollup_totals_equal_the_appeals(demo):
    totals = AppealStat.objects.aggregate(
        r=Sum("received"), o=Sum("on_time"), la=Sum("late"), c=Sum("cancelled")
    )
    assert totals["r"] == Appeal.objects.count()
    assert totals["o"] == Appeal.objects.filter(on_time=True).count()
    assert totals["la"] == Appeal.objects.filter(on_time=False).count()
    assert totals["c"] == Appeal.objects.filter(status="cancelled").count()


def test_demo_specialist_and_operator_have_live_work(demo):
    specialist = User.objects.get(username="specialist")
    open_statuses = ("registered", "assigned", "in_progress", "waiting_customer")
    assert Appeal.objects.filter(assignee=specialist, status__in=open_statuses).exists()
    operator = User.objects.get(username="operator")
    assert my_queue(operator).count() >= 2
    assert Appeal.objects.filter(branch_id__in=operator.branch_ids, status__in=open_statuses).count() >= 5
    assert Appeal.objects.filter(status__in=open_statuses, deadline_at__lt=ANCHOR).exists()  # some overdue


def test_closed_appeals_have_answers_events_and_history(demo):
    closed = (
        Appeal.objects.filter(status="closed", kind="report", customer__isnull=False)
        .order_by("number")
        .first()
    )
    assert closed.answers.get().delivered_at == closed.delivered_at
    types = list(closed.events.order_by("time", "id").values_list("type", flat=True))
    assert (
        types[:2] == ["registered", "assigned"] and "answered" in types and types[-1] in ("closed", "rated")
    )
    assert closed.registered_at >= closed.received_at and closed.deadline_at > closed.registered_at
    assert closed.customer.history.filter(ref_id=closed.pk).count() == 2  # the appeal and its answer
    in_call = Appeal.objects.filter(
        status="closed", kind="info_request", channel="contact_center", policy__unit="hours"
    ).first()
    assert list(in_call.events.order_by("time", "id").values_list("type", flat=True))[:3] == [
        "registered",
        "answered",
        "delivered",
    ]
    assert in_call.assignee_id == in_call.registered_by_id
    for appeal in Appeal.objects.exclude(on_time=None)[:200]:
        assert appeal.on_time == (appeal.delivered_at <= appeal.deadline_at)


@pytest.mark.django_db
def test_seed_refuses_to_mix_with_existing_data_without_reset():
    seed(accounts=20, appeals=10, seed=1, anchor=ANCHOR)
    with pytest.raises(CommandError, match="--reset"):
        call_command("seed", "--accounts", "20", "--appeals", "10")


@pytest.mark.django_db
def test_if_empty_skips_quietly_when_data_exists(capsys):
    seed(accounts=20, appeals=10, seed=1, anchor=ANCHOR)
    call_command("seed", "--accounts", "20", "--appeals", "10", "--if-empty")
    assert "nothing to do" in capsys.readouterr().out
    assert Appeal.objects.count() == 10
