import datetime as dt

import pytest

from okno.core.calendar import WorkingCalendar, get_calendar, shipped_days
from okno.core.models import CalendarDay

D = dt.date


@pytest.fixture
def cal(reference_data):
    return get_calendar()


def test_2026_has_247_working_days_as_in_the_official_calendar(cal):
    assert cal.working_days_between(D(2025, 12, 31), D(2026, 12, 31)) == 247


def test_new_year_holidays_and_the_transferred_days_are_not_working(cal):
    for day in (
        D(2026, 1, 1),
        D(2026, 1, 8),
        D(2026, 1, 9),
        D(2026, 3, 9),
        D(2026, 5, 11),
        D(2026, 11, 4),
        D(2026, 12, 31),
    ):
        assert not cal.is_working_day(day), day
    assert cal.is_working_day(D(2026, 1, 12))
    assert cal.is_working_day(D(2026, 4, 30))  # a shortened pre-holiday day is still a working day


def test_add_working_days_skips_the_new_year_break(cal):
    # Mon 28.12.2026 + 5 working days: 29, 30 (Dec 31 transferred off), Jan 1–8 holidays,
    # 9–10 weekend, then 11, 12, 13 January 2027.
    assert cal.add_working_days(D(2026, 12, 28), 5) == D(2027, 1, 13)


def test_next_working_day_of_a_holiday_weekend(cal):
    assert cal.next_working_day(D(2026, 5, 2)) == D(2026, 5, 4)
    assert cal.next_working_day(D(2026, 5, 4)) == D(2026, 5, 4)


def test_editing_the_calendar_takes_effect_at_once(cal):
    assert get_calendar().is_working_day(D(2026, 7, 6))
    CalendarDay.objects.create(date=D(2026, 7, 6), kind="non_working", note="региональный праздник")
    assert not get_calendar().is_working_day(D(2026, 7, 6))
    CalendarDay.objects.filter(date=D(2026, 7, 6)).delete()
    assert get_calendar().is_working_day(D(2026, 7, 6))


def test_a_transferred_working_saturday_counts():
    cal = WorkingCalendar(non_working=set(), working={D(2026, 6, 6)}, span=(2026, 2026))
    assert cal.add_working_days(D(2026, 6, 5), 1) == D(2026, 6, 6)


def test_shipped_calendar_covers_current_and_next_year():
    years = {d.year for d, _k in shipped_days()}
    assert {2026, 2027} <= years


def test_add_working_days_rejects_zero(cal):
    with pytest.raises(ValueError):
        cal.add_working_days(D(2026, 3, 2), 0)


def test_another_process_edit_is_picked_up_after_the_reference_ttl(cal, settings):
    # An edit made by another process sends no signal here; the cache reloads once it is older than the TTL.
    assert get_calendar().is_working_day(D(2026, 7, 7))
    CalendarDay.objects.bulk_create([CalendarDay(date=D(2026, 7, 7), kind="non_working")])  # no signals
    assert get_calendar().is_working_day(D(2026, 7, 7))  # still the cached value
    settings.OKNO_REFERENCE_TTL = 0
    assert not get_calendar().is_working_day(D(2026, 7, 7))
