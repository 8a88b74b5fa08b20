"""Appeal registration through the API under `okno serve` on PostgreSQL (target ≥ 300/s, p99 < 150 ms).

Creates a scratch database, migrates it, seeds a small utility, starts `okno serve` (gunicorn) on
loopback and drives POST /api/v1/appeals/ with wrk (Debian package `wrk`) for a bounded time. Every
request goes through token auth, validation, routing, the deadline computation, auto-assignment,
the change log, the timeline, the statistics and the contact history. In the same run a bare
`INSERT` of an appeal-sized row into a table with 4 indexes is measured with pgbench, and the ratio is
reported. Loopback only; bounded in time.

    .venv/bin/python bench/bench_registration.py [--workers 3] [--connections 12] [--duration 20]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import ROOT, write_result

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = "okno_bench_registration"
PORT = 8777
PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]


def psql(sql: str, db: str = "postgres") -> str:
    return subprocess.run(
        [*PSQL, "-d", db, "-tA", "-c", sql], check=True, capture_output=True, text=True
    ).stdout.strip()


def okno(*args: str, env: dict[str, str]) -> str:
    return subprocess.run(
        [sys.executable, "-m", "okno.cli", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def pgbench_insert_rate(env: dict[str, str], seconds: int) -> float:
    psql(
        "DROP TABLE IF EXISTS bench_insert; CREATE TABLE bench_insert (id bigserial primary key, number varchar(20) unique, "
        "channel varchar(20), kind varchar(20), topic varchar(20), status varchar(20), text text, received_at timestamptz, "
        "deadline_at timestamptz, branch_id bigint, customer_id bigint); "
        "CREATE INDEX ON bench_insert (status, deadline_at); CREATE INDEX ON bench_insert (branch_id, status); "
        "CREATE INDEX ON bench_insert (customer_id, topic, received_at);",
        DB,
    )
    script = Path(tempfile.mkstemp(suffix=".sql")[1])
    script.write_text(
        "INSERT INTO bench_insert (number, channel, kind, topic, status, text, received_at, deadline_at, branch_id, customer_id) "
        "VALUES (left(md5(random()::text || clock_timestamp()::text), 20), 'contact_center', 'report', 'outage', 'assigned', "
        "'Нет света в квартире с утра, у соседей тоже нет, просим сообщить срок восстановления.', now(), now() + interval '30 days', "
        "1, (random() * 5000)::int);\n",
        encoding="utf-8",
    )
    pgbench = shutil.which("pgbench") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))), None
    )
    if pgbench is None:
        raise SystemExit("pgbench not found (Debian package postgresql-contrib / postgresql-client)")
    out = subprocess.run(
        [
            str(pgbench),
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-n",
            "-c",
            "8",
            "-j",
            "2",
            "-T",
            str(seconds),
            "-f",
            str(script),
            DB,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    script.unlink()
    psql("DROP TABLE bench_insert", DB)
    return float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]


def lua_script(token: str, accounts: list[str]) -> Path:
    acc = ",".join(f'"{a}"' for a in accounts)
    path = Path(tempfile.mkstemp(suffix=".lua")[1])
    path.write_text(
        f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Token {token}"
local accounts = {{{acc}}}
local texts = {{"Нет света в квартире с утра.", "Пропало электричество во всём доме.", "Мигает свет, потом погас.", "Нет напряжения на улице."}}
local non201 = 0
request = function()
  local body = string.format('{{"channel":"contact_center","kind":"report","topic":"outage","text":"%s","account_number":"%s"}}',
    texts[math.random(#texts)], accounts[math.random(#accounts)])
  return wrk.format(nil, "/api/v1/appeals/", nil, body)
end
response = function(status, headers, body)
  if status ~= 201 then non201 = non201 + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d errors=%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
""",
        encoding="utf-8",
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=12)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--accounts", type=int, default=5000)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")

    psql(f"DROP DATABASE IF EXISTS {DB}")
    psql(f"CREATE DATABASE {DB}")
    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB}",
        "OKNO_ENV": "development",
        "DJANGO_SETTINGS_MODULE": "okno.settings",
    }
    okno("migrate", "--no-input", env=env)
    okno("seed", "--accounts", str(args.accounts), "--appeals", "2000", "--seed", "3", env=env)
    token = re.search(r"Generated token (\w+)", okno("drf_create_token", "cc_operator", env=env)).group(1)  # type: ignore[union-attr]
    accounts = psql("SELECT number FROM customers_account ORDER BY id LIMIT 3000", DB).split()
    script = lua_script(token, accounts)

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "okno.cli",
            "serve",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--no-worker",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/login/", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        url = f"http://127.0.0.1:{PORT}"
        subprocess.run(
            ["wrk", "-t2", f"-c{args.connections}", "-d3s", "-s", str(script), url],
            check=True,
            capture_output=True,
        )
        before = int(psql("SELECT count(*) FROM appeals_appeal", DB))
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--timeout",
                "5s",
                "-s",
                str(script),
                url,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        after = int(psql("SELECT count(*) FROM appeals_appeal", DB))
    finally:
        server.terminate()
        server.wait(timeout=30)
        script.unlink()
    fig = dict(re.findall(r"(\w+)=(\d+)", out.split("RESULT", 1)[1]))
    seconds = int(fig["duration_us"]) / 1e6
    rate = int(fig["requests"]) / seconds
    insert_rate = pgbench_insert_rate(env, 10)
    write_result(
        "registration",
        {
            "database": "postgresql",
            "server": f"okno serve (gunicorn, {args.workers} workers × {args.threads} threads)",
            "load": f"wrk -t2 -c{args.connections} -d{args.duration}s, loopback, same 2-core machine",
            "requests": int(fig["requests"]),
            "appeals_created": after - before,
            "errors": int(fig["errors"]),
            "appeals_per_s": round(rate, 1),
            "latency_ms": {k: round(int(fig[f"{k}_us"]) / 1000, 1) for k in ("p50", "p90", "p99", "max")},
            "bare_insert_per_s_pgbench_8_clients": round(insert_rate, 1),
            "ratio_api_to_bare_insert": round(rate / insert_rate, 3),
            "target": {"appeals_per_s": 300, "p99_ms": 150},
            "meets_target": rate >= 300 and int(fig["p99_us"]) < 150_000,
        },
    )
    psql(f"DROP DATABASE IF EXISTS {DB}")


if __name__ == "__main__":
    main()
