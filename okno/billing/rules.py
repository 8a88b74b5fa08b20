"""Rules with effective dates: the payment due day, the key rate, the penalty rule, the norm.

All are data (admin-editable tables loaded by migration 0002); these lookups read them through a
short-lived process cache so that bulk work does not query per row.
"""

from __future__ import annotations

import bisect
import datetime as dt
from decimal import Decimal

from okno.billing.periods import add_months
from okno.core.cache import ProcessCache


def _loader(model_name: str):
    def load() -> list:
        from okno.billing import models

        return list(getattr(models, model_name).objects.order_by("valid_from"))

    return load


_caches: dict[str, ProcessCache[list]] = {
    name: ProcessCache(_loader(name)) for name in ("DueDayRule", "KeyRate", "PenaltyRule")
}


def _table(model_name: str) -> list:
    return _caches[model_name].get()


def clear_cache(**kwargs: object) -> None:
    """Drop the cached tables (connected to the models' save and delete signals)."""
    for cache in _caches.values():
        cache.invalidate()


def _effective(rows: list, day: dt.date):
    dates = [r.valid_from for r in rows]
    index = bisect.bisect_right(dates, day) - 1
    return rows[index] if index >= 0 else None


def due_day(period: dt.date) -> int:
    rule = _effective(_table("DueDayRule"), period)
    return rule.day if rule is not None else 10


def due_date(period: dt.date) -> dt.date:
    """The last day to pay for ``period`` without delay: a day of the following month."""
    following = add_months(period, 1)
    return following.replace(day=due_day(period))


def key_rate_on(day: dt.date) -> Decimal:
    rule = _effective(_table("KeyRate"), day)
    if rule is None:
        raise LookupError(f"no key rate known on {day}")
    return rule.rate


def penalty_rule_on(day: dt.date):
    return _effective(_table("PenaltyRule"), day)
