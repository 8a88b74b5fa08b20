"""The penalty for late payment of housing and utility bills (Housing Code art. 155 p. 14).

A pure function: debts and payments in, the penalty out; the tables it needs (key rate, penalty rule)
are looked up through callables that default to :mod:`okno.billing.rules`.

The rule, as implemented:

* day 1 of delay is the day after the due date; days 1–30 (``grace_days``) accrue nothing;
* from the 31st to the 90th day the debt accrues ``rate / 300`` a day, from the 91st day
  (``second_from_day``) ``rate / 130`` a day (the divisors are data of :class:`PenaltyRule`);
* ``rate`` is the key rate in effect on the day of actual payment — for a debt still unpaid, on
  ``as_of`` — and days are counted up to and including the payment day (or ``as_of``);
* where the :class:`PenaltyRule` in force on that rate day has ``cap_rate``, the lesser of the cap and
  the key rate is used (28 Feb 2022 – 31 Dec 2024: 9.5 %);
* a day on which a rule with ``suspended`` (a moratorium) is in force accrues nothing; the numbering
  of days (31st, 91st) goes on through it;
* payments are applied in date order: to the period they name first, then to the oldest debt; the part
  of a debt paid on a day stops accruing from the next day (a partial payment splits the debt into a
  paid tranche, rated on its payment day, and the rest);
* the penalty of each debt is the sum of its tranches, rounded to the kopeck half up (Decimal only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from okno.billing import rules


@dataclass(frozen=True)
class Debt:
    period: dt.date
    due_date: dt.date
    amount_kop: int


@dataclass(frozen=True)
class Paid:
    paid_on: dt.date
    amount_kop: int
    period: dt.date | None = None


@dataclass(frozen=True)
class PenaltyLine:
    """The penalty of one tranche of a debt: ``base_kop`` paid on ``paid_on`` (``None``: unpaid on
    the day of calculation). ``amount_kop`` is exact (not rounded); the debt's total is rounded."""

    period: dt.date
    amount_kop: Decimal
    days_first: int
    days_second: int
    rate: Decimal
    base_kop: int
    paid_on: dt.date | None


@dataclass(frozen=True)
class PenaltyResult:
    total_kop: int
    lines: list[PenaltyLine] = field(default_factory=list)
    by_period: dict[dt.date, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Params:
    grace_days: int = 30
    first_divisor: int = 300
    second_from_day: int = 91
    second_divisor: int = 130
    cap_rate: Decimal | None = None


def _params(rule: Any) -> _Params:
    if rule is None:
        return _Params()
    return _Params(
        grace_days=rule.grace_days,
        first_divisor=rule.first_divisor,
        second_from_day=rule.second_from_day,
        second_divisor=rule.second_divisor,
        cap_rate=rule.cap_rate,
    )


def _rule_key(rule: Any) -> Any:
    return None if rule is None else getattr(rule, "valid_from", rule)


class _Suspensions:
    """Days on which a suspended rule is in force, found by bisection over the rule lookup (rules are
    piecewise constant in time, so a rule in force on both ends of a span is in force throughout)."""

    def __init__(self, rule_on: Callable[[dt.date], Any]):
        self._rule_on = rule_on
        self._cache: dict[dt.date, Any] = {}

    def _rule(self, day: dt.date) -> Any:
        if day not in self._cache:
            self._cache[day] = self._rule_on(day)
        return self._cache[day]

    def active_days(self, first: dt.date, last: dt.date) -> int:
        """Days from ``first`` to ``last`` inclusive on which penalties accrue."""
        if last < first:
            return 0
        a, b = self._rule(first), self._rule(last)
        if _rule_key(a) == _rule_key(b):
            suspended = bool(getattr(a, "suspended", False))
            return 0 if suspended else (last - first).days + 1
        middle = first + dt.timedelta(days=(last - first).days // 2)
        return self.active_days(first, middle) + self.active_days(middle + dt.timedelta(days=1), last)


def _tranches(
    debts: list[Debt], payments: list[Paid], as_of: dt.date
) -> list[list[tuple[dt.date | None, int]]]:
    """For each debt, the parts of it paid on each day and the part still unpaid (``None``)."""
    open_kop = [max(0, d.amount_kop) for d in debts]
    parts: list[list[tuple[dt.date | None, int]]] = [[] for _ in debts]
    order = sorted(range(len(debts)), key=lambda i: (debts[i].period, debts[i].due_date))
    for payment in sorted(payments, key=lambda p: p.paid_on):
        if payment.paid_on > as_of or payment.amount_kop <= 0:
            continue
        rest = payment.amount_kop
        named = [i for i in order if debts[i].period == payment.period] if payment.period else []
        for i in named + [i for i in order if i not in named]:
            if rest <= 0:
                break
            take = min(rest, open_kop[i])
            if take > 0:
                open_kop[i] -= take
                parts[i].append((payment.paid_on, take))
                rest -= take
    for i, rest in enumerate(open_kop):
        if rest > 0:
            parts[i].append((None, rest))
    return parts


def compute_penalty(
    debts: list[Debt],
    payments: list[Paid],
    as_of: dt.date,
    *,
    key_rate_on: Callable[[dt.date], Decimal] = rules.key_rate_on,
    rule_on: Callable[[dt.date], Any] = rules.penalty_rule_on,
) -> PenaltyResult:
    """The penalty accrued on ``debts`` up to ``as_of`` given ``payments`` (see the module's rules)."""
    suspensions = _Suspensions(rule_on)
    lines: list[PenaltyLine] = []
    by_period: dict[dt.date, int] = {}
    total = 0
    with localcontext() as ctx:
        ctx.prec = 50
        for debt, tranches in zip(debts, _tranches(debts, payments, as_of), strict=True):
            exact = Decimal(0)
            for paid_on, base in tranches:
                rate_day = paid_on or as_of
                delay = (rate_day - debt.due_date).days  # the number of the last day of delay
                params = _params(rule_on(rate_day))
                if delay <= params.grace_days:
                    continue

                def day(n: int, due: dt.date = debt.due_date) -> dt.date:  # the n-th day of delay
                    return due + dt.timedelta(days=n)

                first_last = min(delay, params.second_from_day - 1)
                days_first = suspensions.active_days(day(params.grace_days + 1), day(first_last))
                days_second = (
                    suspensions.active_days(day(params.second_from_day), day(delay))
                    if delay >= params.second_from_day
                    else 0
                )
                if days_first + days_second == 0:
                    continue
                rate = Decimal(key_rate_on(rate_day))
                if params.cap_rate is not None:
                    rate = min(rate, Decimal(params.cap_rate))
                amount = (
                    Decimal(base)
                    * rate
                    / 100
                    * (
                        Decimal(days_first) / params.first_divisor
                        + Decimal(days_second) / params.second_divisor
                    )
                )
                exact += amount
                lines.append(
                    PenaltyLine(
                        period=debt.period,
                        amount_kop=amount,
                        days_first=days_first,
                        days_second=days_second,
                        rate=rate,
                        base_kop=base,
                        paid_on=paid_on,
                    )
                )
            rounded = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
            if rounded:
                by_period[debt.period] = by_period.get(debt.period, 0) + rounded
            total += rounded
    return PenaltyResult(total_kop=total, lines=lines, by_period=by_period)
