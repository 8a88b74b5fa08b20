"""Planning the notices of an outage affecting 200,000 subscribed customers (target < 10 s), and delivery
throughput against loopback SMTP (aiosmtpd) and SMPP (okno's SMSC stand-in) servers.

Builds a fresh database ``okno_bench_fanout`` with set-based SQL: one power centre, one feeder, 500
transformer substations, N service points in houses of 50 flats fed from them, a customer and an account
per point, an account subscription per customer (half SMS, a quarter e-mail, a quarter both, 5 % English)
and a service-notices consent for 95 % of them ("any"; the rest have none and are skipped), plus 2,000
anonymous confirmed building subscriptions. Then it times, in one process:

* ``plan(...)`` over ``service_points_under([feeder])`` (the topology walk included), by day and by night
  (quiet hours deferring the SMS), and a re-plan of the same event (everything a duplicate);
* the delivery loop (:func:`okno.notify.delivery.deliver_due`, claim → send → record, contact history
  included) for a few thousand e-mails through :class:`~okno.notify.transports.email.EmailTransport` to an
  aiosmtpd server, and for as many SMS through :class:`~okno.notify.transports.smpp.SmppTransport` to
  :class:`~okno.notify.smpp_server.SmppServer`, both on loopback.

    .venv/bin/python bench/bench_outage_fanout.py [--customers 200000] [--messages 3000] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import socket
import subprocess
import sys
import time
import zoneinfo

from common import ROOT, insert_households, setup_django, write_result

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = "okno_bench_fanout"
MSK = zoneinfo.ZoneInfo("Europe/Moscow")
SUBSTATIONS = 500
FLATS = 50
ANONYMOUS = 2000


def psql(sql: str, db: str = "postgres") -> None:
    subprocess.run(["psql", f"{PG}/{db}", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True)


def build(n: int) -> tuple[float, int, int]:
    psql(f"DROP DATABASE IF EXISTS {DB}")
    psql(f"CREATE DATABASE {DB}")
    env = {**os.environ, "DATABASE_URL": f"{PG}/{DB}", "OKNO_ENV": "development"}
    subprocess.run([sys.executable, "-m", "okno.cli", "migrate", "-v", "0"], cwd=ROOT, check=True, env=env)
    setup_django(f"{PG}/{DB}")
    from django.db import connection

    from okno.org.models import Branch, Company
    from okno.outages import topology
    from okno.outages.models import GridNode

    t0 = time.perf_counter()
    company = Company.objects.create(name="Bench")
    branch = Branch.objects.create(
        company=company, code="bench", name="Bench", region="Bench region", timezone="Europe/Moscow"
    )
    pc = GridNode.objects.create(
        code="PC", name="ПС Bench", kind="power_centre", branch=branch, voltage_kv=110
    )
    feeder = GridNode.objects.create(
        code="F1", name="Ф-1", kind="feeder", parent=pc, branch=branch, voltage_kv=10
    )
    GridNode.objects.bulk_create(
        [
            GridNode(
                code=f"TP{i}", name=f"ТП-{i}", kind="substation", parent=feeder, branch=branch, voltage_kv=10
            )
            for i in range(SUBSTATIONS)
        ]
    )
    topology.rebuild_paths()
    first_tp = GridNode.objects.filter(kind="substation").order_by("pk").values_list("pk", flat=True).first()
    houses = (n + FLATS - 1) // FLATS
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO customers_address (id, region, district, settlement, street, house, building, flat, postal_code)"
            " SELECT g, 'Bench region', '', 'Город', 'ул. Тестовая', ((g - 1) / %s + 1)::text, '', g::text, ''"
            " FROM generate_series(1, %s) g",
            [FLATS, n],
        )
        insert_households(cur, n, branch.pk)
        # Every house hangs off one substation.
        cur.execute(
            "INSERT INTO outages_feed (service_point_id, node_id)"
            " SELECT g, %s + ((g - 1) / %s) %% %s FROM generate_series(1, %s) g",
            [first_tp, FLATS, SUBSTATIONS, n],
        )
        cur.execute(
            "INSERT INTO customers_consent (customer_id, channel, purpose, given_at, source)"
            " SELECT g, 'any', 'service_notices', now(), 'bench' FROM generate_series(1, %s) g WHERE g %% 20 <> 0",
            [n],
        )
        cur.execute(
            "INSERT INTO notify_subscription (token, customer_id, account_id, settlement, street, house, branch_id,"
            " language, preferred_channel, email, phone, push, messenger, source, active, confirmed_at, confirm_code,"
            " created_at)"
            " SELECT md5('s' || g), g, g, '', '', '', %s, CASE WHEN g %% 20 = 7 THEN 'en' ELSE 'ru' END, '',"
            " CASE WHEN g %% 4 IN (2, 3) THEN 'c' || g || '@bench.example' ELSE '' END,"
            " CASE WHEN g %% 4 IN (0, 1, 3) THEN '+79' || lpad(g::text, 9, '0') ELSE '' END,"
            " NULL, '', 'operator', true, now(), '000000', now()"
            " FROM generate_series(1, %s) g",
            [branch.pk, n],
        )
        cur.execute(
            "INSERT INTO notify_subscription (token, customer_id, account_id, settlement, street, house, branch_id,"
            " language, preferred_channel, email, phone, push, messenger, source, active, confirmed_at, confirm_code,"
            " consent_given_at, created_at)"
            " SELECT md5('a' || g), NULL, NULL, 'Город', 'ул. Тестовая', (1 + g %% %s)::text, %s, 'ru', '',"
            " 'anon' || g || '@bench.example', '', NULL, '', 'public', true, now(), '000000', now(), now()"
            " FROM generate_series(1, %s) g",
            [houses, branch.pk, ANONYMOUS],
        )
        for table in (
            "customers_address",
            "customers_customer",
            "customers_servicepoint",
            "customers_account",
        ):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [n])
        for table in (
            "customers_address",
            "customers_customer",
            "customers_servicepoint",
            "customers_account",
            "customers_consent",
            "outages_feed",
            "outages_gridnode",
            "notify_subscription",
        ):
            cur.execute(f"ANALYZE {table}")
    return time.perf_counter() - t0, feeder.pk, branch.pk


def context(branch_id: int, start: dt.datetime) -> dict:
    return {
        "outage_id": 1,
        "number": "BENCH-1",
        "kind": "unplanned",
        "node": "Ф-1",
        "settlements": ["Город"],
        "reason": "Повреждение кабельной линии",
        "start": start,
        "end": None,
        "etr": start + dt.timedelta(hours=4),
        "restored_at": None,
        "branch_id": branch_id,
    }


def timed_plan(key: str, feeder_id: int, branch_id: int, now: dt.datetime) -> tuple[float, dict]:
    from okno.notify.planning import plan
    from okno.outages import topology
    from okno.outages.models import GridNode

    t0 = time.perf_counter()
    feeder = GridNode.objects.get(pk=feeder_id)
    points = topology.service_points_under([feeder])
    counts = plan(key, "outage_restored", points, context(branch_id, now - dt.timedelta(hours=2)), now=now)
    return time.perf_counter() - t0, counts


def queue_only(event_key: str, channel: str, count: int) -> list[int]:
    """Leave ``count`` notices of ``channel`` due for delivery; park the rest of the event's as skipped."""
    from django.db.models import Q

    from okno.notify.models import Notice

    waiting = Q(status__in=("queued", "scheduled")) | Q(status="skipped", skip_reason="no_contact")
    ids = list(
        Notice.objects.filter(waiting, event__key=event_key, channel=channel)
        .order_by("pk")
        .values_list("pk", flat=True)[:count]
    )
    Notice.objects.filter(event__key=event_key, status__in=("queued", "scheduled")).exclude(
        pk__in=ids
    ).update(status="skipped", skip_reason="no_contact")
    Notice.objects.filter(pk__in=ids).update(status="queued", due_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    return ids


def bench_smtp(event_key: str, count: int) -> dict:
    from aiosmtpd.controller import Controller

    from okno.notify.delivery import deliver_due
    from okno.notify.transports.email import EmailTransport

    class Sink:
        received = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            Sink.received += 1
            return "250 OK"

    with socket.socket() as probe:  # aiosmtpd needs a concrete port (it connects to itself to check)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller.start()
    try:
        queue_only(event_key, "email", count)
        transport = EmailTransport(
            backend="django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1", port=controller.port
        )
        t0 = time.perf_counter()
        counts = deliver_due(transports={"email": transport})
        seconds = time.perf_counter() - t0
        transport.close()
    finally:
        controller.stop()
    return {
        "messages": counts["sent"],
        "received_by_server": Sink.received,
        "seconds": round(seconds, 2),
        "messages_per_s": round(counts["sent"] / seconds, 1) if seconds else None,
        "loop_counts": counts,
    }


def bench_smpp(event_key: str, count: int) -> dict:
    from okno.notify.delivery import deliver_due, record_receipt
    from okno.notify.models import Notice
    from okno.notify.smpp_server import SmppServer
    from okno.notify.transports.smpp import SmppConfig, SmppTransport

    server = SmppServer("127.0.0.1", 0, receipts=True, receipt_delay=0.0)
    server.start()
    try:
        ids = queue_only(event_key, "sms", count)
        transport = SmppTransport(
            SmppConfig(host="127.0.0.1", port=server.port, system_id="okno", password="bench"),  # noqa: S106 (loopback test peer)
            on_receipt=record_receipt,
        )
        t0 = time.perf_counter()
        counts = deliver_due(transports={"sms": transport})
        seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        while Notice.objects.filter(pk__in=ids, status="sent").exists() and time.perf_counter() - t1 < 30:
            transport.poll(0.5)
        receipts_seconds = time.perf_counter() - t1
        delivered = Notice.objects.filter(pk__in=ids, status="delivered").count()
        transport.close()
    finally:
        server.stop()
    return {
        "messages": counts["sent"],
        "received_by_server": len(server.messages),
        "seconds": round(seconds, 2),
        "messages_per_s": round(counts["sent"] / seconds, 1) if seconds else None,
        "receipts_recorded": delivered,
        "receipts_seconds": round(receipts_seconds, 2),
        "loop_counts": counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument(
        "--messages", type=int, default=3000, help="messages per transport for the delivery rate"
    )
    parser.add_argument("--keep", action="store_true", help="reuse okno_bench_fanout as built before")
    args = parser.parse_args()
    if args.keep:
        setup_django(f"{PG}/{DB}")
        from okno.org.models import Branch
        from okno.outages.models import GridNode

        build_seconds, feeder_id, branch_id = (
            0.0,
            GridNode.objects.get(code="F1").pk,
            Branch.objects.get(code="bench").pk,
        )
    else:
        build_seconds, feeder_id, branch_id = build(args.customers)
    from django.db import connection

    from okno.notify.models import Notice, NoticeEvent

    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM notify_noticeattempt; DELETE FROM notify_notice; DELETE FROM notify_noticeevent;"
        )
        cur.execute("DELETE FROM customers_contactevent WHERE ref_type = 'notify.notice'")
        cur.execute("VACUUM ANALYZE notify_notice")

    day = dt.datetime(2026, 11, 24, 12, 0, tzinfo=MSK)
    night = dt.datetime(2026, 11, 24, 23, 30, tzinfo=MSK)
    day_s, day_counts = timed_plan("bench:day", feeder_id, branch_id, day)
    replan_s, replan_counts = timed_plan("bench:day", feeder_id, branch_id, day)
    night_s, night_counts = timed_plan("bench:night", feeder_id, branch_id, night)
    notices = Notice.objects.count()
    # The night event is not delivered; drop it so the delivery runs see only the day's notices.
    NoticeEvent.objects.filter(key="bench:night").delete()
    with (
        connection.cursor() as cur
    ):  # what autovacuum does after a big insert, so the claim query is planned well
        cur.execute("VACUUM ANALYZE notify_notice")
    from django.urls import reverse

    reverse(
        "notify:unsubscribe", args=["warm-up"]
    )  # the URL resolver loads once per process, not per message

    smtp = bench_smtp("bench:day", args.messages)
    smpp = bench_smpp("bench:day", args.messages)
    write_result(
        "outage_fanout",
        {
            "database": "PostgreSQL",
            "customers_affected": args.customers,
            "anonymous_building_subscriptions": ANONYMOUS,
            "build_seconds": round(build_seconds, 1),
            "plan": {
                "target_seconds": 10,
                "day_seconds": round(day_s, 2),
                "day_counts": day_counts,
                "night_seconds": round(night_s, 2),
                "night_counts": night_counts,
                "replan_seconds": round(replan_s, 2),
                "replan_counts": replan_counts,
                "notice_rows": notices,
            },
            "delivery_smtp_aiosmtpd": smtp,
            "delivery_smpp_loopback": smpp,
        },
    )


if __name__ == "__main__":
    main()
