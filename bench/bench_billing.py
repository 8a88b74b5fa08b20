"""The monthly billing run over 1,000,000 accounts on PostgreSQL (target < 60 s, memory < 2 GB).

Builds a fresh database ``okno_bench_billing`` with N household accounts (set-based INSERT … SELECT
over generate_series): 90 % have a meter with seven months of readings — of these 80 % have a reading
for the billed month (billed by readings), 10 % lack it for a month (billed by the average), 10 %
have a two-zone meter; 10 % have no meter (billed by the norm). Then it times the real run
(:func:`okno.billing.engine.execute_run`, chunks of 50 000 accounts per transaction, penalties
included) and, in the same process, a plain ``INSERT … SELECT`` of as many rows as the run wrote
charge lines, for the ratio.

    .venv/bin/python bench/bench_billing.py [--accounts 1000000] [--build-only | --keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import time

from common import ROOT, insert_households, setup_django, write_result

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = "okno_bench_billing"
PERIOD = dt.date(2026, 10, 1)


def psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(["psql", f"{PG}/{db}", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True)


def build(n: int) -> float:
    psql(f"DROP DATABASE IF EXISTS {DB}")
    psql(f"CREATE DATABASE {DB}")
    env = {**os.environ, "DATABASE_URL": f"{PG}/{DB}", "OKNO_ENV": "development"}
    subprocess.run([sys.executable, "-m", "okno.cli", "migrate", "-v", "0"], cwd=ROOT, check=True, env=env)
    setup_django(f"{PG}/{DB}")
    from django.db import connection

    from okno.billing.models import ConsumerCategory, ConsumptionNorm, Tariff, TariffRate
    from okno.org.models import Branch, Company

    t0 = time.perf_counter()
    company = Company.objects.create(name="Bench")
    branch = Branch.objects.create(company=company, code="bench", name="Bench", region="Bench region")
    urban = ConsumerCategory.objects.get(code="urban")
    for zones, prices in {1: [64300], 2: [70100, 32000]}.items():
        tariff = Tariff.objects.create(
            region="Bench region", category=urban, zones=zones, valid_from=dt.date(2025, 1, 1)
        )
        for zone, price in enumerate(prices, start=1):
            TariffRate.objects.create(tariff=tariff, zone=zone, tier=1, price_e4=price)
    ConsumptionNorm.objects.create(
        region="Bench region", category=urban, valid_from=dt.date(2020, 1, 1), wh_per_resident=100_000
    )
    history = [dt.date(2026, m, 1) for m in range(3, 10)]  # March … September
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO customers_address (id, region, district, settlement, street, house, building, flat, postal_code)"
            " SELECT g, 'Bench region', '', 'Город', 'ул. Тестовая', (g / 100)::text, '', (g %% 100)::text, ''"
            " FROM generate_series(1, %s) g",
            [n],
        )
        insert_households(cur, n, branch.pk)
        cur.execute(
            "INSERT INTO billing_billingprofile (account_id, category_id, residents, billable)"
            " SELECT g, %s, 1 + g %% 4, true FROM generate_series(1, %s) g",
            [urban.pk, n],
        )
        # Meters on 9 of 10 accounts; every tenth of those has two zones.
        cur.execute(
            "INSERT INTO billing_meter (id, account_id, model, serial, integer_digits, fraction_digits, zones,"
            " installed_on, verification_interval_years, location, status, is_smart)"
            " SELECT g, g, 'Bench', g::text, 6, 1, CASE WHEN g %% 10 = 1 THEN 2 ELSE 1 END, '2026-02-15', 16, '',"
            " 'active', false FROM generate_series(1, %s) g WHERE g %% 10 <> 0",
            [n],
        )
        # Initial reading in February, then one a month; every tenth metered account misses October.
        for i, period in enumerate([dt.date(2026, 2, 1), *history, PERIOD]):
            skip = " AND m.id %% 10 <> 5" if period == PERIOD else ""
            cur.execute(
                "INSERT INTO billing_reading (meter_id, account_id, period, taken_on, t1_wh, t2_wh, kind, channel,"
                " status, flags, version, reason, submitted_at)"
                " SELECT m.id, m.account_id, %s, %s, 1000000 + %s * (80000 + (m.id %% 97) * 1000),"
                " CASE WHEN m.zones = 2 THEN 500000 + %s * 40000 END, %s, 'cabinet', 'accepted', '[]', 1, '', now()"
                f" FROM billing_meter m WHERE true{skip}",
                [period, period.replace(day=20), i, i, "initial" if i == 0 else "regular"],
            )
        for table in (
            "customers_address",
            "customers_customer",
            "customers_servicepoint",
            "customers_account",
        ):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [n])
        cur.execute("SELECT setval(pg_get_serial_sequence('billing_meter', 'id'), %s)", [n])
    with connection.cursor() as cur:
        for table in ("customers_account", "billing_meter", "billing_reading", "billing_billingprofile"):
            cur.execute(f"ANALYZE {table}")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="Reuse okno_bench_billing as it is")
    parser.add_argument("--build-only", action="store_true", help="Build the database and stop")
    args = parser.parse_args()
    if args.keep:
        setup_django(f"{PG}/{DB}")
        build_seconds = 0.0
    else:
        build_seconds = build(args.accounts)
        if args.build_only:
            print(f"built {args.accounts} accounts in {build_seconds:.1f} s")
            return
    from django.db import connection

    from okno.billing.engine import execute_run
    from okno.billing.models import BillingRun

    with connection.cursor() as cur:
        cur.execute("DELETE FROM billing_charge WHERE period = %s", [PERIOD])
        cur.execute("DELETE FROM billing_ledgerentry WHERE period = %s", [PERIOD])
        cur.execute("DELETE FROM billing_billingrun")
        cur.execute("SELECT count(*) FROM customers_account")
        accounts = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM billing_reading")
        readings = cur.fetchone()[0]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run = BillingRun.objects.create(period=PERIOD)
    t0 = time.perf_counter()
    result = execute_run(run)
    run_seconds = time.perf_counter() - t0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM billing_charge WHERE period = %s", [PERIOD])
        lines = cur.fetchone()[0]
        cur.execute("CREATE UNLOGGED TABLE IF NOT EXISTS bench_plain (a bigint, p date, v bigint, k bigint)")
        cur.execute("TRUNCATE bench_plain")
        t0 = time.perf_counter()
        cur.execute(
            "INSERT INTO billing_charge (account_id, period, run_id, meter_id, method, zones, zone, tier, volume_wh,"
            " price_e4, amount_kop, months)"
            " SELECT c.account_id, '2099-01-01', c.run_id, c.meter_id, c.method, c.zones, c.zone, c.tier,"
            " c.volume_wh, c.price_e4, c.amount_kop, c.months FROM billing_charge c WHERE c.period = %s",
            [PERIOD],
        )
        plain_seconds = time.perf_counter() - t0
        cur.execute("DELETE FROM billing_charge WHERE period = '2099-01-01'")
        # Postgres backend memory is bounded by work_mem per sort/hash; report the setting.
        cur.execute("SHOW work_mem")
        work_mem = cur.fetchone()[0]
    figures = {
        "database": "postgresql",
        "accounts": accounts,
        "readings_in_table": readings,
        "build_seconds": round(build_seconds, 1),
        "run_seconds": round(run_seconds, 2),
        "accounts_per_second": round(result.accounts / run_seconds),
        "accounts_billed": result.accounts,
        "charge_lines": lines,
        "methods": result.methods,
        "amount_rub": f"{result.amount_kop / 100:.2f}",
        "errors": len(result.errors),
        "plain_insert_select_seconds": round(plain_seconds, 2),
        "ratio_run_to_plain_insert": round(run_seconds / plain_seconds, 1),
        "python_peak_rss_mb": round(max(rss_before, rss_after) / 1024, 1),
        "postgres_work_mem": work_mem,
        "target": "run < 60 s (aim 30 s), memory < 2 GB",
        "met": run_seconds < 60 and rss_after / 1024 < 2048,
    }
    write_result("billing_run", figures)


if __name__ == "__main__":
    main()
