"""The ledger: balances at dates, overdue debt, debt by period, penalties posted once, adjustments."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from okno.billing import ledger
from okno.billing.models import LedgerEntry, Payment

D = dt.date
Kind = LedgerEntry.Kind


def charge(account, period: dt.date, amount_kop: int) -> LedgerEntry:
    """A period's charge as the billing run posts it (entry on the last day, due by the rules)."""
    from okno.billing import rules
    from okno.billing.periods import month_end

    return LedgerEntry.objects.create(
        account=account,
        kind=Kind.CHARGE,
        period=period,
        entry_date=month_end(period),
        due_date=rules.due_date(period),
        amount_kop=amount_kop,
    )


def pay(account, paid_on: dt.date, amount_kop: int, period: dt.date | None = None, pid: str = "") -> Payment:
    from okno.billing.payments import register_payment

    return register_payment(
        amount_kop=amount_kop,
        paid_on=paid_on,
        source=Payment.Source.REGISTRY,
        account=account,
        provider="test",
        external_id=pid or f"{account.pk}-{paid_on}-{amount_kop}-{period}",
        period=period,
    )


@pytest.fixture
def acc(customers):
    return customers.acc_ivanov


def test_balance_at_dates(acc, customers):
    charge(acc, D(2025, 1, 1), 100_000)  # 1 000 ₽ on 31.01, due 10.02
    pay(acc, D(2025, 2, 5), 60_000)
    charge(acc, D(2025, 2, 1), 80_000)  # on 28.02
    assert ledger.balance_kop(acc.pk, D(2025, 1, 30)) == 0
    assert ledger.balance_kop(acc.pk, D(2025, 1, 31)) == 100_000
    assert ledger.balance_kop(acc.pk, D(2025, 2, 5)) == 40_000
    assert ledger.balance_kop(acc.pk, D(2025, 2, 28)) == 120_000
    assert ledger.balance_kop(acc.pk) == 120_000
    other = customers.acc_romashka
    assert ledger.balances_kop(D(2025, 2, 5), [acc.pk, other.pk]) == {acc.pk: 40_000, other.pk: 0}
    assert ledger.balances_kop(D(2025, 2, 28)) == {acc.pk: 120_000}


def test_balances_of_many_accounts_in_one_query(acc, customers, django_assert_num_queries):
    charge(acc, D(2025, 1, 1), 100_000)
    charge(customers.acc_romashka, D(2025, 1, 1), 5_000)
    with django_assert_num_queries(1):
        result = ledger.balances_kop(D(2025, 12, 31))
    assert result == {acc.pk: 100_000, customers.acc_romashka.pk: 5_000}
    with django_assert_num_queries(1):
        overdue = ledger.overdue_by_account(D(2025, 12, 31))
    assert overdue == {acc.pk: 100_000, customers.acc_romashka.pk: 5_000}


def test_debt_is_overdue_only_after_its_due_date(acc):
    charge(acc, D(2025, 1, 1), 100_000)  # due 10.02.2025
    charge(acc, D(2025, 2, 1), 80_000)  # due 10.03.2025
    pay(acc, D(2025, 2, 5), 60_000)
    assert ledger.overdue_kop(acc.pk, D(2025, 2, 10)) == 0  # the due day itself is not late
    assert ledger.overdue_kop(acc.pk, D(2025, 2, 11)) == 40_000
    # February's charge is on the balance from 28.02 but overdue only from 11.03.
    assert ledger.overdue_kop(acc.pk, D(2025, 3, 10)) == 40_000
    assert ledger.overdue_kop(acc.pk, D(2025, 3, 11)) == 120_000
    assert ledger.overdue_by_account(D(2025, 3, 11)) == {acc.pk: 120_000}
    assert ledger.overdue_by_account(D(2025, 3, 11), account_ids=[acc.pk + 1000]) == {}
    pay(acc, D(2025, 3, 20), 200_000)  # 80 000 more than owed: an advance, never negative debt
    assert ledger.overdue_kop(acc.pk, D(2025, 3, 21)) == 0
    assert ledger.balance_kop(acc.pk, D(2025, 3, 21)) == -80_000
    assert ledger.overdue_by_account(D(2025, 3, 21)) == {}


