"""Billing periods are months, named by their first day (``2026-10-01`` is October 2026)."""

from __future__ import annotations

import calendar
import datetime as dt
import re

_PERIOD_RE = re.compile(r"^(\d{4})-(\d{1,2})$")


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(period: dt.date, months: int) -> dt.date:
    index = period.year * 12 + period.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(earlier: dt.date, later: dt.date) -> int:
    """Whole months from period ``earlier`` to period ``later`` (October → December is 2)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def month_end(period: dt.date) -> dt.date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def parse_period(text: str) -> dt.date:
    """``2026-10`` (or ``2026-10-01``) → ``date(2026, 10, 1)``; ValueError otherwise."""
    text = text.strip()
    match = _PERIOD_RE.match(text)
    if match:
        year, month = int(match[1]), int(match[2])
    else:
        day = dt.date.fromisoformat(text)
        year, month = day.year, day.month
    if not 1 <= month <= 12:
        raise ValueError(f"no month {month}")
    return dt.date(year, month, 1)


def period_label(period: dt.date) -> str:
    return f"{period:%Y-%m}"


def reading_period(taken_on: dt.date, last_day: int) -> dt.date:
    """The period a reading counts for: its month up to ``last_day`` inclusive, else the next month."""
    period = month_start(taken_on)
    return period if taken_on.day <= last_day else add_months(period, 1)
