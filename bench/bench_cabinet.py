"""The personal cabinet's dashboard under load: 100 simulated customers against `okno serve` on
PostgreSQL with 1,000,000 accounts (target p95 < 150 ms).

The database ``okno_bench_cabinet`` is built once (``--rebuild`` builds it again) by the billing
benchmark's builder (:func:`bench_billing.build`: 1,000,000 households, meters, eight months of
readings), then two real billing runs (September and October 2026, penalties included) with a payment
of the September bill on 70 % of the accounts in between, so every account has charges, payments and a
debt or not. Then N cabinet users (default 2,000) are linked to random accounts (80 % one account,
15 % two, 5 % three) and the October invoices of the linked accounts are built
(:func:`okno.billing.invoices.build_invoices`, no PDFs).

Before the load, the rows of the cabinet users' accounts are read once through the pages' indexes
(:func:`warm_cache`; ``--cold`` skips it), as a server that has been running holds them in memory.

The load: `okno serve` (gunicorn, sized for the 2 cores) on loopback, and an asyncio load generator in
this process (stdlib only, a new connection per request like gunicorn's sync workers answer). Every
simulated user repeats a visit as a random cabinet user (a session made directly with Django's
``SessionStore``): the dashboard ``/cabinet/`` (for a single account, that account's page), then, when
the user holds more than one, each account's page ``/cabinet/accounts/<id>/``, with a think time of
1–3 s before each page. Users start over the ramp-up (not measured), then the run is measured for
``--duration`` seconds. A page counts as an error unless it
answers 200 and shows the account number it should. Queries per page are counted in-process (Django's
test client on the same database) for a sample of users, and the CPU the server's processes and this
database's PostgreSQL backends spent per request during the measured window (from /proc): on this
2-core machine that, more than a latency taken while other work runs, says how much load it can carry.

    .venv/bin/python bench/bench_cabinet.py [--users 100] [--duration 60] [--workers 4] [--rebuild]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import ROOT, write_result

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = "okno_bench_cabinet"
LOG = tempfile.TemporaryFile()  # noqa: SIM115  # the server's output for the whole run, shown when it fails
PORT = 8779
SEPTEMBER = dt.date(2026, 9, 1)
OCTOBER = dt.date(2026, 10, 1)
DASHBOARD = "/cabinet/"
ACCOUNT = "/cabinet/accounts/{id}/"
TARGET_P95_MS = 150.0

# The server and this process share one configuration: production settings on plain-HTTP loopback.
ENV = {
    "DATABASE_URL": f"{PG}/{DB}",
    "OKNO_ENV": "production",
    "SECRET_KEY": "bench-cabinet-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SECURE_SSL_REDIRECT": "false",
    "OKNO_JOBS_EAGER": "false",
    "DJANGO_SETTINGS_MODULE": "okno.settings",
}


def log_tail(lines: int = 30) -> str:
    LOG.seek(0)
    return "\n".join(LOG.read().decode("utf-8", "replace").splitlines()[-lines:])


def psql(sql: str, db: str = "postgres") -> str:
    return subprocess.run(
        ["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-qtA", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def database_ready(n: int, cabinet_users: int) -> bool:
    """The bench database exists and holds the accounts, both runs and the cabinet users."""
    if psql(f"SELECT count(*) FROM pg_database WHERE datname = '{DB}'") != "1":
        return False
    try:
        accounts = int(psql("SELECT count(*) FROM customers_account", DB))
        runs = int(psql("SELECT count(*) FROM billing_billingrun WHERE status = 'done'", DB))
        users = int(psql("SELECT count(*) FROM customers_cabinetuser", DB))
    except subprocess.CalledProcessError:
        return False
    return accounts == n and runs == 2 and users == cabinet_users


# --- the database ------------------------------------------------------------------------------


def build(n: int, cabinet_users: int) -> dict[str, Any]:
    import bench_billing

    bench_billing.DB = DB  # the billing benchmark's builder, into this benchmark's own database
    t0 = time.perf_counter()
    bench_billing.build(n)
    households_s = time.perf_counter() - t0

    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from okno.billing.engine import execute_run
    from okno.billing.invoices import build_invoices
    from okno.billing.models import BillingRun
    from okno.customers.models import CabinetLink, CabinetUser

    t0 = time.perf_counter()
    september = BillingRun.objects.create(period=SEPTEMBER)
    execute_run(september)
    with connection.cursor() as cur:
        # 70 % paid the September bill on 10 October (a ledger credit, as a posted payment leaves).
        cur.execute(
            "INSERT INTO billing_ledgerentry (account_id, kind, period, entry_date, amount_kop, note, created_at)"
            " SELECT account_id, 'payment', NULL, '2026-10-10', -amount_kop, '', now()"
            " FROM billing_ledgerentry WHERE kind = 'charge' AND period = %s AND account_id %% 10 < 7",
            [SEPTEMBER],
        )
    october = BillingRun.objects.create(period=OCTOBER)
    execute_run(october)
    billing_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    rng = random.Random(20261123)
    password = make_password("bench-password")  # one hash for all: logins are not what is measured
    users = CabinetUser.objects.bulk_create(
        [
            CabinetUser(email=f"bench{i}@example.org", password=password, name=f"Абонент {i}")
            for i in range(cabinet_users)
        ],
        batch_size=1000,
    )
    sizes = rng.choices([1, 2, 3], weights=[80, 15, 5], k=cabinet_users)
    account_ids = rng.sample(range(1, n + 1), sum(sizes))
    links, at = [], 0
    for user, size in zip(users, sizes, strict=True):
        for account_id in account_ids[at : at + size]:
            links.append(CabinetLink(user=user, account_id=account_id))
        at += size
    CabinetLink.objects.bulk_create(links, batch_size=2000)
    for offset in range(0, len(account_ids), 500):
        build_invoices(sorted(account_ids[offset : offset + 500]), OCTOBER, run=october)
    with connection.cursor() as cur:
        # The runs queued their invoice batches for the embedded worker, which the bench never starts.
        cur.execute("DELETE FROM core_jobrun WHERE status = 'queued'")
        for table in (
            "billing_ledgerentry",
            "billing_charge",
            "billing_invoice",
            "customers_cabinetuser",
            "customers_cabinetlink",
        ):
            cur.execute(f"ANALYZE {table}")
    cabinet_s = time.perf_counter() - t0
    return {
        "households_seconds": round(households_s, 1),
        "billing_runs_seconds": round(billing_s, 1),
        "cabinet_users_and_invoices_seconds": round(cabinet_s, 1),
    }


@dataclass
class Visitor:
    """A cabinet user with a live session: their cookie and their accounts (id, number)."""

    cookie: str
    accounts: list[tuple[int, str]] = field(default_factory=list)


WARM_TABLES = (
    ("billing_ledgerentry", "account_id"),
    ("billing_reading", "account_id"),
    ("billing_meter", "account_id"),
    ("billing_invoice", "account_id"),
    ("customers_account", "id"),
)


def warm_statement(table: str, column: str) -> str:
    """The statement that reads ``table``'s rows of the cabinet users' accounts. ``count(t.*)``, not
    ``count(*)``: a count of nothing but the join is answered by an index-only scan, which leaves the
    table's rows (what the pages read) on disk."""
    return f"SELECT count(t.*) FROM {table} t JOIN customers_cabinetlink l ON l.account_id = t.{column}"