def test_money_by_account_is_balance_and_overdue_in_one_query(acc, customers, django_assert_num_queries):
    other, empty = customers.acc_romashka, customers.acc_ivanov.pk + 1000
    charge(acc, D(2025, 1, 1), 100_000)  # due 10.02.2025
    charge(acc, D(2025, 2, 1), 80_000)  # due 10.03.2025
    pay(acc, D(2025, 2, 5), 60_000)
    LedgerEntry.objects.create(account=acc, kind=Kind.PENALTY, entry_date=D(2025, 2, 20), amount_kop=1_500)
    # A negative penalty (a correction) lowers the balance but pays no debt.
    LedgerEntry.objects.create(account=acc, kind=Kind.PENALTY, entry_date=D(2025, 2, 21), amount_kop=-500)
    charge(other, D(2025, 1, 1), 5_000)
    pay(other, D(2025, 1, 20), 9_000)  # paid ahead: overdue 0, balance −40.00 ₽ by 11.03
    for day in (D(2025, 1, 31), D(2025, 2, 11), D(2025, 3, 11)):
        with django_assert_num_queries(1):
            money = ledger.money_by_account(day, [acc.pk, other.pk, empty])
        balances = ledger.balances_kop(day, [acc.pk, other.pk, empty])
        overdue = ledger.overdue_by_account(day, [acc.pk, other.pk, empty])
        assert money == {a: (balances[a], overdue.get(a, 0)) for a in (acc.pk, other.pk, empty)}
    # 11.03: 1 000 + 800 − 600 + 15 − 5 = 1 210 ₽ on the balance; 1 800 − 600 = 1 200 ₽ overdue.
    assert money[acc.pk] == (121_000, 120_000)
    assert money[other.pk] == (-4_000, 0)
    assert money[empty] == (0, 0)
    assert ledger.money_by_account(D(2025, 3, 11), []) == {}


def test_money_by_account_agrees_with_balances_and_overdue_on_edge_cases(acc, customers):
    """A negative charge (a recalculation larger than the charges) pays debt; a debit without a due
    date is never overdue; a negative penalty pays nothing; entries after the day are left out."""
    other = customers.acc_romashka
    charge(acc, D(2025, 1, 1), 100_000)  # due 10.02.2025
    LedgerEntry.objects.create(
        account=acc,
        kind=Kind.CHARGE,
        period=D(2025, 2, 1),
        entry_date=D(2025, 2, 28),
        due_date=D(2025, 3, 10),
        amount_kop=-30_000,
    )
    LedgerEntry.objects.create(account=acc, kind=Kind.ADJUSTMENT, entry_date=D(2025, 2, 3), amount_kop=7_000)
    LedgerEntry.objects.create(
        account=acc,
        kind=Kind.RECALCULATION,
        entry_date=D(2025, 1, 31),
        due_date=D(2025, 2, 10),
        amount_kop=2_000,
    )
    LedgerEntry.objects.create(
        account=acc, kind=Kind.PENALTY, entry_date=D(2025, 2, 15), due_date=D(2025, 2, 16), amount_kop=900
    )
    LedgerEntry.objects.create(account=acc, kind=Kind.PENALTY, entry_date=D(2025, 2, 20), amount_kop=-400)
    pay(acc, D(2025, 4, 2), 50_000)  # after every day asked about but the last
    charge(other, D(2025, 1, 1), 5_000)
    LedgerEntry.objects.create(
        account=other, kind=Kind.ADJUSTMENT, entry_date=D(2025, 1, 5), amount_kop=-9_000
    )
    ids = [acc.pk, other.pk]
    for day in (D(2025, 1, 30), D(2025, 2, 10), D(2025, 2, 11), D(2025, 3, 1), D(2025, 3, 31), D(2025, 4, 2)):
        balances = ledger.balances_kop(day, ids)
        overdue = ledger.overdue_by_account(day, ids)
        assert ledger.money_by_account(day, ids) == {a: (balances[a], overdue.get(a, 0)) for a in ids}, day
    # 01.03: 1 000 + 20 + 70 + 9 − 4 − 300 = 795 ₽; overdue 1 020 due by 10.02 − the 300 ₽ negative charge.
    assert ledger.money_by_account(D(2025, 3, 1), ids)[acc.pk] == (79_500, 72_000)
    # 02.04: the payment counts; the adjustment without a due date never becomes overdue.
    assert ledger.money_by_account(D(2025, 4, 2), ids)[acc.pk] == (29_500, 22_000)
    assert ledger.money_by_account(D(2025, 3, 1), ids)[other.pk] == (-4_000, 0)


