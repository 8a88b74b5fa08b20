"""The registry report over 10 M appeals on PostgreSQL (target < 2 s).

Builds on the database left by bench_seed.py (okno_bench_big, 3 M seeded appeals) and tops the
appeals table up to --appeals rows by copying seeded rows under new numbers (INSERT … SELECT), then
rebuilds the daily statistics and times the report as a user sees it: both tables of the report
page (a year by month × branch × channel, and the regulator's form with the previous year), median
of five runs, plus one direct GROUP BY over the appeals table for comparison.

    .venv/bin/python bench/bench_report.py [--appeals 10000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time

from common import ROOT, setup_django, write_result

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = "okno_bench_big"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--appeals", type=int, default=10_000_000)
    args = parser.parse_args()
    setup_django(f"{PG}/{DB}")
    from django.db import connection

    from okno.analytics.queries import ReportFilter, appeals_report, regulator_form
    from okno.org.models import User

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM appeals_appeal")
        have = cur.fetchone()[0]
        if have == 0:
            raise SystemExit("run bench/bench_seed.py first (it leaves okno_bench_big)")
        need = args.appeals - have
        t0 = time.perf_counter()
        if need > 0:
            cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'appeals_appeal' AND column_name <> 'id' "
                "ORDER BY ordinal_position"
            )
            cols = [r[0] for r in cur.fetchall()]
            select = ", ".join("('c' || g || '-' || a.id)" if c == "number" else f"a.{c}" for c in cols)
            copies = -(-need // have)
            cur.execute(
                f"INSERT INTO appeals_appeal ({', '.join(cols)}) SELECT {select} "  # noqa: S608 (column names from the catalogue)
                f"FROM appeals_appeal a CROSS JOIN generate_series(1, {copies}) g WHERE a.number NOT LIKE 'c%%' LIMIT {need}"
            )
        load_seconds = time.perf_counter() - t0
        cur.execute("ANALYZE appeals_appeal")
        cur.execute("SELECT count(*) FROM appeals_appeal")
        total = cur.fetchone()[0]
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "okno.cli", "rebuild_stats"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "DATABASE_URL": f"{PG}/{DB}"},
    )
    rebuild_seconds = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute("ANALYZE appeals_appealstat")
        cur.execute("SELECT count(*), coalesce(sum(received), 0) FROM appeals_appealstat")
        stat_rows, stat_received = cur.fetchone()

    admin = User.objects.get(username="admin")
    today = dt.datetime.now(dt.UTC).date()
    flt = ReportFilter(
        date_from=today - dt.timedelta(days=365),
        date_to=today,
        period="month",
        dimensions=("branch", "channel"),
    )
    timings = []
    for _ in range(5):
        t0 = time.perf_counter()
        rows = appeals_report(admin, flt)
        form = regulator_form(admin, today.year)
        timings.append(time.perf_counter() - t0)
    full = ReportFilter(
        date_from=today - dt.timedelta(days=365),
        date_to=today,
        period="month",
        dimensions=("branch", "channel", "kind", "topic"),
    )
    t0 = time.perf_counter()
    full_rows = appeals_report(admin, full)
    full_seconds = time.perf_counter() - t0
    with connection.cursor() as cur:
        t0 = time.perf_counter()
        cur.execute(
            "SELECT date_trunc('month', received_at), branch_id, channel, count(*), count(*) FILTER (WHERE on_time), "
            "count(*) FILTER (WHERE on_time = false) FROM appeals_appeal GROUP BY 1, 2, 3"
        )
        cur.fetchall()
        direct_seconds = time.perf_counter() - t0
    write_result(
        "report",
        {
            "database": "postgresql",
            "appeals": total,
            "appeals_counted_in_rollup": stat_received,
            "rollup_rows": stat_rows,
            "top_up_seconds": round(load_seconds, 1),
            "rebuild_stats_seconds": round(rebuild_seconds, 1),
            "report_page_seconds_median": round(statistics.median(timings), 3),
            "report_page_seconds_max": round(max(timings), 3),
            "report_rows": len(rows),
            "regulator_form_rows": len(form),
            "all_four_dimensions_seconds": round(full_seconds, 3),
            "all_four_dimensions_rows": len(full_rows),
            "direct_group_by_over_appeals_seconds": round(direct_seconds, 2),
            "target_seconds": 2,
            "meets_target": max(timings) < 2,
        },
    )


if __name__ == "__main__":
    main()