def warm_cache() -> float:
    """Read the cabinet users' accounts' rows once, through the indexes the pages use, as a server that
    has been running has them in memory (a freshly built database is on disk: the first visit of each
    account would measure the disk). Seconds taken.

    This is the best case: every account the run visits is in memory. A real cabinet's visitors are
    spread over far more accounts than any cache holds, so ``--cold`` is the figure to compare too."""
    t0 = time.perf_counter()
    for table, column in WARM_TABLES:
        psql("SET enable_seqscan = off; SET enable_bitmapscan = off; " + warm_statement(table, column), DB)
    return time.perf_counter() - t0


def make_sessions() -> list[Visitor]:
    """A fresh session for every cabinet user, made as the login makes it (:mod:`okno.portal.cabinet.session`)."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session

    from okno.customers.models import CabinetLink, CabinetUser
    from okno.portal.cabinet.session import SESSION_KEY

    Session.objects.all().delete()
    accounts: dict[int, list[tuple[int, str]]] = {}
    for user_id, account_id, number in CabinetLink.objects.order_by("linked_at", "id").values_list(
        "user_id", "account_id", "account__number"
    ):
        accounts.setdefault(user_id, []).append((account_id, number))
    visitors = []
    for user in CabinetUser.objects.order_by("pk"):
        store = SessionStore()
        store[SESSION_KEY] = {"id": user.pk, "v": user.session_version}
        store.create()
        visitors.append(Visitor(cookie=f"sessionid={store.session_key}", accounts=accounts.get(user.pk, [])))
    return visitors


def count_queries(visitors: list[Visitor], sample: int) -> dict[str, Any]:
    """Queries and in-process time per page for ``sample`` users, one at a time (no load)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    pages: dict[str, list[tuple[int, float, int]]] = {"dashboard": [], "account": []}
    # One client for all: a new one builds a new handler (WhiteNoise indexes the static files), which
    # a server does once per worker, not per page.
    client = Client()
    client.get("/")
    for visitor in visitors[:sample]:
        client.cookies["sessionid"] = visitor.cookie.split("=", 1)[1]
        paths = [("dashboard", DASHBOARD)] + [("account", ACCOUNT.format(id=a)) for a, _ in visitor.accounts]
        for name, path in paths:
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                response = client.get(path)
                ms = (time.perf_counter() - t0) * 1000
            pages[name].append((len(ctx.captured_queries), ms, response.status_code))
    out: dict[str, Any] = {}
    for name, rows in pages.items():
        if rows:
            queries = [q for q, _, _ in rows]
            out[name] = {
                "pages": len(rows),
                "statuses": sorted({s for _, _, s in rows}),
                "queries_mean": round(statistics.mean(queries), 1),
                "queries_max": max(queries),
                "in_process_ms_median": round(statistics.median(ms for _, ms, _ in rows), 1),
            }
    return out