def test_debt_by_period_is_paid_oldest_first(acc):
    charge(acc, D(2025, 1, 1), 100_000)
    charge(acc, D(2025, 2, 1), 120_000)
    payment = pay(acc, D(2025, 3, 5), 150_000)
    debts = ledger.period_debts(acc.pk, D(2025, 3, 31))
    assert [(d.period, d.due_date, d.charged_kop, d.paid_kop, d.open_kop) for d in debts] == [
        (D(2025, 1, 1), D(2025, 2, 10), 100_000, 100_000, 0),
        (D(2025, 2, 1), D(2025, 3, 10), 120_000, 50_000, 70_000),
    ]
    assert sorted((a.period, a.amount_kop) for a in payment.allocations.all()) == [
        (D(2025, 1, 1), 100_000),
        (D(2025, 2, 1), 50_000),
    ]


def test_a_payment_naming_a_period_pays_it_first(acc):
    charge(acc, D(2025, 1, 1), 100_000)
    charge(acc, D(2025, 2, 1), 120_000)
    payment = pay(acc, D(2025, 3, 5), 150_000, period=D(2025, 2, 1))
    debts = ledger.period_debts(acc.pk, D(2025, 3, 31))
    assert [(d.period, d.paid_kop, d.open_kop) for d in debts] == [
        (D(2025, 1, 1), 30_000, 70_000),
        (D(2025, 2, 1), 120_000, 0),
    ]
    assert sorted((a.period, a.amount_kop) for a in payment.allocations.all()) == [
        (D(2025, 1, 1), 30_000),
        (D(2025, 2, 1), 120_000),
    ]


def test_an_advance_pays_the_next_charge(acc):
    payment = pay(acc, D(2025, 1, 10), 50_000)
    assert [(a.period, a.amount_kop) for a in payment.allocations.all()] == [(None, 50_000)]
    assert ledger.balance_kop(acc.pk, D(2025, 1, 10)) == -50_000
    charge(acc, D(2025, 1, 1), 100_000)
    [debt] = ledger.period_debts(acc.pk, D(2025, 2, 28))
    assert (debt.charged_kop, debt.paid_kop, debt.open_kop) == (100_000, 50_000, 50_000)
    assert ledger.overdue_kop(acc.pk, D(2025, 2, 11)) == 50_000


