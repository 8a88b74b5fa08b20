"""`okno seed --accounts 1000000 --appeals 3000000` on PostgreSQL (target < 10 min).

Runs the real command against a scratch database and reports wall time and row counts. The database
is kept (named okno_bench_big) so that bench_report.py can build on it; pass --drop to remove it.

    .venv/bin/python bench/bench_seed.py [--accounts 1000000] [--appeals 3000000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from common import ROOT, write_result

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = "okno_bench_big"
PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-tA"]


def psql(sql: str, db: str = "postgres") -> str:
    return subprocess.run(
        [*PSQL, "-d", db, "-c", sql], check=True, capture_output=True, text=True
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--appeals", type=int, default=3_000_000)
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()
    psql(f"DROP DATABASE IF EXISTS {DB}")
    psql(f"CREATE DATABASE {DB}")
    env = {**os.environ, "DATABASE_URL": f"{PG}/{DB}", "OKNO_ENV": "development"}
    subprocess.run(
        [sys.executable, "-m", "okno.cli", "migrate", "--no-input"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "okno.cli",
            "seed",
            "--accounts",
            str(args.accounts),
            "--appeals",
            str(args.appeals),
            "--seed",
            "1",
            "--no-billing",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - t0
    counts = {
        table: int(psql(f"SELECT count(*) FROM {table}", DB))  # noqa: S608 (fixed table names)
        for table in (
            "customers_customer",
            "customers_account",
            "appeals_appeal",
            "appeals_appealevent",
            "appeals_answer",
            "customers_contactevent",
            "appeals_appealstat",
        )
    }
    write_result(
        "seed",
        {
            "database": "postgresql",
            "command": f"okno seed --accounts {args.accounts} --appeals {args.appeals} --seed 1 --no-billing",
            "seconds": round(seconds, 1),
            "rows": counts,
            "appeals_per_s": round(counts["appeals_appeal"] / seconds),
            "target_seconds": 600,
            "meets_target": seconds < 600,
            "last_output_lines": proc.stdout.strip().splitlines()[-5:],
        },
    )
    if args.drop:
        psql(f"DROP DATABASE IF EXISTS {DB}")


if __name__ == "__main__":
    main()
