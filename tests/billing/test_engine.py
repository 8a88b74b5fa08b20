"""The billing run, on worked examples computed by hand (tariff 6.43 ₽/kWh, norm 100 kWh × 2 residents)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from okno.billing.engine import execute_run
from okno.billing.models import (
    AccountDiscount,
    BillingProfile,
    BillingRun,
    Charge,
    Discount,
    LedgerEntry,
    Meter,
    Reading,
    TariffRate,
)
from okno.billing.periods import add_months

D = dt.date


def read(meter: Meter, period: dt.date, *kwh: str, kind: str = "regular", taken_on: dt.date | None = None):
    values = [int(Decimal(v) * 1000) for v in kwh] + [None, None]
    return Reading.objects.create(
        meter=meter,
        account=meter.account,
        period=period,
        taken_on=taken_on or period.replace(day=20),
        t1_wh=values[0],
        t2_wh=values[1],
        t3_wh=values[2],
        kind=kind,
        channel=Reading.Channel.OFFICE,
    )


def bill(period: dt.date, branch=None) -> BillingRun:
    run = BillingRun.objects.create(period=period, branch=branch)
    execute_run(run)
    run.refresh_from_db()
    return run


def charged(account, period: dt.date) -> int:
    return LedgerEntry.objects.get(account=account, period=period, kind="charge").amount_kop


def lines(account, period: dt.date) -> list[tuple[str, int, int, int]]:
    return list(
        Charge.objects.filter(account=account, period=period)
        .order_by("method", "zone", "tier", "id")
        .values_list("method", "zone", "volume_wh", "amount_kop")
    )


def new_meter(account, zones: int, *initial: str, digits: int = 6, on: dt.date | None = None) -> Meter:
    on = on or D(2025, 1, 15)
    Meter.objects.filter(account=account, status="active").update(status="removed", removed_on=on)
    meter = Meter.objects.create(
        account=account,
        model="Нева МТ 124",
        serial=f"N{zones}{digits}",
        zones=zones,
        integer_digits=digits,
        fraction_digits=1,
        installed_on=on,
    )
    read(meter, D(on.year, on.month, 1), *initial, kind="initial", taken_on=on)
    return meter


@pytest.mark.django_db
def test_actual_reading(metered):
    acc, meter = metered.account, metered.meter
    read(meter, D(2025, 2, 1), "1150.0")
    bill(D(2025, 1, 1))
    run = bill(D(2025, 2, 1))
    # January: the meter's first reading is its only one → 0 kWh.
    assert charged(acc, D(2025, 1, 1)) == 0
    # February: 1150.0 − 1000.0 = 150 kWh × 6.43 = 964.50 ₽.
    assert lines(acc, D(2025, 2, 1)) == [("actual", 1, 150_000, 96_450)]
    assert charged(acc, D(2025, 2, 1)) == 96_450
    assert run.status == "done" and run.counts["accounts"] == 1 and run.counts["methods"] == {"actual": 1}
    entry = LedgerEntry.objects.get(account=acc, period=D(2025, 2, 1), kind="charge")
    assert entry.entry_date == D(2025, 2, 28) and entry.due_date == D(2025, 3, 10)


@pytest.mark.django_db
def test_missing_readings_average_norm_and_recalculation(metered):
    """Monthly readings to July, none for August–November, a reading in December."""
    acc, meter = metered.account, metered.meter
    values = {2: "1100.0", 3: "1220.0", 4: "1300.0", 5: "1400.0", 6: "1480.0", 7: "1600.0", 12: "2150.0"}
    for month, value in values.items():
        read(meter, D(2025, month, 1), value)
    for month in range(1, 13):
        bill(D(2025, month, 1))
    # The average: from January's 1000.0 to July's 1600.0 over 6 months = 100 kWh a month → 643.00 ₽,
    # for one, two and three months without a reading (August, September, October).
    for month in (8, 9, 10):
        assert lines(acc, D(2025, month, 1)) == [("average", 1, 100_000, 64_300)]
    # The fourth month without a reading: the norm, 100 kWh × 2 residents = 200 kWh → 1 286.00 ₽.
    assert lines(acc, D(2025, 11, 1)) == [("norm", 1, 200_000, 128_600)]
    # December's reading: 2150.0 − 1600.0 = 550 kWh over five months → 3 536.50 ₽, less what the
    # estimates charged: 3 × 643.00 + 1 286.00 = 3 215.00 ₽ → 321.50 ₽ net.
    dec = lines(acc, D(2025, 12, 1))
    assert ("recalculation", 1, 550_000, 353_650) in dec
    reversals = [line for line in dec if line[0] == "reversal"]
    assert sorted(r[3] for r in reversals) == [-128_600, -64_300, -64_300, -64_300]
    assert charged(acc, D(2025, 12, 1)) == 32_150
    recalc = Charge.objects.get(account=acc, period=D(2025, 12, 1), method="recalculation")
    assert recalc.months == 5
    # January to December in all: (2150.0 − 1000.0) kWh × 6.43 = 7 394.50 ₽, exactly what was charged.
    assert sum(charged(acc, D(2025, m, 1)) for m in range(1, 13)) == 739_450


@pytest.mark.django_db
def test_rollover(metered):
    acc = metered.account
    meter = new_meter(acc, 1, "99950.0", digits=5)
    read(meter, D(2025, 2, 1), "30.0")
    bill(D(2025, 2, 1))
    # 100 000 − 99 950.0 + 30.0 = 80 kWh × 6.43 = 514.40 ₽.
    assert lines(acc, D(2025, 2, 1)) == [("actual", 1, 80_000, 51_440)]


@pytest.mark.django_db
def test_two_zone_meter(metered):
    acc = metered.account
    meter = new_meter(acc, 2, "1000.0", "500.0")
    read(meter, D(2025, 2, 1), "1150.0", "580.0")
    bill(D(2025, 2, 1))
    # Day 150 kWh × 7.01 = 1 051.50 ₽; night 80 kWh × 3.20 = 256.00 ₽; 1 307.50 ₽ in all.
    assert lines(acc, D(2025, 2, 1)) == [("actual", 1, 150_000, 105_150), ("actual", 2, 80_000, 25_600)]
    assert charged(acc, D(2025, 2, 1)) == 130_750


@pytest.mark.django_db
def test_three_zone_meter(metered):
    acc = metered.account
    meter = new_meter(acc, 3, "100.0", "200.0", "300.0")
    read(meter, D(2025, 2, 1), "130.0", "250.0", "340.0")
    bill(D(2025, 2, 1))
    # Peak 30 × 7.71 = 231.30; half-peak 50 × 6.43 = 321.50; night 40 × 3.20 = 128.00 → 680.80 ₽.
    assert [line[3] for line in lines(acc, D(2025, 2, 1))] == [23_130, 32_150, 12_800]
    assert charged(acc, D(2025, 2, 1)) == 68_080


@pytest.mark.django_db
def test_volume_tiers(metered):
    acc, meter, tariff = metered.account, metered.meter, metered.tariffs.one
    tariff.tier1_limit_wh, tariff.tier2_limit_wh = 3_900_000, 6_000_000
    tariff.save()
    TariffRate.objects.create(tariff=tariff, zone=1, tier=2, price_e4=85_000)
    TariffRate.objects.create(tariff=tariff, zone=1, tier=3, price_e4=120_000)
    read(meter, D(2025, 2, 1), "8000.0")
    bill(D(2025, 2, 1))
    # 7 000 kWh: 3 900 × 6.43 = 25 077.00; 2 100 × 8.50 = 17 850.00; 1 000 × 12.00 = 12 000.00 ₽.
    assert lines(acc, D(2025, 2, 1)) == [
        ("actual", 1, 3_900_000, 2_507_700),
        ("actual", 1, 2_100_000, 1_785_000),
        ("actual", 1, 1_000_000, 1_200_000),
    ]
    assert charged(acc, D(2025, 2, 1)) == 5_492_700


@pytest.mark.django_db
def test_meter_replacement_within_the_month(metered):
    acc, old = metered.account, metered.meter
    read(old, D(2025, 2, 1), "1100.0")
    bill(D(2025, 2, 1))
    read(old, D(2025, 3, 1), "1150.0", kind="final", taken_on=D(2025, 3, 10))
    new = new_meter(acc, 1, "0.0", on=D(2025, 3, 10))
    Meter.objects.filter(pk=old.pk).update(replaced_by=new)
    read(new, D(2025, 3, 1), "30.0", taken_on=D(2025, 3, 25))
    bill(D(2025, 3, 1))
    # The old meter's last 50 kWh and the new one's 30 kWh: 80 kWh × 6.43 = 514.40 ₽.
    assert sorted(Charge.objects.filter(period=D(2025, 3, 1)).values_list("meter_id", "volume_wh")) == [
        (old.pk, 50_000),
        (new.pk, 30_000),
    ]
    assert charged(acc, D(2025, 3, 1)) == 51_440
    # April: the old meter is gone; the new one has no April reading and only March's history (both its
    # readings count for March, no whole month between them) → no average: the norm, 200 kWh.
    bill(D(2025, 4, 1))
    assert lines(acc, D(2025, 4, 1)) == [("norm", 1, 200_000, 128_600)]


@pytest.mark.django_db
def test_no_meter_is_billed_by_the_norm(metered):
    acc = metered.account
    Meter.objects.filter(account=acc).update(status="removed", removed_on=D(2025, 1, 20))
    bill(D(2025, 3, 1))
    assert lines(acc, D(2025, 3, 1)) == [("norm", 1, 200_000, 128_600)]
    assert Charge.objects.get(account=acc, period=D(2025, 3, 1)).meter_id is None


@pytest.mark.django_db
def test_discount_is_a_negative_line(metered):
    acc, meter = metered.account, metered.meter
    half = Discount.objects.create(code="veteran", name="Ветеран труда", percent=Decimal("50.00"))
    AccountDiscount.objects.create(account=acc, discount=half, valid_from=D(2025, 1, 1))
    read(meter, D(2025, 2, 1), "1150.0")
    bill(D(2025, 2, 1))
    # 964.50 ₽ − 50 % = 964.50 − 482.25 = 482.25 ₽.
    assert ("discount", 1, 0, -48_225) in lines(acc, D(2025, 2, 1))
    assert charged(acc, D(2025, 2, 1)) == 48_225


@pytest.mark.django_db
def test_rerun_never_charges_twice_and_bills_the_rest(metered, customers, tariffs):
    acc = metered.account
    read(metered.meter, D(2025, 2, 1), "1150.0")
    first = bill(D(2025, 2, 1))
    # A second account appears in the branch after the first run (opened back in January).
    other = customers.acc_romashka
    other.opened_on = D(2025, 1, 1)
    other.save()
    BillingProfile.objects.create(account=other, category=tariffs.urban, residents=1)
    second = bill(D(2025, 2, 1))
    assert LedgerEntry.objects.filter(account=acc, period=D(2025, 2, 1), kind="charge").count() == 1
    assert Charge.objects.filter(account=acc, period=D(2025, 2, 1)).count() == 1
    assert first.counts["accounts"] == 1 and second.counts["accounts"] == 1
    assert second.counts["skipped"] == 1
    # No meter for Ромашка: 100 kWh × 1 resident × 6.43 = 643.00 ₽.
    assert charged(other, D(2025, 2, 1)) == 64_300


@pytest.mark.django_db
def test_account_without_tariff_is_reported_and_others_are_billed(metered, customers, tariffs):
    from okno.billing.models import ConsumerCategory

    other = customers.acc_romashka
    other.opened_on = D(2025, 1, 1)
    other.save()
    rural = ConsumerCategory.objects.get(code="rural")
    BillingProfile.objects.create(account=other, category=rural, residents=1)
    read(metered.meter, D(2025, 2, 1), "1150.0")
    run = bill(D(2025, 2, 1))
    assert run.counts["accounts"] == 1 and run.counts["errors"] == 1
    assert run.errors[0]["account_id"] == other.pk and run.errors[0]["error"] == "no_tariff"
    assert not LedgerEntry.objects.filter(account=other).exists()
    assert charged(metered.account, D(2025, 2, 1)) == 96_450


@pytest.mark.django_db
def test_branch_run_bills_only_its_branch(metered, customers, tariffs, org):
    other = customers.acc_romashka
    other.opened_on = D(2025, 1, 1)
    other.save()
    BillingProfile.objects.create(account=other, category=tariffs.urban, residents=1)
    bill(D(2025, 2, 1), branch=org.b)
    assert LedgerEntry.objects.filter(period=D(2025, 2, 1)).count() == 1
    assert charged(other, D(2025, 2, 1)) == 64_300


@pytest.mark.django_db
def test_chunks_cover_every_account(metered, customers, tariffs):
    from okno.billing.engine import execute_run as run_in_chunks

    other = customers.acc_romashka
    other.opened_on = D(2025, 1, 1)
    other.save()
    BillingProfile.objects.create(account=other, category=tariffs.urban, residents=3)
    run = BillingRun.objects.create(period=D(2025, 2, 1))
    seen = []
    run_in_chunks(run, progress=lambda i, n, total: seen.append((i, n)), chunk=1)
    assert LedgerEntry.objects.filter(period=D(2025, 2, 1), kind="charge").count() == 2
    assert seen[-1][0] == seen[-1][1] >= 2
    run.refresh_from_db()
    assert run.progress == 100 and run.status == "done"


def test_add_months_helper():
    assert add_months(D(2025, 11, 1), 3) == D(2026, 2, 1)


@pytest.mark.django_db(transaction=True)
def test_parallel_chunks_on_postgresql(metered, customers, tariffs, settings):
    """Outside a transaction on PostgreSQL the chunks run on two connections at once, same result."""
    from django.db import connection

    settings.OKNO_BILLING_WORKERS = 2
    other = customers.acc_romashka
    other.opened_on = D(2025, 1, 1)
    other.save()
    BillingProfile.objects.create(account=other, category=tariffs.urban, residents=1)
    read(metered.meter, D(2025, 2, 1), "1150.0")
    run = BillingRun.objects.create(period=D(2025, 2, 1))
    seen: list[int] = []
    result = execute_run(run, chunk=1, progress=lambda i, n, total: seen.append(i))
    assert result.accounts == 2 and sorted(seen) == list(range(1, len(seen) + 1))
    assert charged(metered.account, D(2025, 2, 1)) == 96_450 and charged(other, D(2025, 2, 1)) == 64_300
    run.refresh_from_db()
    assert run.status == "done" and run.counts["accounts"] == 2
    if connection.vendor == "postgresql":
        from okno.billing.engine import _workers

        assert _workers(5) == 2
