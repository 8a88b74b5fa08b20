"""Bulk reading import with validation (target ≥ 5,000 readings/s on PostgreSQL).

Builds N accounts (``okno seed``), gives each a meter (one in five two-zone) with an initial reading and
six monthly readings (so that every meter has a previous reading and an average), then imports one
agents' CSV file of N readings through ``okno.billing.imports.import_readings`` — the same code as the
upload page and the API: parsing, bulk lookups, the shared validation per line, ``bulk_create``. About
1 % of the lines are refused (lower than the previous reading, wrong zone count, malformed) and 0.5 %
are implausible jumps held for review. A second import of the same bytes is timed too (idempotency).

Runs on the database of ``DATABASE_URL``; without it, on a scratch PostgreSQL database
``okno_bench_readings`` (dropped and created). The data of that database is replaced.

    .venv/bin/python bench/bench_reading_import.py [--n 200000] [--seed 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import time

from common import setup_django, write_result

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
SCRATCH = "okno_bench_readings"
HISTORY = [dt.date(2025, 1, 10)] + [dt.date(2025, m, 20) for m in range(2, 8)]  # initial + 6 monthly
READING_DAY = dt.date(2025, 8, 20)


def scratch_database() -> str:
    psql = [
        "psql",
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-v",
        "ON_ERROR_STOP=1",
        "-q",
        "-d",
        "postgres",
        "-c",
    ]
    subprocess.run([*psql, f"DROP DATABASE IF EXISTS {SCRATCH}"], check=True, capture_output=True)
    subprocess.run([*psql, f"CREATE DATABASE {SCRATCH}"], check=True, capture_output=True)
    return f"{PG}/{SCRATCH}"


def build(n: int, rng: random.Random) -> tuple[bytes, dict[str, int]]:
    """Accounts, meters and their history in the database; the import file in memory."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from okno.billing.models import Meter, Reading, ReadingImport
    from okno.customers.models import Account
    from okno.demo.generator import seed
    from okno.demo.writer import TableWriter, bulk_load, next_id, reset_sequences

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        for model in (Reading, ReadingImport, Meter):
            cursor.execute(f"DELETE FROM {model._meta.db_table}")  # noqa: S608 (fixed table names)
    seed(accounts=n, appeals=0, seed=1, reset=True, grid=False)
    accounts = list(Account.objects.order_by("id").values_list("id", "number")[:n])
    meters = TableWriter(
        Meter,
        [
            "id",
            "account_id",
            "model",
            "serial",
            "integer_digits",
            "fraction_digits",
            "zones",
            "installed_on",
            "verified_on",
            "status",
            "is_smart",
            "location",
            "verification_interval_years",
        ],
    )
    readings = TableWriter(
        Reading,
        [
            "meter_id",
            "account_id",
            "period",
            "taken_on",
            "t1_wh",
            "t2_wh",
            "t3_wh",
            "kind",
            "channel",
            "status",
            "flags",
            "version",
            "reason",
            "submitted_at",
        ],
    )
    lines: list[str] = []
    kinds = {"ok": 0, "jump": 0, "lower": 0, "zones": 0, "malformed": 0}
    first_meter = next_id(Meter)
    submitted = dt.datetime(2025, 7, 21, tzinfo=dt.UTC)
    with transaction.atomic(), bulk_load([Meter, Reading]):
        for i, (account_id, number) in enumerate(accounts):
            meter_id = first_meter + i
            zones = 2 if i % 5 == 0 else 1
            serial = f"B{i:08d}"
            meters.add(
                (
                    meter_id,
                    account_id,
                    "Меркурий 201.8",
                    serial,
                    6,
                    1,
                    zones,
                    HISTORY[0],
                    dt.date(2024, 12, 1),
                    "active",
                    False,
                    "",
                    16,
                )
            )
            monthly = [rng.randint(80_000, 400_000) for _ in range(zones)]  # Wh a month per zone
            values = [rng.randint(0, 50_000_000) // 100 * 100 for _ in range(zones)]
            for k, day in enumerate(HISTORY):
                if k:
                    values = [v + m // 100 * 100 for v, m in zip(values, monthly, strict=True)]
                padded = [*values, None, None][:3]
                readings.add(
                    (
                        meter_id,
                        account_id,
                        day.replace(day=1),
                        day,
                        padded[0],
                        padded[1],
                        padded[2],
                        "initial" if k == 0 else "regular",
                        "system" if k == 0 else "office",
                        "accepted",
                        "[]",
                        1,
                        "",
                        submitted,
                    )
                )
            roll = rng.random()
            if roll < 0.005:
                kinds["jump"] += 1
                new = [v + 20 * m // 100 * 100 for v, m in zip(values, monthly, strict=True)]
            elif roll < 0.010:
                kinds["lower"] += 1
                new = [max(v - 1_000_000, 0) for v in values]
            elif roll < 0.0125:
                kinds["zones"] += 1
                new = [*values, 1000] if zones == 1 else values[:1]
            elif roll < 0.015:
                kinds["malformed"] += 1
                lines.append(f"{number};{serial};2025-08-32;1")
                continue
            else:
                kinds["ok"] += 1
                new = [v + m // 100 * 100 for v, m in zip(values, monthly, strict=True)]
            shown = ";".join(f"{w // 1000}.{w % 1000 // 100}" for w in new)
            lines.append(f"{number};{serial};{READING_DAY:%d.%m.%Y};{shown}")
            if i % 20_000 == 19_999:
                meters.flush()
                readings.flush()
        meters.flush()
        readings.flush()
    reset_sequences([Meter, Reading])
    header = "account;meter_serial;date;t1;t2;t3\n"
    return (header + "\n".join(lines) + "\n").encode(), kinds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or scratch_database()
    os.environ.setdefault("OKNO_ENV", "development")
    setup_django(url)
    from django.db import connection

    from okno.billing.imports import import_readings_once
    from okno.billing.models import Reading
    from okno.org.models import system_actor

    t0 = time.perf_counter()
    data, kinds = build(args.n, random.Random(args.seed))
    prepared = time.perf_counter() - t0
    actor = system_actor("bench")
    before = Reading.objects.count()
    load_before = os.getloadavg()[0]  # other work on this machine slows the database down
    t1 = time.perf_counter()
    imp, created = import_readings_once(data=data, name="agents-2025-08.csv", kind="agent", actor=actor)
    seconds = time.perf_counter() - t1
    t2 = time.perf_counter()
    again, created_again = import_readings_once(data=data, name="agents-copy.csv", kind="agent", actor=actor)
    repeat_seconds = time.perf_counter() - t2
    added = Reading.objects.count() - before
    rate = args.n / seconds
    write_result(
        "reading_import",
        {
            "database": connection.vendor,
            "readings_in_file": args.n,
            "file_bytes": len(data),
            "prepare_seconds": round(prepared, 1),
            "import_seconds": round(seconds, 2),
            "readings_per_s": round(rate),
            "accepted": imp.accepted,
            "held": imp.held,
            "rejected": imp.rejected,
            "planned": kinds,
            "readings_added": added,
            "second_import_same_file": {
                "created": created_again,
                "same_import": again.pk == imp.pk,
                "seconds": round(repeat_seconds, 3),
            },
            "load_average_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "target_per_s": 5000,
            "meets_target": created and rate >= 5000 and not created_again,
        },
    )


if __name__ == "__main__":
    main()
