"""``okno seed`` bills the demo: meters, readings, monthly runs, payments, debt cases, invoices."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum

from okno.billing.models import (
    BillingProfile,
    BillingRun,
    Charge,
    DebtCase,
    DebtOrder,
    Invoice,
    LedgerEntry,
    Meter,
    Payment,
    PaymentRegistry,
    Reading,
    Tariff,
)
from okno.billing.periods import add_months, month_end
from okno.demo.billing import BILLING_MODELS
from okno.demo.generator import seed

# Six billed months before the anchor: March–August 2026 (the tariffs rise on 1 July); August's bill is
# due on 15 September, so its payments arrive before the anchor.
ANCHOR = dt.datetime(2026, 9, 20, tzinfo=dt.UTC)
MONTHS = 6
FIRST, LAST = dt.date(2026, 3, 1), dt.date(2026, 8, 1)
PERIODS = [add_months(FIRST, k) for k in range(MONTHS)]


def _seed(seed_value: int = 3, reset: bool = False):
    return seed(accounts=60, appeals=20, seed=seed_value, anchor=ANCHOR, billing_months=MONTHS, reset=reset)


@pytest.fixture
def billed(db):
    return _seed()


def _totals() -> dict:
    ledger = dict(LedgerEntry.objects.values_list("kind").annotate(s=Sum("amount_kop")))
    return {
        "ledger": ledger,
        "charges": Charge.objects.aggregate(s=Sum("amount_kop"), n=Count("id")),
        "methods": dict(Charge.objects.values_list("method").annotate(n=Count("id"))),
        "payments": Payment.objects.aggregate(s=Sum("amount_kop"), n=Count("id")),
        "readings": Reading.objects.count(),
        "debt_cases": DebtCase.objects.count(),
        "invoices": Invoice.objects.aggregate(s=Sum("total_kop"), n=Count("id")),
    }


def test_every_billable_account_is_charged_every_month_by_the_real_run(billed):
    assert billed.billing is not None and billed.billing.runs == MONTHS
    runs = list(BillingRun.objects.order_by("period").values_list("period", "status", "errors"))
    assert runs == [(p, "done", []) for p in PERIODS]
    charged = defaultdict(set)
    for account_id, period in LedgerEntry.objects.filter(kind="charge").values_list("account_id", "period"):
        charged[account_id].add(period)
    profiles = BillingProfile.objects.filter(billable=True).values_list("account_id", "account__opened_on")
    assert len(profiles) > 30
    full = 0
    for account_id, opened_on in profiles:
        # An account opened during the history is billed from its first month.
        expected = {p for p in PERIODS if opened_on <= month_end(p)}
        assert charged[account_id] == expected, account_id
        full += len(expected) == MONTHS
    assert full >= 0.9 * len(profiles)
    # Charge lines and the ledger's charges agree, per account and period.
    lines = dict(
        Charge.objects.values_list("account_id", "period")
        .annotate(s=Sum("amount_kop"))
        .values_list("account_id", "s")
    )
    assert lines  # every account has lines
    assert (
        Charge.objects.aggregate(s=Sum("amount_kop"))["s"]
        == (LedgerEntry.objects.filter(kind="charge").aggregate(s=Sum("amount_kop"))["s"])
    )


def test_methods_show_actual_average_norm_and_the_recalculation_after_a_long_gap(billed):
    methods = set(Charge.objects.values_list("method", flat=True))
    assert {"actual", "average", "norm", "recalculation", "reversal"} <= methods
    # A meter without readings for four months: three months by the average, the fourth by the norm,
    # then the late reading recalculates them all (reversal of the estimates in the same period).
    found = False
    for meter_id in (
        Charge.objects.filter(method="recalculation").values_list("meter_id", flat=True).distinct()
    ):
        by_period = dict(
            Charge.objects.filter(meter_id=meter_id)
            .exclude(method__in=["reversal", "discount"])
            .values_list("period", "method")
        )
        sequence = [by_period.get(p) for p in PERIODS]
        if "norm" in sequence[3:]:
            k = sequence.index("norm", 3)
            gap = sequence.index("recalculation", k) - (k - 3)  # four or five months without a reading
            assert sequence[k - 3 : k - 3 + gap + 1] == ["average"] * 3 + ["norm"] * (gap - 3) + [
                "recalculation"
            ]
            recalc_period = PERIODS[k - 3 + gap]
            reversed_kop = Charge.objects.filter(
                meter_id=meter_id, period=recalc_period, method="reversal"
            ).aggregate(s=Sum("amount_kop"))["s"]
            estimated_kop = Charge.objects.filter(
                meter_id=meter_id, period__in=PERIODS[k - 3 : k - 3 + gap], method__in=["average", "norm"]
            ).aggregate(s=Sum("amount_kop"))["s"]
            assert reversed_kop == -estimated_kop
            found = True
    assert found
    # Accounts without a meter are billed by the norm every month.
    unmetered = BillingProfile.objects.exclude(account__meters__isnull=False).values_list(
        "account_id", flat=True
    )
    assert unmetered
    assert set(Charge.objects.filter(account_id__in=list(unmetered)).values_list("method", flat=True)) <= {
        "norm",
        "discount",
    }


def test_readings_are_valid_mixed_and_the_meters_realistic(billed):
    assert Reading.objects.filter(kind="initial").count() == Meter.objects.count()
    channels = set(Reading.objects.values_list("channel", flat=True))
    assert {"cabinet", "sms", "terminal", "office", "controller"} <= channels
    zones = dict(Meter.objects.values_list("zones").annotate(n=Count("id")))
    assert zones[1] > zones.get(2, 0) > 0
    # Never lower than the previous accepted reading, except a roll-over of the register.
    rollovers = 0
    for meter in Meter.objects.all():
        values = list(
            meter.readings.filter(status="accepted")
            .order_by("taken_on", "id")
            .values_list("t1_wh", flat=True)
        )
        for before, after in zip(values, values[1:], strict=False):
            if after < before:
                rollovers += 1
                assert after + meter.capacity_wh - before < meter.capacity_wh // 100
    assert rollovers >= 1
    # A replaced meter: removed with a final reading, its successor starts from zero.
    old = Meter.objects.get(status="removed")
    assert old.replaced_by is not None and old.readings.filter(kind="final").count() == 1
    assert old.replaced_by.readings.get(kind="initial").t1_wh == 0
    # Readings for the billed months only count in their month (the 25th is the last day).
    assert not Reading.objects.filter(kind="regular", taken_on__day__gt=25).exists()


def test_ledger_adds_up_to_charges_plus_penalties_minus_payments(billed):
    ledger = LedgerEntry.objects.aggregate(s=Sum("amount_kop"))["s"]
    charges = Charge.objects.aggregate(s=Sum("amount_kop"))["s"]
    penalties = LedgerEntry.objects.filter(kind="penalty").aggregate(s=Sum("amount_kop"))["s"]
    paid = Payment.objects.filter(status="allocated").aggregate(s=Sum("amount_kop"))["s"]
    assert charges > 0 and paid > 0 and penalties > 0
    assert ledger == charges + penalties - paid
    assert set(LedgerEntry.objects.values_list("kind", flat=True)) == {"charge", "penalty", "payment"}
    # Most households pay: payments cover most of what was charged before the last month.
    assert paid > 0.75 * charges


def test_payments_registries_unidentified_debt_cases_and_invoices(billed):
    # One bank registry a month after each run (the last one up to the day before the anchor).
    assert PaymentRegistry.objects.count() == MONTHS
    assert PaymentRegistry.objects.aggregate(s=Sum("rejected"))["s"] == 0
    unidentified = Payment.objects.filter(status="unidentified")
    assert unidentified.count() >= MONTHS and not unidentified.filter(account__isnull=False).exists()
    assert Payment.objects.filter(source="acquiring", provider="acquiring").exclude(external_id="").exists()
    assert not Payment.objects.filter(paid_on__gte=ANCHOR.date()).exists()
    # Debtors get a warning; the rest of the workflow follows from delivered warnings.
    assert DebtCase.objects.exists()
    assert DebtOrder.objects.filter(kind="warning").count() == DebtCase.objects.count()
    # Invoices of the last month, without PDFs, one per account charged.
    invoices = Invoice.objects.filter(period=LAST)
    assert invoices.count() == LedgerEntry.objects.filter(kind="charge", period=LAST).count()
    assert not invoices.exclude(pdf="").exists()
    assert invoices.first().qr_payload.startswith("ST00012|")
    # The July increase: the same one-zone urban volume costs more in July than in June.
    prices = dict(
        Charge.objects.filter(
            method="actual", zones=1, zone=1, tier=1, account__billing__category__code="urban"
        )
        .values_list("period")
        .annotate(p=Sum("price_e4") / Count("id"))
    )
    assert prices[dt.date(2026, 7, 1)] > prices[dt.date(2026, 6, 1)]


def test_the_history_queues_no_reactions_to_its_events(db, django_capture_on_commit_callbacks):
    # payment.received (debt re-check per payment) and billing.run_finished (a PDF batch per run) are
    # muted while the past is written: nothing waits for the commit.
    with django_capture_on_commit_callbacks() as callbacks:
        result = _seed()
    assert result.billing.payments > 200 and result.billing.runs == MONTHS
    # Only the company cache's refresh after the demo company is written (not a reaction to history).
    from okno.core.context_processors import company_cache

    assert [c for c in callbacks if c != company_cache.invalidate] == []


@pytest.mark.django_db
def test_same_seed_gives_the_same_billing_and_reset_wipes_it():
    _seed()
    first = _totals()
    _seed(reset=True)
    assert _totals() == first
    call_command("seed", "--accounts", "20", "--appeals", "10", "--reset", "--no-billing")
    for model in BILLING_MODELS:
        assert not model.objects.exists(), model.__name__


@pytest.mark.django_db
def test_no_billing_creates_no_billing_rows_and_months_are_counted_back_from_today():
    call_command("seed", "--accounts", "20", "--appeals", "10", "--no-billing")
    for model in BILLING_MODELS:
        assert not model.objects.exists(), model.__name__
    assert not Tariff.objects.exists()
    call_command("seed", "--accounts", "20", "--appeals", "10", "--reset", "--billing-months", "2")
    assert BillingRun.objects.count() == 2
    assert Tariff.objects.filter(valid_from=dt.date(2026, 7, 1)).exists()
