"""Deadline arithmetic: policies as data, the production calendar, pauses and one extension.

A deadline is counted from registration (59-FZ art. 12: written appeals within 30 days of
registration). Units:

* ``calendar_days``: the end (23:59:59 in the branch's time zone) of the N-th calendar day after the
  registration day; if that day is not a working day, the end of the next working day (Civil Code
  art. 193);
* ``working_days``: the end of the N-th working day after the registration day;
* ``hours``: N hours after registration (a callback within 4 hours).

The effective deadline adds the time spent waiting for the customer and the days of an extension.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models.signals import post_delete, post_save

from okno.appeals.choices import DeadlineUnit
from okno.core.cache import ProcessCache
from okno.core.calendar import WorkingCalendar, get_calendar

END_OF_DAY = dt.time(23, 59, 59)
MAX_EXTENSION_DAYS = 30


@dataclass(frozen=True, slots=True)
class PolicyTerm:
    id: int | None
    unit: str
    amount: int
    registration_days: int = 3
    warn_before_hours: int = 48
    kind: str = ""
    topic: str = ""
    customer_kind: str = ""
    channel: str = ""

    @property
    def specificity(self) -> int:
        return (self.kind != "") + (self.topic != "") + (self.customer_kind != "") + (self.channel != "")


DEFAULT_TERM = PolicyTerm(None, DeadlineUnit.CALENDAR_DAYS, 30)


def compute_deadline(
    start: dt.datetime, unit: str, amount: int, tz: zoneinfo.ZoneInfo, calendar: WorkingCalendar
) -> dt.datetime:
    """The deadline for a term of ``amount`` ``unit`` counted from the aware datetime ``start``."""
    if unit == DeadlineUnit.HOURS:
        return start + dt.timedelta(hours=amount)
    local_day = start.astimezone(tz).date()
    if unit == DeadlineUnit.CALENDAR_DAYS:
        day = calendar.next_working_day(local_day + dt.timedelta(days=amount))
    elif unit == DeadlineUnit.WORKING_DAYS:
        day = calendar.add_working_days(local_day, amount)
    else:
        raise ValueError(f"unknown deadline unit {unit!r}")
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=tz)


def effective_deadline(base: dt.datetime, paused_seconds: int, extended_days: int) -> dt.datetime:
    return base + dt.timedelta(days=extended_days, seconds=paused_seconds)


def registration_deadline(received_at: dt.datetime, days: int, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """Registration is due by the end of the ``days``-th calendar day after receipt."""
    day = received_at.astimezone(tz).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=tz)


class PolicyBook:
    """The active policies in memory, with the most specific match per criteria cached."""

    def __init__(self, terms: Iterable[PolicyTerm]) -> None:
        self.terms = sorted(terms, key=lambda t: (-t.specificity, t.id or 0))
        self._cache: dict[tuple[str, str, str, str], PolicyTerm] = {}

    def select(self, kind: str, topic: str, customer_kind: str, channel: str) -> PolicyTerm:
        key = (kind, topic, customer_kind, channel)
        found = self._cache.get(key)
        if found is None:
            found = DEFAULT_TERM
            for t in self.terms:
                if (
                    (not t.kind or t.kind == kind)
                    and (not t.topic or t.topic == topic)
                    and (not t.customer_kind or t.customer_kind == customer_kind)
                    and (not t.channel or t.channel == channel)
                ):
                    found = t
                    break
            self._cache[key] = found
        return found


def _load_book() -> PolicyBook:
    from okno.appeals.models import DeadlinePolicy

    return PolicyBook(
        PolicyTerm(
            p.pk,
            p.unit,
            p.amount,
            p.registration_days,
            p.warn_before_hours,
            p.kind,
            p.topic,
            p.customer_kind,
            p.channel,
        )
        for p in DeadlinePolicy.objects.filter(active=True)
    )


_cache: ProcessCache[PolicyBook] = ProcessCache(_load_book)
get_policy_book = _cache.get
_invalidate = _cache.invalidate


post_save.connect(_invalidate, sender="appeals.DeadlinePolicy", dispatch_uid="okno-policy-save")
post_delete.connect(_invalidate, sender="appeals.DeadlinePolicy", dispatch_uid="okno-policy-delete")


def deadline_for(
    *,
    registered_at: dt.datetime,
    kind: str,
    topic: str,
    customer_kind: str,
    channel: str,
    tz: zoneinfo.ZoneInfo,
) -> tuple[PolicyTerm, dt.datetime]:
    term = get_policy_book().select(kind, topic, customer_kind, channel)
    return term, compute_deadline(registered_at, term.unit, term.amount, tz, get_calendar())
