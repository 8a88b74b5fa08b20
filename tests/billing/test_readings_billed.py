"""Readings that become accepted after their period was billed, meter replacement around billing runs,
and corrections checked against their neighbours — with the billing engine: billed = true consumption."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from okno.billing.engine import execute_run
from okno.billing.models import BillingRun, Charge, Meter, Reading
from okno.billing.readings import (
    ReadingRefused,
    correct_reading,
    replace_meter,
    review_reading,
    submit_reading,
)

D = dt.date


def _read(meter, period, kwh, taken_on=None):
    return Reading.objects.create(
        meter=meter,
        account=meter.account,
        period=period,
        taken_on=taken_on or period.replace(day=20),
        t1_wh=int(Decimal(kwh) * 1000),
        channel=Reading.Channel.OFFICE,
    )


def _bill(*periods):
    for period in periods:
        execute_run(BillingRun.objects.create(period=period))


def _billed_wh(account, since=None):
    since = since or D(2025, 1, 1)
    return sum(Charge.objects.filter(account=account, period__gte=since).values_list("volume_wh", flat=True))


def _replace(meter, on):
    return replace_meter(
        meter=meter,
        actor=None,
        on=on,
        final_values=["1150.0"],
        model="X",
        serial="NEW1",
        zones=1,
        integer_digits=6,
        fraction_digits=1,
        initial_values=["0.0"],
    )


def test_final_reading_after_the_window_counts_for_the_open_month_of_removal(metered):
    acc, old = metered.account, metered.meter
    _read(old, D(2025, 2, 1), "1100.0")
    _bill(D(2025, 1, 1), D(2025, 2, 1))

    new = _replace(old, D(2025, 3, 27))  # after the 25th, March not billed yet
    final = Reading.objects.get(meter=old, kind="final")
    assert (final.period, Meter.objects.get(pk=old.pk).removed_on) == (D(2025, 3, 1), D(2025, 3, 27))
    _bill(D(2025, 3, 1))
    _read(new, D(2025, 4, 1), "30.0")
    _bill(D(2025, 4, 1))
    # March: old meter 1150 − 1100 = 50 kWh; April: new meter 30 − 0 = 30 kWh; 80 kWh in all.
    assert _billed_wh(acc, D(2025, 3, 1)) == 80_000


def test_final_reading_after_the_months_run_counts_for_the_next_period(metered):
    acc, old = metered.account, metered.meter
    _read(old, D(2025, 2, 1), "1100.0")
    _bill(D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1))  # March: average 100 kWh (no reading)

    new = _replace(old, D(2025, 3, 27))
    final = Reading.objects.get(meter=old, kind="final")
    # March is billed: the final reading counts for April and the old meter stays in service until 1 April.
    assert (final.period, Meter.objects.get(pk=old.pk).removed_on) == (D(2025, 4, 1), D(2025, 4, 1))
    _read(new, D(2025, 4, 1), "30.0")
    _bill(D(2025, 4, 1))
    # March average 100; April: recalculation 1150 − 1100 = 50, reversal −100, new meter 30: 80 kWh in all.
    assert _billed_wh(acc, D(2025, 3, 1)) == 80_000
    assert Charge.objects.filter(account=acc, period=D(2025, 4, 1), method="reversal").count() == 1


def test_held_reading_accepted_after_its_period_was_billed_counts_for_the_next(metered, org):
    acc, meter = metered.account, metered.meter
    for month, kwh in ((2, "1100.0"), (3, "1200.0"), (4, "1300.0")):
        _read(meter, D(2025, month, 1), kwh)
    _bill(D(2025, 1, 1), D(2025, 2, 1), D(2025, 3, 1), D(2025, 4, 1))
    held = submit_reading(account=acc, values=["5000.0"], channel="office", taken_on=D(2025, 5, 20))
    assert (held.status, held.period) == ("held", D(2025, 5, 1))
    _bill(D(2025, 5, 1))  # May by average: 100 kWh

    accepted = review_reading(held, accept=True, actor=org.admin)
    assert accepted.period == D(2025, 6, 1)
    _bill(D(2025, 6, 1))
    # Jan 0 + Feb..Apr 300 + May avg 100 + June recalculation 5000 − 1300 = 3700, reversal −100 → 4000 kWh.
    assert _billed_wh(acc) == 4_000_000


def test_held_reading_accepted_after_a_later_billed_reading_keeps_its_period(metered, org):
    acc, meter = metered.account, metered.meter
    _read(meter, D(2025, 2, 1), "1100.0")
    _bill(D(2025, 1, 1), D(2025, 2, 1))
    held = submit_reading(account=acc, values=["2000.0"], channel="office", taken_on=D(2025, 3, 10))
    _read(meter, D(2025, 3, 1), "2100.0", taken_on=D(2025, 3, 20))
    _bill(D(2025, 3, 1))  # 2100 − 1100 = 1000 kWh already covers the held reading

    assert review_reading(held, accept=True, actor=org.admin).period == D(2025, 3, 1)
    _bill(D(2025, 4, 1))
    # April has no reading: estimated from base March 2100, not billed again from the held reading.
    assert _billed_wh(acc, D(2025, 3, 1)) - _billed_wh(acc, D(2025, 4, 1)) == 1_000_000
    assert list(
        Charge.objects.filter(account=acc, period=D(2025, 4, 1)).values_list("method", flat=True)
    ) == ["average"]


def test_correction_of_a_billed_reading_counts_for_the_first_open_period(metered, org):
    meter = metered.meter
    first = _read(meter, D(2025, 2, 1), "1100.0")
    _bill(D(2025, 1, 1), D(2025, 2, 1))

    new = correct_reading(first, values=["1150.0"], reason="typo", actor=org.admin)
    assert (new.period, new.t1_wh, new.status) == (D(2025, 3, 1), 1_150_000, "accepted")


def test_correction_of_a_billed_reading_is_billed_exactly_once(metered, org):
    acc, meter = metered.account, metered.meter
    first = _read(meter, D(2025, 2, 1), "1100.0")
    _bill(D(2025, 1, 1), D(2025, 2, 1))
    correct_reading(first, values=["1150.0"], reason="typo", actor=org.admin)
    _read(meter, D(2025, 3, 1), "1200.0")
    _bill(D(2025, 3, 1))
    # Feb 100 (from 1100); March: recalculation 1200 − 1000 = 200, reversal of Feb −100 → 200 kWh in all.
    assert _billed_wh(acc) == 200_000


def test_correction_of_an_older_reading_is_checked_against_its_neighbours(metered, org):
    meter = metered.meter
    first = _read(meter, D(2025, 2, 1), "1100.0")
    _read(meter, D(2025, 3, 1), "1200.0")

    with pytest.raises(ReadingRefused) as above:
        correct_reading(first, values=["1250.0"], reason="typo", actor=org.admin)
    assert (above.value.code, str(above.value)) == (
        "higher_than_next",
        "T1: 1250 kWh is higher than the next reading 1200 kWh of 20.03.2025.",
    )
    with pytest.raises(ReadingRefused) as below:
        correct_reading(first, values=["990.0"], reason="typo", actor=org.admin)
    assert below.value.code == "lower_than_previous"

    new = correct_reading(first, values=["1110.0"], reason="typo", actor=org.admin)
    # Its period is open (nothing billed): it keeps February.
    assert (new.t1_wh, new.period, new.version) == (1_110_000, D(2025, 2, 1), 2)
