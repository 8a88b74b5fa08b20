"""submit_reading: storage in Wh, periods, every refusal code, rollover, jumps held, verification, corrections.

Иванов's meter (fixture ``metered``): one zone, 6+1 digits, installed 2025-01-15 at 1000.0 kWh, branch A
(Europe/Moscow). ``now`` is passed explicitly so that "today" does not depend on the clock.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from okno.billing.models import BillingRun, BillingSettings, Meter, Reading
from okno.billing.readings import (
    ReadingRefused,
    correct_reading,
    install_meter,
    review_reading,
    submit_reading,
)
from okno.core import events
from okno.core.errors import Conflict
from okno.customers.models import ContactEvent
from tests.conftest import aware

NOW = aware(2025, 6, 30, 12, 0)


def submit(account, values, taken_on, **kw):
    kw.setdefault("channel", Reading.Channel.OFFICE)
    kw.setdefault("now", NOW)
    return submit_reading(account=account, values=values, taken_on=taken_on, **kw)


@pytest.fixture
def accepted_events():
    seen: list[dict] = []

    def handler(**payload):
        seen.append(payload)

    events.subscribe("reading.accepted", handler)
    yield seen
    events._handlers["reading.accepted"].remove(handler)


def test_office_reading_is_stored_in_wh_with_period_history_and_event(
    metered, org, django_capture_on_commit_callbacks, accepted_events
):
    with django_capture_on_commit_callbacks(execute=True):
        r = submit(metered.account, ["1100,5"], dt.date(2025, 2, 20), actor=org.operator_a)

    assert (r.t1_wh, r.t2_wh, r.t3_wh) == (1_100_500, None, None)
    assert (r.period, r.status, r.flags, r.version, r.kind) == (
        dt.date(2025, 2, 1),
        "accepted",
        [],
        1,
        "regular",
    )
    assert r.meter == metered.meter and r.submitted_by == org.operator_a
    assert accepted_events == [{"reading_id": r.pk, "account_id": metered.account.pk}]
    line = ContactEvent.objects.get(ref_type="billing.reading", ref_id=r.pk)
    assert (line.kind, line.channel, line.actor) == ("visit", "office", org.operator_a)
    assert line.summary == "Reading of meter 41234567 accepted: 1100.5 kWh"


def test_phone_reading_is_a_call_in_the_history(metered, org):
    r = submit(
        metered.account, ["1100"], dt.date(2025, 2, 20), channel=Reading.Channel.PHONE, actor=org.operator_a
    )

    assert ContactEvent.objects.get(ref_id=r.pk, ref_type="billing.reading").kind == "call"


@pytest.mark.parametrize(
    ("taken_on", "period"),
    [
        (dt.date(2025, 2, 25), dt.date(2025, 2, 1)),  # the 25th is the last day of the window
        (dt.date(2025, 2, 26), dt.date(2025, 3, 1)),  # after it: the next month
        (dt.date(2025, 3, 1), dt.date(2025, 3, 1)),
    ],
)
def test_period_is_decided_by_the_submission_window(metered, taken_on, period):
    assert submit(metered.account, ["1100"], taken_on).period == period


def test_submission_window_is_configurable(metered):
    BillingSettings.objects.update(submission_last_day=20)

    assert submit(metered.account, ["1100"], dt.date(2025, 2, 21)).period == dt.date(2025, 3, 1)


def test_period_rolls_past_a_done_billing_run(metered, org):
    BillingRun.objects.create(period=dt.date(2025, 2, 1), status=BillingRun.Status.DONE, branch=None)
    BillingRun.objects.create(period=dt.date(2025, 3, 1), status=BillingRun.Status.DONE, branch=org.a)
    BillingRun.objects.create(period=dt.date(2025, 4, 1), status=BillingRun.Status.DONE, branch=org.b)
    BillingRun.objects.create(period=dt.date(2025, 4, 1), status=BillingRun.Status.FAILED, branch=org.a)

    r = submit(metered.account, ["1100"], dt.date(2025, 2, 20))

    # February billed for everyone, March for branch A: the reading counts for April (B's run is not A's).
    assert r.period == dt.date(2025, 4, 1)


def codes(excinfo) -> tuple[str, str]:
    return excinfo.value.code, excinfo.value.field


def test_lower_than_previous_is_refused(metered):
    with pytest.raises(ReadingRefused) as exc:
        submit(metered.account, ["999.9"], dt.date(2025, 2, 20))

    # 999.9 < 1000.0; as a rollover it would mean 1 000 000 − 1000.0 + 999.9 = 999 999.9 kWh, more than
    # half the capacity with no average yet: refused.
    assert codes(exc) == ("lower_than_previous", "values")
    assert str(exc.value) == "T1: 999.9 kWh is lower than the previous reading 1000 kWh."
    assert exc.value.message_dict == {
        "values": ["T1: 999.9 kWh is lower than the previous reading 1000 kWh."]
    }
    assert isinstance(exc.value, ValidationError)
    assert Reading.objects.filter(account=metered.account).count() == 1


def test_rollover_of_a_six_digit_register_is_accepted(customers, org, tariffs):
    meter = install_meter(
        account=customers.acc_romashka,
        actor=org.admin,
        model="СЕ 101",
        serial="R-1",
        zones=1,
        integer_digits=6,
        fraction_digits=1,
        installed_on=dt.date(2025, 3, 1),
        initial_values=["999950.0"],
    )

    r = submit(customers.acc_romashka, ["30.0"], dt.date(2025, 3, 20))

    # 10^6 kWh capacity: 1 000 000 − 999 950.0 + 30.0 = 80.0 kWh consumed; stored as the register shows.
    assert (r.meter_id, r.t1_wh, r.status) == (meter.pk, 30_000, "accepted")


def _history(account, points):
    for day, value in points:
        submit(account, [value], day)


def test_rollover_with_an_average_is_checked_against_the_jump_limit(customers, org, tariffs):
    install_meter(
        account=customers.acc_romashka,
        actor=org.admin,
        model="СЕ 101",
        serial="R-2",
        zones=1,
        integer_digits=5,
        fraction_digits=0,
        installed_on=dt.date(2025, 1, 1),
        initial_values=["99500"],
    )
    # 100 kWh every 31 days → average 200 / 62 days × 30.4375 = 98.19 kWh a month; limit ×5 = 490.9.
    _history(customers.acc_romashka, [(dt.date(2025, 2, 1), "99600"), (dt.date(2025, 3, 4), "99700")])

    ok = submit(customers.acc_romashka, ["50"], dt.date(2025, 4, 4))  # 100 000 − 99 700 + 50 = 350 kWh
    with pytest.raises(ReadingRefused) as exc:
        # from 50: 100 000 − 50 + 10 = 99 960 kWh in a month ≫ 490.9: not a rollover, a lower value
        submit(customers.acc_romashka, ["10"], dt.date(2025, 5, 4))

    assert (ok.t1_wh, ok.status) == (50_000, "accepted")
    assert exc.value.code == "lower_than_previous"


def test_implausible_jump_is_held_then_reviewed(
    metered, org, django_capture_on_commit_callbacks, accepted_events
):
    _history(metered.account, [(dt.date(2025, 2, 15), "1100"), (dt.date(2025, 3, 15), "1200")])
    # Average: (1200 − 1000) kWh / 59 days × 30.4375 = 103.18 kWh a month; limit 5 × 103.18 = 515.9.
    # New: 800 kWh in 31 days = 800 × 30.4375 / 31 = 785.5 kWh a month > 515.9 → held.
    with django_capture_on_commit_callbacks(execute=True):
        held = submit(metered.account, ["2000"], dt.date(2025, 4, 15))
    assert (held.status, held.flags) == ("held", ["jump"])
    assert accepted_events == []
    # 400 kWh in 31 days = 392.7 a month ≤ 515.9: accepted (checked against 1200, not the held 2000).
    assert submit(metered.account, ["1600"], dt.date(2025, 4, 15)).status == "accepted"

    with django_capture_on_commit_callbacks(execute=True):
        reviewed = review_reading(held, accept=True, actor=org.head_a, note="confirmed by photo")
    assert reviewed.status == "accepted"
    assert accepted_events[-1] == {"reading_id": held.pk, "account_id": metered.account.pk}
    with pytest.raises(Conflict):
        review_reading(held, accept=False, actor=org.head_a)


def test_held_reading_can_be_rejected(metered, org):
    _history(metered.account, [(dt.date(2025, 2, 15), "1100"), (dt.date(2025, 3, 15), "1200")])
    held = submit(metered.account, ["5000"], dt.date(2025, 4, 15))

    assert review_reading(held, accept=False, actor=org.head_a).status == "rejected"


def test_jump_factor_is_configurable(metered):
    _history(metered.account, [(dt.date(2025, 2, 15), "1100"), (dt.date(2025, 3, 15), "1200")])
    BillingSettings.objects.update(jump_factor=Decimal("10"))

    # 785.5 kWh a month ≤ 10 × 103.18 = 1031.8
    assert submit(metered.account, ["2000"], dt.date(2025, 4, 15)).status == "accepted"


def test_expired_verification_is_accepted_with_a_flag(metered):
    Meter.objects.filter(pk=metered.meter.pk).update(verified_on=dt.date(2009, 2, 1))  # due 2025-02-01

    before = submit(metered.account, ["1050"], dt.date(2025, 1, 31))
    after = submit(metered.account, ["1150"], dt.date(2025, 3, 2))

    assert (before.status, before.flags) == ("accepted", [])
    assert (after.status, after.flags) == ("accepted", ["verification_expired"])


@pytest.mark.parametrize(
    ("values", "code", "message"),
    [
        (["1100", "200"], "zones_mismatch", "The meter has 1 tariff zone(s); 2 value(s) were given."),
        (
            ["1100.55"],
            "too_many_digits",
            "The meter shows 1 digit(s) after the decimal point; “1100.55” has more.",
        ),
        (
            ["1000000"],
            "too_many_digits",
            "The meter shows 6 digits before the decimal point; “1000000” has more.",
        ),
        (["abc"], "invalid_value", "“abc” is not a meter reading."),
        (["-5"], "invalid_value", "“-5” is not a meter reading."),
    ],
)
def test_malformed_values_are_refused(metered, values, code, message):
    with pytest.raises(ReadingRefused) as exc:
        submit(metered.account, values, dt.date(2025, 2, 20))

    assert (exc.value.code, exc.value.field, str(exc.value)) == (code, "values", message)


def test_trailing_zeros_are_not_extra_digits(metered):
    assert submit(metered.account, ["1100.50"], dt.date(2025, 2, 20)).t1_wh == 1_100_500


def test_future_date_in_the_branch_time_zone_is_refused(metered):
    now = aware(2025, 3, 1, 23, 30, tz="UTC")  # 02:30 on 2 March in Moscow

    ok = submit(metered.account, ["1100"], dt.date(2025, 3, 2), now=now)
    with pytest.raises(ReadingRefused) as exc:
        submit(metered.account, ["1101"], dt.date(2025, 3, 3), now=now)

    assert ok.taken_on == dt.date(2025, 3, 2)
    assert codes(exc) == ("future_date", "taken_on")
    assert str(exc.value) == "The date 03.03.2025 is in the future."


def test_date_before_the_previous_reading_is_refused(metered):
    submit(metered.account, ["1100"], dt.date(2025, 3, 2))

    with pytest.raises(ReadingRefused) as exc:
        submit(metered.account, ["1090"], dt.date(2025, 2, 20))

    assert codes(exc) == ("before_previous", "taken_on")


def test_closed_account_is_refused(metered):
    type(metered.account).objects.filter(pk=metered.account.pk).update(closed_on=dt.date(2025, 2, 1))

    with pytest.raises(ReadingRefused) as exc:
        submit(metered.account, ["1100"], dt.date(2025, 2, 20))

    assert codes(exc) == ("account_closed", "account")


def test_meter_of_another_account_is_refused(metered, customers, org):
    other = install_meter(
        account=customers.acc_romashka,
        actor=org.admin,
        model="СЕ 101",
        serial="R-3",
        zones=1,
        integer_digits=6,
        fraction_digits=1,
        installed_on=dt.date(2025, 1, 1),
        initial_values=["0"],
    )

    with pytest.raises(ReadingRefused) as exc:
        submit(metered.account, ["1100"], dt.date(2025, 2, 20), meter=other)

    assert codes(exc) == ("not_on_account", "meter")
    assert str(exc.value) == f"Meter R-3 is not on account {metered.account.number}."


def test_account_without_a_meter_is_refused(customers, tariffs):
    with pytest.raises(ReadingRefused) as exc:
        submit(customers.acc_romashka, ["1100"], dt.date(2025, 2, 20))

    assert codes(exc) == ("not_found", "meter")


def test_correction_is_a_new_version_with_a_reason(
    metered, org, django_capture_on_commit_callbacks, accepted_events
):
    first = submit(metered.account, ["1100"], dt.date(2025, 2, 20))

    with django_capture_on_commit_callbacks(execute=True):
        second = correct_reading(first, values=["1110.5"], reason="Typo by the operator", actor=org.head_a)

    first.refresh_from_db()
    assert (first.status, first.t1_wh) == ("superseded", 1_100_000)  # the old version is kept as it was
    assert (second.version, second.supersedes, second.reason, second.status) == (
        2,
        first,
        "Typo by the operator",
        "accepted",
    )
    assert (second.t1_wh, second.period, second.taken_on) == (1_110_500, first.period, first.taken_on)
    assert accepted_events == [{"reading_id": second.pk, "account_id": metered.account.pk}]
    # The next reading is checked against the correction.
    with pytest.raises(ReadingRefused):
        submit(metered.account, ["1105"], dt.date(2025, 3, 20))
    with pytest.raises(Conflict):
        correct_reading(first, values=["1111"], reason="again", actor=org.head_a)


def test_correction_needs_a_reason_and_valid_values(metered, org):
    first = submit(metered.account, ["1100"], dt.date(2025, 2, 20))

    with pytest.raises(ValidationError) as no_reason:
        correct_reading(first, values=["1110"], reason="  ", actor=org.head_a)
    with pytest.raises(ReadingRefused) as lower:
        correct_reading(first, values=["900"], reason="typo", actor=org.head_a)

    assert no_reason.value.message_dict == {"reason": ["Give the reason for the correction."]}
    assert lower.value.code == "lower_than_previous"
    first.refresh_from_db()
    assert first.status == "accepted"
