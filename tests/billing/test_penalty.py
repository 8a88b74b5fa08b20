"""The late-payment penalty (Housing Code art. 155 p. 14), worked out by hand.

Formula for a tranche: base × rate / 100 × (days 31–90 / 300 + days from 91 / 130), rate = the key rate
on the payment day (or the day of calculation for an unpaid debt), capped at 9.5 % from 28.02.2022 to
31.12.2024; the debt's total rounded to the kopeck half up. Day 1 is the day after the due date.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from okno.billing.penalty import Debt, Paid, compute_penalty

D = dt.date


def flat(rate: str):
    """A key rate that never changes and no penalty rule (the default 30 / 300 / 91 / 130, no cap)."""
    return {"key_rate_on": lambda day: Decimal(rate), "rule_on": lambda day: None}


# --- with the key-rate history of the reference data ---------------------------------------------


@pytest.mark.django_db
def test_penalty_across_the_31st_and_91st_days(reference_data):
    from okno.billing import rules

    debt = Debt(period=D(2025, 1, 1), due_date=rules.due_date(D(2025, 1, 1)), amount_kop=1_000_000)
    assert debt.due_date == D(2025, 2, 10)  # periods before March 2026: by the 10th

    # Day 30 of delay is 12.03.2025 (Feb: 18 days after the 10th + 12 of March): nothing yet.
    assert compute_penalty([debt], [], D(2025, 3, 12)).total_kop == 0
    # Day 31 (13.03.2025), key rate 21 % (from 28.10.2024): 1 000 000 × 0.21 / 300 = 700.00 kop.
    assert compute_penalty([debt], [], D(2025, 3, 13)).total_kop == 700
    # Day 90 (11.05.2025): 60 days × 1 000 000 × 0.21 / 300 = 42 000 kop.
    assert compute_penalty([debt], [], D(2025, 5, 11)).total_kop == 42_000
    # Day 91 (12.05.2025): 42 000 + 1 000 000 × 0.21 / 130 = 42 000 + 1 615.3846 = 43 615.38 → 43 615.
    assert compute_penalty([debt], [], D(2025, 5, 12)).total_kop == 43_615

    # Day 120 (10.06.2025: 18 + 31 + 30 + 31 + 10), key rate 20 % from 09.06.2025:
    # 1 000 000 × 0.20 × (60/300 + 30/130) = 40 000 + 46 153.846 = 86 153.846 → 86 154 kop (861.54 ₽).
    result = compute_penalty([debt], [], D(2025, 6, 10))
    assert result.total_kop == 86_154
    [line] = result.lines
    assert (line.days_first, line.days_second, line.rate, line.base_kop, line.paid_on) == (
        60,
        30,
        Decimal("20.00"),
        1_000_000,
        None,
    )
    assert result.by_period == {D(2025, 1, 1): 86_154}


@pytest.mark.django_db
def test_key_rate_of_the_payment_day_applies_not_of_the_due_date(reference_data):
    # Due 10.05.2025 (key rate 21 %), paid in full 15.08.2025 (key rate 18 % from 28.07.2025).
    # Days: 21 (May) + 30 + 31 + 15 = 97 → 60 days at 1/300 and 7 days (91st–97th) at 1/130.
    # 500 000 × 0.18 × (60/300 + 7/130) = 18 000 + 4 846.1538 = 22 846.15 → 22 846 kop.
    # (At the due date's 21 % it would be 21 000 + 5 653.85 = 26 653.85.)
    debt = Debt(period=D(2025, 4, 1), due_date=D(2025, 5, 10), amount_kop=500_000)
    result = compute_penalty([debt], [Paid(D(2025, 8, 15), 500_000)], D(2025, 12, 31))
    assert result.total_kop == 22_846
    assert result.lines[0].rate == Decimal("18.00")
    assert result.lines[0].paid_on == D(2025, 8, 15)


@pytest.mark.django_db
def test_in_2024_the_rate_is_capped_at_9_5_percent(reference_data):
    # Due 10.02.2024, paid 20.06.2024 when the key rate was 16 %; the rule of 28.02.2022 caps it at 9.5 %.
    # Days: 19 (Feb 2024 has 29) + 31 + 30 + 31 + 20 = 131 → 60 at 1/300, 41 at 1/130.
    # 300 000 × 0.095 × (60/300 + 41/130) = 5 700 + 8 988.4615 = 14 688.46 → 14 688 kop.
    debt = Debt(period=D(2024, 1, 1), due_date=D(2024, 2, 10), amount_kop=300_000)
    result = compute_penalty([debt], [Paid(D(2024, 6, 20), 300_000)], D(2024, 12, 31))
    assert result.total_kop == 14_688
    assert result.lines[0].rate == Decimal("9.50")


@pytest.mark.django_db
def test_under_the_cap_the_lower_key_rate_applies(reference_data):
    # Due 10.06.2022, paid 20.09.2022 (key rate 7.5 % from 19.09.2022 < the 9.5 % cap).
    # Days: 20 + 31 + 31 + 20 = 102 → 60 at 1/300, 12 at 1/130.
    # 300 000 × 0.075 × (60/300 + 12/130) = 4 500 + 2 076.923 = 6 576.92 → 6 577 kop.
    debt = Debt(period=D(2022, 5, 1), due_date=D(2022, 6, 10), amount_kop=300_000)
    result = compute_penalty([debt], [Paid(D(2022, 9, 20), 300_000)], D(2022, 12, 31))
    assert result.total_kop == 6_577
    assert result.lines[0].rate == Decimal("7.50")


@pytest.mark.django_db
def test_in_2026_the_rate_is_not_capped(reference_data):
    from okno.billing import rules
    from okno.billing.models import KeyRate

    # Our own key rates for 2026 (the reference data ends in 2025).
    KeyRate.objects.create(valid_from=D(2026, 3, 23), rate=Decimal("15.00"))
    KeyRate.objects.create(valid_from=D(2026, 6, 8), rate=Decimal("14.00"))
    assert rules.due_date(D(2026, 1, 1)) == D(2026, 2, 10)  # January 2026: still by the 10th
    # The 15th-day rule took effect on 1 March 2026: the February bill, due in March, is due on the 15th.
    assert rules.due_date(D(2026, 2, 1)) == D(2026, 3, 15)
    due = rules.due_date(D(2026, 3, 1))
    assert due == D(2026, 4, 15)

    # Paid 01.08.2026 (key rate 14 %). Days: 15 (April) + 31 + 30 + 31 + 1 = 108 → 60 + 18.
    # 250 000 × 0.14 × (60/300 + 18/130) = 7 000 + 4 846.1538 = 11 846.15 → 11 846 kop.
    debt = Debt(period=D(2026, 3, 1), due_date=due, amount_kop=250_000)
    result = compute_penalty([debt], [Paid(D(2026, 8, 1), 250_000)], D(2026, 9, 30))
    assert result.total_kop == 11_846
    assert result.lines[0].rate == Decimal("14.00")


@pytest.mark.django_db
def test_a_partial_payment_stops_the_paid_part_accruing(reference_data):
    # 10 000 ₽ due 10.02.2025; 4 000 ₽ paid 01.04.2025 (day 50: 18 + 31 + 1), the rest unpaid on 10.06.2025.
    # Paid part: 400 000 × 0.21 (rate of 01.04.2025) × 20 days (31st–50th) / 300 = 5 600 kop.
    # Rest: 600 000 × 0.20 (rate of 10.06.2025) × (60/300 + 30/130) = 24 000 + 27 692.3077 = 51 692.31.
    # Total 57 292.31 → 57 292 kop.
    debt = Debt(period=D(2025, 1, 1), due_date=D(2025, 2, 10), amount_kop=1_000_000)
    result = compute_penalty([debt], [Paid(D(2025, 4, 1), 400_000)], D(2025, 6, 10))
    assert result.total_kop == 57_292
    paid, rest = result.lines
    assert (paid.base_kop, paid.days_first, paid.days_second, paid.rate, paid.amount_kop) == (
        400_000,
        20,
        0,
        Decimal("21.00"),
        Decimal("5600"),
    )
    assert (rest.base_kop, rest.days_first, rest.days_second, rest.rate) == (
        600_000,
        60,
        30,
        Decimal("20.00"),
    )


# --- pure arithmetic with a flat rate -----------------------------------------------------------


def test_payments_go_to_the_oldest_debt_unless_a_period_is_named():
    jan = Debt(period=D(2025, 1, 1), due_date=D(2025, 2, 10), amount_kop=100_000)
    feb = Debt(period=D(2025, 2, 1), due_date=D(2025, 3, 10), amount_kop=100_000)
    as_of = D(2025, 5, 10)
    # Not named: the 1 000 ₽ of 20.04.2025 pays January on its day 69 (18 + 31 + 20) → 39 days:
    # 100 000 × 0.10 × 39/300 = 1 300; February unpaid on 10.05 (day 61: 21 + 30 + 10) → 31 days:
    # 100 000 × 0.10 × 31/300 = 1 033.33 → 1 033. Total 2 333.
    fifo = compute_penalty([jan, feb], [Paid(D(2025, 4, 20), 100_000)], as_of, **flat("10"))
    assert fifo.by_period == {D(2025, 1, 1): 1_300, D(2025, 2, 1): 1_033}
    assert fifo.total_kop == 2_333
    # Named February: February paid on its day 41 (21 + 20) → 11 days: 366.67 → 367; January unpaid on
    # day 89 → 59 days: 100 000 × 0.10 × 59/300 = 1 966.67 → 1 967. Total 2 334.
    named = compute_penalty([jan, feb], [Paid(D(2025, 4, 20), 100_000, D(2025, 2, 1))], as_of, **flat("10"))
    assert named.by_period == {D(2025, 1, 1): 1_967, D(2025, 2, 1): 367}
    assert named.total_kop == 2_334


def test_paid_within_30_days_or_in_advance_accrues_nothing():
    debt = Debt(period=D(2025, 1, 1), due_date=D(2025, 2, 10), amount_kop=100_000)
    # Paid on day 30 (12.03.2025), the last day of grace.
    assert (
        compute_penalty([debt], [Paid(D(2025, 3, 12), 100_000)], D(2025, 12, 31), **flat("10")).total_kop == 0
    )
    # An advance made before the bill.
    result = compute_penalty([debt], [Paid(D(2025, 1, 5), 100_000)], D(2025, 12, 31), **flat("10"))
    assert result.total_kop == 0
    assert result.lines == []
    # A payment after the day of calculation is not counted yet: 10 days unpaid at 1/300 on 21.03.2025
    # (day 39): 100 000 × 0.10 × 9/300 = 300 kop.
    assert (
        compute_penalty([debt], [Paid(D(2025, 4, 1), 100_000)], D(2025, 3, 21), **flat("10")).total_kop == 300
    )


def test_the_total_per_debt_is_rounded_half_up():
    # 1 500 × 0.10 / 300 = 0.5 kop → 1 (banker's rounding would give 0).
    debt = Debt(period=D(2025, 1, 1), due_date=D(2025, 2, 10), amount_kop=1_500)
    assert compute_penalty([debt], [], D(2025, 3, 13), **flat("10")).total_kop == 1
    # Two tranches of 0.25 each are summed before rounding: 0.5 → 1 (not 0 + 0).
    debt = Debt(period=D(2025, 1, 1), due_date=D(2025, 2, 10), amount_kop=1_500)
    result = compute_penalty([debt], [Paid(D(2025, 3, 13), 750)], D(2025, 3, 13), **flat("10"))
    assert [line.amount_kop for line in result.lines] == [Decimal("0.25"), Decimal("0.25")]
    assert result.total_kop == 1


def test_no_penalty_accrues_while_a_suspending_rule_is_in_force():
    normal = SimpleNamespace(
        valid_from=D(2016, 1, 1),
        cap_rate=None,
        grace_days=30,
        first_divisor=300,
        second_from_day=91,
        second_divisor=130,
        suspended=False,
    )
    moratorium = SimpleNamespace(**{**vars(normal), "valid_from": D(2025, 3, 1), "suspended": True})
    after = SimpleNamespace(**{**vars(normal), "valid_from": D(2025, 3, 21)})

    def rule_on(day):
        return after if day >= after.valid_from else moratorium if day >= moratorium.valid_from else normal

    # Due 10.01.2025; on 31.03.2025 it is day 80 (21 + 28 + 31); days 31–80 are 10.02–31.03 = 50 days,
    # of which 01.03–20.03 (20 days) are under the moratorium → 30 days.
    # 300 000 × 0.10 × 30/300 = 3 000 kop.
    debt = Debt(period=D(2024, 12, 1), due_date=D(2025, 1, 10), amount_kop=300_000)
    result = compute_penalty([debt], [], D(2025, 3, 31), key_rate_on=lambda d: Decimal("10"), rule_on=rule_on)
    assert result.lines[0].days_first == 30
    assert result.total_kop == 3_000