# --- the load ------------------------------------------------------------------------------------


@dataclass
class Sample:
    page: str
    started: float
    ms: float
    ok: bool
    status: int
    bytes: int


async def fetch(path: str, cookie: str, timeout: float) -> tuple[int, bytes]:
    """One GET over a new loopback connection; the status and the body."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", PORT), timeout)
    try:
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nCookie: {cookie}\r\n"
                "Accept: text/html\r\nAccept-Language: ru\r\nConnection: close\r\n\r\n"
            ).encode("ascii")
        )
        raw = await asyncio.wait_for(reader.read(-1), timeout)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, body


async def user_loop(
    rng: random.Random,
    visitors: list[Visitor],
    start_at: float,
    stop_at: float,
    samples: list[Sample],
    think: tuple[float, float],
) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, start_at - loop.time()))
    while loop.time() < stop_at:
        visitor = rng.choice(visitors)
        pages = [("dashboard", DASHBOARD, [n for _, n in visitor.accounts])]
        if len(visitor.accounts) > 1:  # with one account the dashboard is that account's page
            pages += [("account", ACCOUNT.format(id=a), [n]) for a, n in visitor.accounts]
        for page, path, expect in pages:
            await asyncio.sleep(rng.uniform(*think))
            if loop.time() >= stop_at:
                return
            t0 = loop.time()
            status, length, ok = 0, 0, False
            try:
                status, body = await fetch(path, visitor.cookie, timeout=30)
                length = len(body)
                ok = status == 200 and all(n.encode() in body for n in expect)
            except (TimeoutError, OSError, ValueError, IndexError):
                pass
            samples.append(Sample(page, t0, (loop.time() - t0) * 1000, ok, status, length))


HZ = os.sysconf("SC_CLK_TCK")


def proc_ticks(pid: int) -> int:
    """CPU time (user + system, clock ticks) a process has used, 0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rfind(")") + 2 :].split()[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def cpu_snapshot(server_pid: int) -> dict[str, Any]:
    """Machine-wide busy and total jiffies, and the ticks of the server's processes and of this
    database's PostgreSQL backends (the workers keep theirs: CONN_MAX_AGE)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    backends = [
        int(x)
        for x in psql(
            f"SELECT pid FROM pg_stat_activity WHERE datname = '{DB}' AND pid <> pg_backend_pid()"
        ).split()
    ]
    return {
        "busy": sum(fields) - idle,
        "total": sum(fields),
        "app": {pid: proc_ticks(pid) for pid in descendants(server_pid)},
        "db": {pid: proc_ticks(pid) for pid in backends},
    }


def cpu_used(before: dict[str, Any], after: dict[str, Any], requests: int) -> dict[str, Any]:
    def seconds(kind: str) -> float:
        return sum(t - before[kind].get(pid, 0) for pid, t in after[kind].items()) / HZ

    app, db = seconds("app"), seconds("db")
    return {
        "machine_busy_percent": round(
            100 * (after["busy"] - before["busy"]) / max(1, after["total"] - before["total"]), 1
        ),
        "server_cpu_seconds": round(app, 1),
        "postgres_cpu_seconds": round(db, 1),
        "server_cpu_ms_per_request": round(1000 * app / max(1, requests), 1),
        "postgres_cpu_ms_per_request": round(1000 * db / max(1, requests), 1),
    }


async def drive(
    visitors: list[Visitor],
    users: int,
    ramp: float,
    duration: float,
    think: tuple[float, float],
    server_pid: int,
) -> tuple[list[Sample], dict[str, Any]]:
    loop = asyncio.get_running_loop()
    begin = loop.time()
    measure_from, stop_at = begin + ramp, begin + ramp + duration
    samples: list[Sample] = []
    rng = random.Random(7)
    tasks = [
        asyncio.create_task(
            user_loop(
                random.Random(rng.random()),
                visitors,
                begin + ramp * i / users,
                stop_at,
                samples,
                think,
            )
        )
        for i in range(users)
    ]
    await asyncio.sleep(ramp)
    before = cpu_snapshot(server_pid)
    await asyncio.gather(*tasks)
    after = cpu_snapshot(server_pid)
    measured = [s for s in samples if s.started >= measure_from]
    return measured, cpu_used(before, after, len(measured))


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarise(samples: list[Sample], seconds: float) -> dict[str, Any]:
    ms = [s.ms for s in samples]
    statuses: dict[str, int] = {}
    for s in samples:
        statuses[str(s.status)] = statuses.get(str(s.status), 0) + 1
    return {
        "requests": len(samples),
        "errors": sum(not s.ok for s in samples),
        "statuses": dict(sorted(statuses.items())),
        "rps": round(len(samples) / seconds, 1),
        "latency_ms": {
            "p50": round(percentile(ms, 50), 1),
            "p95": round(percentile(ms, 95), 1),
            "p99": round(percentile(ms, 99), 1),
            "max": round(max(ms), 1) if ms else None,
        },
        "mean_body_kb": round(statistics.mean(s.bytes for s in samples) / 1024, 1) if samples else None,
    }


def start_server(workers: int, threads: int) -> subprocess.Popen:
    env = {**os.environ, **ENV}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "okno.cli",
            "serve",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--no-worker",
        ],
        cwd=ROOT,
        env=env,
        stdout=LOG,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"okno serve exited with {server.returncode}:\n{log_tail()}")
        try:
            status, _ = asyncio.run(fetch("/", "", timeout=2))
            if status:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    stop_server(server)
    raise SystemExit("okno serve did not answer within 120 s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()  # okno serve passes SIGTERM on to gunicorn, which stops its workers
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--cabinet-users", type=int, default=2000)
    parser.add_argument("--users", type=int, default=100, help="simulated concurrent customers")
    parser.add_argument("--duration", type=float, default=60, help="measured seconds")
    parser.add_argument("--ramp", type=float, default=10, help="seconds to start the users (not measured)")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rebuild", action="store_true", help="build okno_bench_cabinet again")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument(
        "--cold", dest="warm", action="store_false", help="skip reading the accounts' rows into memory first"
    )
    parser.add_argument("--query-sample", type=int, default=30, help="users whose pages' queries are counted")
    parser.add_argument("--name", default="cabinet_dashboard", help="results/<name>.json")
    args = parser.parse_args()

    static_root = tempfile.mkdtemp(prefix="okno-bench-static-")
    os.environ.update(ENV, STATIC_ROOT=static_root)  # production's manifest storage: collected here
    try:
        run(args)
    finally:
        subprocess.run(["rm", "-rf", static_root], check=False)


def run(args: argparse.Namespace) -> None:
    build_figures: dict[str, Any] = {}
    if args.rebuild or not database_ready(args.accounts, args.cabinet_users):
        build_figures = build(args.accounts, args.cabinet_users)
        print(f"built {DB}: {build_figures}")
    else:
        from common import setup_django

        setup_django()
    if args.build_only:
        return

    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    warm_seconds = warm_cache() if args.warm else None
    visitors = make_sessions()
    queries = count_queries(visitors, args.query_sample)
    from django.db import connection

    connection.close()

    server = start_server(args.workers, args.threads)
    try:
        rusage0 = resource.getrusage(resource.RUSAGE_SELF)
        load_before = os.getloadavg()[0]
        samples, cpu = asyncio.run(
            drive(visitors, args.users, args.ramp, args.duration, tuple(args.think), server.pid)
        )
        seconds = args.duration
        rusage1 = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        stop_server(server)

    accounts = int(psql("SELECT count(*) FROM customers_account", DB))
    overall = summarise(samples, seconds)
    per_page = {
        page: summarise([s for s in samples if s.page == page], seconds) for page in ("dashboard", "account")
    }
    p95 = overall["latency_ms"]["p95"]
    write_result(
        args.name,
        {
            "database": "postgresql",
            "accounts": accounts,
            "cabinet_users": len(visitors),
            "server": f"okno serve (gunicorn, {args.workers} workers × {args.threads} threads), OKNO_ENV=production, loopback",
            "load": (
                f"{args.users} simulated customers (asyncio, this process), think time {args.think[0]:g}–{args.think[1]:g} s"
                f" before each page, ramp-up {args.ramp:g} s not measured, {args.duration:g} s measured; a visit is"
                f" {DASHBOARD} then, for a user with several accounts, each {ACCOUNT.format(id='<id>')}"
            ),
            **overall,
            "pages": per_page,
            "queries_per_page": queries,
            "cpu": cpu,
            "load_average_before": round(load_before, 2),
            "database_cache": (
                f"warmed: the cabinet users' accounts' rows read once before the run ({warm_seconds:.1f} s)"
                if warm_seconds is not None
                else "cold: nothing read before the run"
            ),
            "quiet_machine": load_before < 1.0,
            "load_generator_cpu_seconds": round(
                (rusage1.ru_utime - rusage0.ru_utime) + (rusage1.ru_stime - rusage0.ru_stime), 1
            ),
            **({"build": build_figures} if build_figures else {}),
            "target": {"p95_ms": TARGET_P95_MS, "users": 100},
            "met": bool(p95 < TARGET_P95_MS and overall["errors"] == 0 and args.users >= 100),
        },
    )


if __name__ == "__main__":
    main()