def test_post_penalties_posts_the_difference_once(acc, customers):
    from okno.billing.models import BillingRun

    charge(acc, D(2025, 1, 1), 1_000_000)  # 10 000 ₽ due 10.02.2025
    late = charge(customers.acc_romashka, D(2025, 4, 1), 10_000)
    LedgerEntry.objects.filter(pk=late.pk).update(
        due_date=D(2025, 5, 20)
    )  # 21 days late on 10.06: no penalty
    run = BillingRun.objects.create(period=D(2025, 6, 1))
    # As in test_penalty: day 120 on 10.06.2025, key rate 20 %: 40 000 + 46 153.85 → 86 154 kop.
    result = ledger.post_penalties(as_of=D(2025, 6, 10), run=run)
    assert result == {"accounts_checked": 2, "posted": 1, "total_kop": 86_154, "skipped": 0}
    [entry] = LedgerEntry.objects.filter(kind=Kind.PENALTY)
    assert (entry.account_id, entry.amount_kop, entry.entry_date, entry.period, entry.run_id) == (
        acc.pk,
        86_154,
        D(2025, 6, 10),
        D(2025, 6, 1),
        run.pk,
    )
    # Again for the same day: nothing new.
    assert ledger.post_penalties(as_of=D(2025, 6, 10))["posted"] == 0
    assert LedgerEntry.objects.filter(kind=Kind.PENALTY).count() == 1

    # 30.06.2025, day 140: 1 000 000 × 0.20 × (60/300 + 50/130) = 40 000 + 76 923.08 = 116 923 → +30 769;
    # Ромашка's day 41: 10 000 × 0.20 × 11/300 = 73.33 → 73.
    assert ledger.post_penalties(as_of=D(2025, 6, 30))["total_kop"] == 30_769 + 73
    assert ledger.penalty_posted_kop(acc.pk) == 116_923
    # Paid in full on 15.07.2025 (day 155, rate 20 %): 40 000 + 200 000 × 65/130 = 140 000 → +23 077,
    # found although the account is no longer overdue on 31.07.
    pay(acc, D(2025, 7, 15), 1_000_000)
    posted = ledger.post_penalties(as_of=D(2025, 7, 31))
    assert ledger.penalty_posted_kop(acc.pk) == 140_000
    assert (
        LedgerEntry.objects.get(account=acc, kind=Kind.PENALTY, entry_date=D(2025, 7, 31)).amount_kop
        == 23_077
    )
    # Ромашка, still unpaid, day 72 on 31.07 (rate 18 % from 28.07): 10 000 × 0.18 × 42/300 = 252 → +179.
    assert posted["total_kop"] == 23_077 + 179
    assert ledger.post_penalties(as_of=D(2025, 8, 31), account_ids=[acc.pk])["posted"] == 0
    # The penalty is owed on the balance but is not debt by period.
    assert ledger.balance_kop(acc.pk) == 140_000
    assert ledger.overdue_kop(acc.pk, D(2025, 8, 31)) == 0


def test_post_penalties_for_chosen_accounts(acc, customers):
    charge(acc, D(2025, 1, 1), 1_000_000)
    charge(customers.acc_romashka, D(2025, 1, 1), 1_000_000)
    result = ledger.post_penalties(as_of=D(2025, 6, 10), account_ids=[customers.acc_romashka.pk])
    assert result == {"accounts_checked": 1, "posted": 1, "total_kop": 86_154, "skipped": 0}
    assert list(LedgerEntry.objects.filter(kind=Kind.PENALTY).values_list("account_id", flat=True)) == [
        customers.acc_romashka.pk
    ]


def test_a_payment_registered_late_corrects_the_posted_penalty(acc, customers):
    charge(acc, D(2025, 6, 1), 100_000)  # 1 000.00 ₽ due 10.07.2025
    # 30.09.2025, unpaid: delay 11.07–30.09 = 21 + 31 + 30 = 82 days, days 31–82 = 52 at 1/300 of the
    # rate on the day of calculation (17 % from 15.09): 100 000 × 0.17 × 52/300 = 2 946.67 → 2 947.
    assert ledger.post_penalties(as_of=D(2025, 9, 30))["total_kop"] == 2_947
    # A registry arrives in October with a payment made on 20.09: delay 11.07–20.09 = 72 days, days
    # 31–72 = 42 at the rate of the payment day (17 %): 100 000 × 0.17 × 42/300 = 2 380.
    # Not overdue on any day sampled since 30.09, the account is found by its late payment.
    pay(acc, D(2025, 9, 20), 100_000)
    result = ledger.post_penalties(as_of=D(2025, 10, 31))
    assert result == {"accounts_checked": 1, "posted": 1, "total_kop": 2_380 - 2_947, "skipped": 0}
    assert (
        ledger.penalty_posted_kop(acc.pk)
        == 2_380
        == ledger.penalty_to_date(acc.pk, D(2025, 10, 31)).total_kop
    )
    # Seen once: the next posting has nothing to check.
    assert ledger.post_penalties(as_of=D(2025, 11, 30))["accounts_checked"] == 0


