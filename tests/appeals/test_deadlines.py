"""Worked examples of the deadline rules, computed by hand from the 2026 production calendar."""

import datetime as dt
import zoneinfo

import pytest

from okno.appeals.deadlines import (
    PolicyBook,
    PolicyTerm,
    compute_deadline,
    effective_deadline,
    registration_deadline,
)
from okno.core.calendar import get_calendar

MSK = zoneinfo.ZoneInfo("Europe/Moscow")
YEKT = zoneinfo.ZoneInfo("Asia/Yekaterinburg")


def at(y, m, d, hh=0, mm=0, tz=MSK):
    return dt.datetime(y, m, d, hh, mm, tzinfo=tz)


@pytest.fixture
def cal(reference_data):
    return get_calendar()


def test_written_appeal_is_due_at_the_end_of_the_30th_day(cal):
    # 2 March 2026 + 30 days = 1 April 2026 (Wednesday, a working day).
    assert compute_deadline(at(2026, 3, 2, 10), "calendar_days", 30, MSK, cal) == at(
        2026, 4, 1, 23, 59
    ) + dt.timedelta(seconds=59)


def test_calendar_deadline_on_a_holiday_moves_to_the_next_working_day(cal):
    # 5 October + 30 days = 4 November (National Unity Day) → Thursday 5 November.
    assert compute_deadline(at(2026, 10, 5, 9), "calendar_days", 30, MSK, cal).date() == dt.date(2026, 11, 5)


def test_calendar_deadline_on_a_weekend_after_may_day_moves_to_monday(cal):
    # 2 April + 30 days = Saturday 2 May → Monday 4 May.
    assert compute_deadline(at(2026, 4, 2, 9), "calendar_days", 30, MSK, cal).date() == dt.date(2026, 5, 4)


def test_working_day_deadline_over_new_year(cal):
    # Mon 28 Dec 2026 + 5 working days = 13 January 2027 (see the calendar test).
    assert compute_deadline(at(2026, 12, 28, 12), "working_days", 5, MSK, cal) == dt.datetime(
        2027, 1, 13, 23, 59, 59, tzinfo=MSK
    )


def test_callback_within_four_hours(cal):
    assert compute_deadline(at(2026, 3, 2, 10, 15), "hours", 4, MSK, cal) == at(2026, 3, 2, 14, 15)


def test_the_day_is_counted_in_the_branch_time_zone(cal):
    moment = dt.datetime(
        2026, 3, 2, 20, 30, tzinfo=dt.UTC
    )  # 23:30 in Moscow, 01:30 on 3 March in Yekaterinburg
    assert compute_deadline(moment, "calendar_days", 30, MSK, cal) == dt.datetime(
        2026, 4, 1, 23, 59, 59, tzinfo=MSK
    )
    assert compute_deadline(moment, "calendar_days", 30, YEKT, cal) == dt.datetime(
        2026, 4, 2, 23, 59, 59, tzinfo=YEKT
    )


def test_pause_and_extension_shift_the_deadline():
    base = at(2026, 4, 1, 23, 59)
    assert effective_deadline(base, paused_seconds=2 * 86400, extended_days=0) == at(2026, 4, 3, 23, 59)
    assert effective_deadline(base, paused_seconds=3600, extended_days=10) == at(2026, 4, 12, 0, 59)


def test_registration_is_due_within_three_days_of_receipt():
    assert registration_deadline(at(2026, 3, 2, 17), 3, MSK) == dt.datetime(
        2026, 3, 5, 23, 59, 59, tzinfo=MSK
    )


def test_the_most_specific_policy_wins():
    general = PolicyTerm(1, "calendar_days", 30)
    phone = PolicyTerm(2, "hours", 4, kind="info_request", channel="phone")
    complaints = PolicyTerm(3, "working_days", 10, kind="complaint")
    book = PolicyBook([general, phone, complaints])
    assert book.select("info_request", "billing", "individual", "phone") is phone
    assert book.select("info_request", "billing", "individual", "mail") is general
    assert book.select("complaint", "outage", "individual", "phone") is complaints


def test_no_policy_means_thirty_calendar_days():
    term = PolicyBook([]).select("report", "outage", "individual", "web")
    assert (term.unit, term.amount) == ("calendar_days", 30)
