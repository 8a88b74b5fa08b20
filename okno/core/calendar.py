"""The Russian production calendar as a fast in-memory index of working days.

Working days are Monday–Friday except stored holidays and transferred days off, plus transferred
working weekend days (:class:`okno.core.models.CalendarDay`). The index is a sorted array of the
ordinals of working days over a span of years, so "the N-th working day after D" is one bisect and
one lookup. It is rebuilt when the calendar is edited.
"""

from __future__ import annotations

import datetime as dt
import json
from bisect import bisect_left, bisect_right
from pathlib import Path

from django.db.models.signals import post_delete, post_save

from okno.core.cache import ProcessCache

DATA_FILE = Path(__file__).parent / "data" / "production_calendar.json"
SPAN = (2000, 2060)


class WorkingCalendar:
    def __init__(
        self, non_working: set[dt.date], working: set[dt.date], span: tuple[int, int] = SPAN
    ) -> None:
        first = dt.date(span[0], 1, 1).toordinal()
        last = dt.date(span[1], 12, 31).toordinal()
        off = {d.toordinal() for d in non_working}
        on = {d.toordinal() for d in working}
        # date.fromordinal(o).weekday() == (o - 1) % 7 for the proleptic Gregorian ordinal.
        self._ords = [o for o in range(first, last + 1) if (o in on) or ((o - 1) % 7 < 5 and o not in off)]
        self._first, self._last = first, last

    def is_working_day(self, day: dt.date) -> bool:
        o = day.toordinal()
        i = bisect_left(self._ords, o)
        return i < len(self._ords) and self._ords[i] == o

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``day`` (``n`` ≥ 1); ``day`` itself never counts."""
        if n < 1:
            raise ValueError("n must be at least 1")
        i = bisect_right(self._ords, day.toordinal()) + n - 1
        if i >= len(self._ords):
            raise ValueError("date beyond the calendar span")
        return dt.date.fromordinal(self._ords[i])

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` itself if it is a working day, otherwise the first working day after it."""
        i = bisect_left(self._ords, day.toordinal())
        return dt.date.fromordinal(self._ords[i])

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in the half-open interval (start, end]."""
        return bisect_right(self._ords, end.toordinal()) - bisect_right(self._ords, start.toordinal())


def _load() -> WorkingCalendar:
    from okno.core.models import CalendarDay

    rows = list(CalendarDay.objects.values_list("date", "kind"))
    off = {d for d, k in rows if k in ("holiday", "non_working")}
    on = {d for d, k in rows if k == "working"}
    return WorkingCalendar(off, on)


def shipped_days() -> list[tuple[dt.date, str]]:
    """The calendar shipped with Okno (used by the data migration)."""
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    out: list[tuple[dt.date, str]] = []
    for year, kinds in data.items():
        if year.startswith("_"):
            continue
        for kind, days in kinds.items():
            out.extend((dt.date.fromisoformat(d), kind) for d in days)
    return sorted(out)


_cache: ProcessCache[WorkingCalendar] = ProcessCache(_load)
get_calendar = _cache.get
invalidate = _cache.invalidate


post_save.connect(invalidate, sender="core.CalendarDay", dispatch_uid="okno-calendar-save")
post_delete.connect(invalidate, sender="core.CalendarDay", dispatch_uid="okno-calendar-delete")