def test_a_negative_penalty_is_not_a_payment(acc):
    charge(acc, D(2025, 6, 1), 100_000)
    LedgerEntry.objects.create(
        account=acc, kind=Kind.PENALTY, period=D(2025, 9, 1), entry_date=D(2025, 9, 30), amount_kop=-500
    )
    assert ledger.overdue_kop(acc.pk, D(2025, 10, 31)) == 100_000
    assert ledger.overdue_by_account(D(2025, 10, 31)) == {acc.pk: 100_000}
    [debt] = ledger.period_debts(acc.pk, D(2025, 10, 31))
    assert debt.open_kop == 100_000


def test_an_account_without_a_key_rate_is_skipped_not_the_posting(acc, customers, caplog):
    from okno.billing.models import KeyRate

    KeyRate.objects.filter(valid_from__lt=D(2025, 6, 9)).delete()  # no rate known before 09.06.2025
    charge(acc, D(2025, 1, 1), 1_000_000)  # unpaid: the rate of 10.06 (20 %), as above 86 154 kop.
    charge(customers.acc_romashka, D(2025, 1, 1), 1_000_000)
    pay(customers.acc_romashka, D(2025, 6, 5), 1_000_000, pid="r-1")  # 115 days late: the rate of 05.06
    result = ledger.post_penalties(as_of=D(2025, 6, 10))
    assert result == {"accounts_checked": 2, "posted": 1, "total_kop": 86_154, "skipped": 1}
    assert ledger.penalty_posted_kop(customers.acc_romashka.pk) == 0
    assert "1 accounts skipped for want of a key rate" in caplog.text


def test_adjustment_needs_permission_and_a_note(acc, org):
    with pytest.raises(PermissionDenied):
        ledger.post_adjustment(account=acc, amount_kop=-5_000, note="goodwill", actor=org.operator_a)
    with pytest.raises(ValidationError) as err:
        ledger.post_adjustment(account=acc, amount_kop=-5_000, note="  ", actor=org.head_a)
    assert err.value.message_dict == {"note": ["Give the reason for the adjustment."]}
    with pytest.raises(ValidationError) as err:
        ledger.post_adjustment(account=acc, amount_kop=0, note="x", actor=org.head_a)
    assert "amount" in err.value.message_dict
    assert not LedgerEntry.objects.exists()

    credit = ledger.post_adjustment(
        account=acc, amount_kop=-5_000, note="Meter fault", actor=org.head_a, entry_date=D(2025, 3, 3)
    )
    assert (credit.kind, credit.amount_kop, credit.created_by, credit.due_date) == (
        Kind.ADJUSTMENT,
        -5_000,
        org.head_a,
        None,
    )
    debit = ledger.post_adjustment(
        account=acc, amount_kop=7_000, note="Undercharge", actor=org.head_a, entry_date=D(2025, 3, 3)
    )
    assert debit.due_date == D(2025, 4, 10)  # due with March's bill
    from okno.core.models import ChangeLog

    logged = ChangeLog.objects.get(object_type="billing.ledgerentry", object_id=str(debit.pk))
    assert (logged.action, logged.actor, logged.after["note"]) == ("create", org.head_a, "Undercharge")
    assert ledger.balance_kop(acc.pk) == 2_000
    assert ledger.overdue_kop(acc.pk, D(2025, 4, 11)) == 2_000
