"""'Is there power at my address?' on PostgreSQL: 10,000 lookups by address, account and phone over
1,000,000 service points and 1,000 active outages (target p99 < 5 ms).

Builds a fresh database ``okno_bench_lookup`` with set-based ``INSERT … SELECT generate_series``:
100 settlements × 40 streets × 25 houses × 10 flats = 1,000,000 addresses, one service point, customer,
account and phone at each; a grid of 100 power centres → 2,000 feeders → 20,000 substations, each
substation feeding 50 service points (five houses); 1,000 active outages (100 on feeders, 900 on
substations, each with its OutageNode row), 100 scheduled works ahead and 1,000 restored outages.

Then it times :func:`okno.outages.lookup.power_at` in-process (the function, not HTTP) for 10,000 random
queries, a third of each kind, addresses typed in several ways. The cache of open outages has its
production TTL (5 s), so its reloads during the run are part of the figures; the very first call
(which also builds the street directory) is reported apart.

    BENCH_PG=postgres://postgres@127.0.0.1:5432 .venv/bin/python bench/bench_outage_lookup.py [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import time

from common import ROOT, insert_households, setup_django, write_result

from okno.demo.words import STREETS as DEMO_STREETS

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = "okno_bench_lookup"
SETTLEMENTS = [
    f"{a}{b}"
    for a in ("Бел", "Крас", "Нов", "Стар", "Зелен", "Камен", "Лес", "Озер", "Сосн", "Берез")
    for b in ("ово", "ино", "ск", "огорск", "ополь", "ка", "ицы", "орецк", "инка", "ушка")
]
# The demo's 26 street names plus 14 more: 40 streets × 25 houses × 10 flats per settlement.
STREETS = [
    *DEMO_STREETS,
    "ул. Кирова",
    "ул. Чапаева",
    "ул. Горького",
    "ул. Маяковского",
    "ул. Калинина",
    "ул. Свердлова",
    "ул. Чкалова",
    "ул. Куйбышева",
    "ул. Фрунзе",
    "ул. Дзержинского",
    "ул. Островского",
    "ул. Некрасова",
    "ул. Лермонтова",
    "ул. Толстого",
]
HOUSES, FLATS = 25, 10
PER_SETTLEMENT = len(STREETS) * HOUSES * FLATS  # 10,000
N_PC, N_FEEDER, N_SUB = 100, 2_000, 20_000


def psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(["psql", f"{PG}/{db}", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True)


def build(n: int) -> float:
    psql(f"DROP DATABASE IF EXISTS {DB}")
    psql(f"CREATE DATABASE {DB}")
    env = {**os.environ, "DATABASE_URL": f"{PG}/{DB}", "OKNO_ENV": "development"}
    subprocess.run([sys.executable, "-m", "okno.cli", "migrate", "-v", "0"], cwd=ROOT, check=True, env=env)
    setup_django(f"{PG}/{DB}")
    from django.db import connection
    from django.utils import timezone

    from okno.org.models import Branch, Company
    from okno.outages.models import Outage, OutageNode

    t0 = time.perf_counter()
    company = Company.objects.create(name="Bench")
    branch = Branch.objects.create(company=company, code="bench", name="Bench", region="Bench region")
    sp_per_sub = n // N_SUB
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_settlement (i int PRIMARY KEY, name text)")
        cur.execute("CREATE TEMP TABLE bench_street (i int PRIMARY KEY, name text)")
        cur.executemany("INSERT INTO bench_settlement VALUES (%s, %s)", list(enumerate(SETTLEMENTS)))
        cur.executemany("INSERT INTO bench_street VALUES (%s, %s)", list(enumerate(STREETS)))
        # Address g: settlement (g-1) / 10000, street ((g-1) / 250) % 40, house ((g-1) / 10) % 25 + 1, flat.
        cur.execute(
            "INSERT INTO customers_address (id, region, district, settlement, street, house, building, flat,"
            " postal_code)"
            " SELECT g, 'Bench region', '', s.name, st.name, (((g - 1) / %s) %% %s + 1)::text, '',"
            " ((g - 1) %% %s + 1)::text, ''"
            " FROM generate_series(1, %s) g"
            " JOIN bench_settlement s ON s.i = ((g - 1) / %s) %% %s"
            " JOIN bench_street st ON st.i = ((g - 1) / %s) %% %s",
            [
                FLATS,
                HOUSES,
                FLATS,
                n,
                PER_SETTLEMENT,
                len(SETTLEMENTS),
                HOUSES * FLATS,
                len(STREETS),
            ],
        )
        insert_households(cur, n, branch.pk)
        cur.execute(
            "INSERT INTO customers_contactpoint (customer_id, kind, value, is_primary)"
            " SELECT g, 'phone', '+79' || lpad(g::text, 9, '0'), true FROM generate_series(1, %s) g",
            [n],
        )
        # The grid: ids 1…100 power centres, 101…2100 feeders, 2101…22100 substations, paths in SQL.
        common = "%s, NULL, '', '', NULL, NULL, true, NULL, NULL, NULL, false, '', NULL, NULL, ''"
        cols = (
            "id, code, name, kind, parent_id, voltage_kv, path, depth, branch_id, grid_district_id, settlement,"
            " location, latitude, longitude, in_service, installed_mva, load_mva, reserved_mva,"
            " closed_for_connection, closed_reason, reconstruction_from, reconstruction_until, reconstruction_note"
        )
        cur.execute(
            f"INSERT INTO outages_gridnode ({cols})"
            f" SELECT g, 'PC-' || g, 'ПС ' || g, 'power_centre', NULL, 110, '/' || g || '/', 0, {common}"
            " FROM generate_series(1, %s) g",
            [branch.pk, N_PC],
        )
        per_pc = N_FEEDER // N_PC
        cur.execute(
            f"INSERT INTO outages_gridnode ({cols})"
            " SELECT 100 + g, 'F-' || g, 'Фидер ' || g, 'feeder', (g - 1) / %s + 1, 10,"
            f" '/' || ((g - 1) / %s + 1) || '/' || (100 + g) || '/', 1, {common}"
            " FROM generate_series(1, %s) g",
            [per_pc, per_pc, branch.pk, N_FEEDER],
        )
        per_feeder = N_SUB // N_FEEDER
        cur.execute(
            f"INSERT INTO outages_gridnode ({cols})"
            " SELECT 2100 + g, 'TP-' || g, 'ТП ' || g, 'substation', 100 + (g - 1) / %s + 1, 10,"
            " '/' || (((g - 1) / %s) / %s + 1) || '/' || (100 + (g - 1) / %s + 1) || '/' || (2100 + g) || '/',"
            f" 2, {common}"
            " FROM generate_series(1, %s) g",
            [per_feeder, per_feeder, per_pc, per_feeder, branch.pk, N_SUB],
        )
        cur.execute(
            "INSERT INTO outages_feed (service_point_id, node_id) SELECT g, 2100 + (g - 1) / %s + 1"
            " FROM generate_series(1, %s) g",
            [sp_per_sub, n],
        )
        for table in (
            "customers_address",
            "customers_customer",
            "customers_servicepoint",
            "customers_account",
        ):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [n])
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('outages_gridnode', 'id'), %s)", [N_PC + N_FEEDER + N_SUB]
        )
    # Outages through the ORM (a few thousand rows): 1,000 active, 100 scheduled ahead, 1,000 restored.
    rnd = random.Random(4)
    now = timezone.now()
    feeders = rnd.sample(range(101, 101 + N_FEEDER), 100)
    subs = rnd.sample(range(2101, 2101 + N_SUB), 900 + 100 + 1000)
    specs = (
        [("active", f) for f in feeders]
        + [("active", s) for s in subs[:900]]
        + [("scheduled", s) for s in subs[900:1000]]
        + [("restored", s) for s in subs[1000:]]
    )
    outages = []
    for i, (status, node_id) in enumerate(specs, start=1):
        started = now - dt.timedelta(minutes=rnd.randint(5, 600))
        fields: dict = {"started_at": started, "etr": now + dt.timedelta(hours=rnd.randint(1, 8))}
        if status == "scheduled":
            start = now + dt.timedelta(days=rnd.randint(1, 30))
            fields = {"planned_start": start, "planned_end": start + dt.timedelta(hours=6)}
        if status == "restored":
            fields["restored_at"] = started + dt.timedelta(hours=2)
        outages.append(
            Outage(
                number=f"B-{i:05d}",
                kind="planned" if status == "scheduled" else "unplanned",
                status=status,
                branch=branch,
                node_id=node_id,
                reason="Bench",
                **fields,
            )
        )
    Outage.objects.bulk_create(outages, batch_size=1000)
    OutageNode.objects.bulk_create(
        [
            OutageNode(
                outage=o,
                node_id=o.node_id,
                off_at=o.started_at,
                restored_at=o.restored_at,
            )
            for o in outages
        ],
        batch_size=1000,
    )
    with connection.cursor() as cur:
        for table in (
            "customers_address",
            "customers_servicepoint",
            "customers_account",
            "customers_contactpoint",
            "outages_gridnode",
            "outages_feed",
            "outages_outage",
            "outages_outagenode",
        ):
            cur.execute(f"ANALYZE {table}")
    return time.perf_counter() - t0


def queries(n_queries: int, n_sp: int, rnd: random.Random) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    for i in range(n_queries):
        g = rnd.randint(1, n_sp)
        if i % 3 == 0:
            settlement = SETTLEMENTS[((g - 1) // PER_SETTLEMENT) % len(SETTLEMENTS)]
            street = STREETS[((g - 1) // (HOUSES * FLATS)) % len(STREETS)]
            house = (g - 1) // FLATS % HOUSES + 1
            flat = (g - 1) % FLATS + 1
            bare = street.split(" ", 1)[1]
            text = rnd.choice(
                [
                    f"{settlement}, {street}, д. {house}",
                    f"г. {settlement}, {bare} д.{house} кв {flat}",
                    f"{settlement} {bare} {house}",
                    f"Тюменская обл., {settlement}, {street}, д. {house}, кв. {flat}",
                ]
            )
            out.append(("address", {"address": text}))
        elif i % 3 == 1:
            out.append(("account", {"account": f"{g:010d}"}))
        else:
            d = f"{g:09d}"
            phone = rnd.choice([f"+79{d}", f"8 (9{d[:2]}) {d[2:5]}-{d[5:7]}-{d[7:]}", f"9{d}"])
            out.append(("phone", {"phone": phone}))
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def explain(sql_queries: list[str]) -> list[str]:
    """EXPLAIN ANALYZE of the prepared statements the lookups ran (as they run: with a generic plan)."""
    from django.db import connection

    plans = []
    with connection.cursor() as cur:
        cur.execute("SET plan_cache_mode = force_generic_plan")
        for sql in sql_queries:
            if "EXECUTE okno_" not in sql:
                continue
            statement = "EXECUTE " + sql.split("EXECUTE ", 1)[1].split("; RESET", 1)[0]
            cur.execute("EXPLAIN ANALYZE " + statement)
            plans.append("\n".join(r[0] for r in cur.fetchall()))
        cur.execute("RESET plan_cache_mode")
    return plans


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--service-points", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="Reuse okno_bench_lookup as it is")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    if args.keep:
        setup_django(f"{PG}/{DB}")
        build_seconds = 0.0
    else:
        build_seconds = build(args.service_points)
        if args.build_only:
            print(f"built in {build_seconds:.1f} s")
            return
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from okno.outages import lookup
    from okno.outages.models import Outage

    active = Outage.objects.filter(status="active").count()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM customers_servicepoint")
        n_sp = cur.fetchone()[0]
    rnd = random.Random(7)
    work = queries(args.lookups, n_sp, rnd)
    lookup.invalidate_directory()
    lookup.invalidate_outages()
    t0 = time.perf_counter()
    lookup.power_at(address=f"{SETTLEMENTS[0]}, ул. Ленина, д. 1")
    cold_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    lookup._load_outages()
    reload_ms = (time.perf_counter() - t0) * 1000
    times: dict[str, list[float]] = {"address": [], "account": [], "phone": []}
    statuses: dict[str, int] = {}
    off = 0
    started = time.perf_counter()
    for kind, kwargs in work:
        t = time.perf_counter()
        result = lookup.power_at(**kwargs)
        times[kind].append((time.perf_counter() - t) * 1000)
        statuses[result.status] = statuses.get(result.status, 0) + 1
        off += result.power_on is False
    wall = time.perf_counter() - started
    everything = [t for ts in times.values() for t in ts]
    # The SQL of one lookup of each kind, for the plans (which indexes answer them).
    sqls = []
    for kwargs in (work[0][1], work[1][1], work[2][1]):
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            lookup.power_at(**kwargs)
        sqls.extend(q["sql"] for q in ctx.captured_queries)
    figures = {
        "database": "postgresql",
        "service_points": n_sp,
        "grid_nodes": N_PC + N_FEEDER + N_SUB,
        "active_outages": active,
        "lookups": len(everything),
        "build_seconds": round(build_seconds, 1),
        "first_lookup_cold_ms": round(cold_ms, 1),
        "outage_cache_reload_ms": round(reload_ms, 1),
        "outage_cache_ttl_s": lookup._outage_ttl(),
        "wall_seconds": round(wall, 2),
        "lookups_per_second": round(len(everything) / wall),
        "p50_ms": round(pct(everything, 50), 3),
        "p95_ms": round(pct(everything, 95), 3),
        "p99_ms": round(pct(everything, 99), 3),
        "max_ms": round(max(everything), 3),
        "mean_ms": round(statistics.fmean(everything), 3),
        "by_kind": {
            kind: {
                "n": len(ts),
                "p50_ms": round(pct(ts, 50), 3),
                "p95_ms": round(pct(ts, 95), 3),
                "p99_ms": round(pct(ts, 99), 3),
            }
            for kind, ts in times.items()
        },
        "statuses": statuses,
        "answers_power_off": off,
        "queries_per_lookup": len(sqls) / 3,
        "plans": explain(sqls),
        "target": "p99 < 5 ms",
        "met": pct(everything, 99) < 5,
    }
    write_result("outage_lookup", figures)


if __name__ == "__main__":
    main()
