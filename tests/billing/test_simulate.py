"""``okno billing simulate``: the scenarios of docs/billing/examples, computed by hand."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from okno.billing.models import BillingRun, KeyRate, LedgerEntry
from okno.customers.models import Account

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "billing" / "examples"


def simulate(name: str) -> dict:
    out = StringIO()
    call_command("billing", "simulate", "--scenario", str(EXAMPLES / name), stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_late_reading_scenario(reference_data):
    result = simulate("late-reading.json")
    by_period = {p["period"]: p for p in result["periods"]}
    assert [by_period[f"2025-{m:02d}"]["method"] for m in range(1, 13)] == [
        "actual", "actual", "actual", "actual", "actual", "actual", "actual",
        "average", "average", "average", "norm", "recalculation",
    ]  # fmt: skip
    # February 100 kWh × 6.43 = 643.00; August–October the 100 kWh average; November the norm
    # 2 × 100 kWh = 1 286.00; December 550 kWh over 5 months = 3 536.50 less 3 215.00 estimated.
    assert by_period["2025-02"]["amount"] == "643.00"
    assert by_period["2025-08"]["volume_kwh"] == "100.000"
    assert by_period["2025-11"]["amount"] == "1286.00"
    assert by_period["2025-12"]["amount"] == "321.50"
    # Nothing was paid: the balance is the sum of charges plus penalties; the charges alone are
    # (2150.0 − 1000.0) × 6.43 = 7 394.50.
    charges = sum(int(p["amount"].replace(".", "")) for p in result["periods"])
    penalties = sum(int(p["penalty"].replace(".", "")) for p in result["periods"])
    assert charges == 739_450
    assert by_period["2025-12"]["balance"] == f"{(charges + penalties) / 100:.2f}"
    # Everything was rolled back.
    assert not Account.objects.exists() and not BillingRun.objects.exists()
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_penalty_scenario_with_partial_payment(reference_data):
    rates_before = KeyRate.objects.count()
    result = simulate("penalty-partial-payment.json")
    january = result["periods"][0]
    # No meter: the norm, 100 kWh × 1 resident × 6.43 = 643.00 ₽, due 10 February 2026.
    assert january["method"] == "norm" and january["amount"] == "643.00"
    assert january["due_date"] == "2026-02-10"
    # 300.00 paid on 1 April 2026, day 50 of delay: days 31–50 = 20 days at 1/300 of 21 % (the rate on
    # the payment day): 300 × 0.21 × 20 / 300 = 4.20. The unpaid 343.00 to 30 June (day 140): days
    # 31–90 at 1/300 and 91–140 at 1/130 of 18 % (the rate on the day of calculation):
    # 343 × 0.18 × (60/300 + 50/130) = 36.0942… Total 40.2942 → 40.29 ₽.
    # Balance on 30 June: 643.00 − 300.00 + 40.29 = 383.29 ₽.
    assert result["as_of"]["balance"] == "383.29"
    assert KeyRate.objects.count() == rates_before  # the scenario's key rates were rolled back


@pytest.mark.django_db
def test_bad_scenario_is_a_clear_error(tmp_path, reference_data):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"periods": {"from": "2025-13", "to": "2025-12"}}), encoding="utf-8")
    with pytest.raises(CommandError, match="periods.from"):
        call_command("billing", "simulate", "--scenario", str(path))
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="not JSON"):
        call_command("billing", "simulate", "--scenario", str(path))
