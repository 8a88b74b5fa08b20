"""Invoice PDFs in one process on PostgreSQL (target ≥ 20 PDFs/s per core).

Creates a scratch database, migrates it, loads N household accounts with a meter, two readings, a
charge, a payment and a penalty each (bulk inserts), then times :func:`okno.billing.invoices.generate`
— the batch job's work: numbers from the ledger, the HTML from one template, the QR code, WeasyPrint,
and the PDF stored under a scratch ``MEDIA_ROOT``. Single process, single thread. Reports PDFs per
wall-clock second and per CPU second of this process (the per-core figure; on a shared machine the
wall-clock rate also counts other processes' time), and the render step alone.

    .venv/bin/python bench/bench_invoices.py [--n 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import tempfile
import time

from common import setup_django, write_result

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = "okno_bench_invoices"
PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-d", "postgres", "-c"]
PERIOD = dt.date(2026, 3, 1)


def seed(n: int) -> list[int]:
    from okno.billing import rules
    from okno.billing.models import (
        BillingProfile,
        BillingRun,
        Charge,
        ConsumerCategory,
        LedgerEntry,
        Meter,
        Method,
        PayeeDetails,
        Reading,
    )
    from okno.customers.models import Account, Address, Customer, ServicePoint
    from okno.customers.numbers import make_account_number
    from okno.org.models import Branch, Company

    company = Company.objects.create(name="АО «Бенчмарк»", short_name="Б")
    branch = Branch.objects.create(
        company=company, code="b", name="Филиал", timezone="Europe/Moscow", region="Обл"
    )
    PayeeDetails.objects.create(
        name="АО «Бенчмарк-Энергосбыт»",
        inn="7707083893",
        kpp="770701001",
        bank_name="ПАО Сбербанк",
        bic="044525225",
        correspondent_account="30101810400000000225",
        settlement_account="40702810900000000001",
        phone="8-800-000-00-00",
    )
    urban = ConsumerCategory.objects.get(code="urban")
    customers = Customer.objects.bulk_create(
        [
            Customer(kind="individual", last_name=f"Фамилия{i}", first_name="Имя", branch=branch)
            for i in range(n)
        ]
    )
    addresses = Address.objects.bulk_create(
        [
            Address(region="Обл", settlement="Город", street="ул. Ленина", house=str(i), flat="1")
            for i in range(n)
        ]
    )
    points = ServicePoint.objects.bulk_create([ServicePoint(address=a, branch=branch) for a in addresses])
    accounts = Account.objects.bulk_create(
        [
            Account(number=make_account_number(100_000 + i), customer=c, service_point=p)
            for i, (c, p) in enumerate(zip(customers, points, strict=True))
        ]
    )
    BillingProfile.objects.bulk_create(
        [BillingProfile(account=a, category=urban, residents=2) for a in accounts]
    )
    meters = Meter.objects.bulk_create(
        [
            Meter(account=a, model="Меркурий", serial=f"M{i}", installed_on=dt.date(2024, 1, 1))
            for i, a in enumerate(accounts)
        ]
    )
    Reading.objects.bulk_create(
        [
            Reading(
                meter=m,
                account_id=m.account_id,
                period=p,
                taken_on=p.replace(day=20),
                t1_wh=v,
                channel="cabinet",
            )
            for m in meters
            for p, v in ((dt.date(2026, 2, 1), 1_000_000), (PERIOD, 1_187_500))
        ]
    )
    run = BillingRun.objects.create(period=PERIOD, status=BillingRun.Status.DONE)
    Charge.objects.bulk_create(
        [
            Charge(
                account=m.account,
                period=PERIOD,
                run=run,
                meter=m,
                method=Method.ACTUAL,
                volume_wh=187_500,
                price_e4=64_300,
                amount_kop=120_563,
            )
            for m in meters
        ]
    )
    due = rules.due_date(PERIOD)
    entries = []
    for a in accounts:
        entries += [
            LedgerEntry(
                account=a,
                kind="charge",
                period=dt.date(2026, 2, 1),
                entry_date=dt.date(2026, 2, 28),
                due_date=dt.date(2026, 3, 10),
                amount_kop=96_450,
            ),
            LedgerEntry(account=a, kind="payment", entry_date=dt.date(2026, 3, 5), amount_kop=-50_000),
            LedgerEntry(
                account=a,
                kind="charge",
                period=PERIOD,
                entry_date=dt.date(2026, 3, 31),
                due_date=due,
                amount_kop=120_563,
                run=run,
            ),
            LedgerEntry(
                account=a, kind="penalty", period=PERIOD, entry_date=dt.date(2026, 3, 31), amount_kop=1_234
            ),
        ]
    LedgerEntry.objects.bulk_create(entries, batch_size=2000)
    return [a.pk for a in accounts]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300, help="invoices to generate")
    parser.add_argument("--rounds", type=int, default=3, help="batches of the same invoices")
    args = parser.parse_args()
    subprocess.run([*PSQL, f"DROP DATABASE IF EXISTS {DB}"], check=True)
    subprocess.run([*PSQL, f"CREATE DATABASE {DB}"], check=True)
    media = tempfile.mkdtemp(prefix="okno-bench-invoices-")
    os.environ["MEDIA_ROOT"] = media
    setup_django(f"{PG}/{DB}")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from okno.billing import invoices

    ids = seed(args.n)
    invoices.render_pdf(invoices.build_invoice(invoices.Account.objects.get(pk=ids[0]), PERIOD))  # warm-up
    from okno.billing.models import Invoice

    Invoice.objects.all().delete()

    rounds = []
    for _ in range(args.rounds):  # round 1 creates the invoices, the others rebuild them and their PDFs
        t0, c0 = time.perf_counter(), time.process_time()
        counts = invoices.generate(ids, PERIOD)
        total_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
        assert counts["pdfs"] == args.n and counts["failed"] == 0, counts
        rounds.append(
            {
                "seconds": round(total_s, 2),
                "cpu_seconds": round(cpu_s, 2),
                "pdfs_per_second": round(args.n / total_s, 1),
                "pdfs_per_cpu_second": round(args.n / cpu_s, 1),
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
        )
        print(rounds[-1], flush=True)

    # The render step alone (HTML + QR + WeasyPrint), and the HTML with the QR code alone.
    built = invoices.build_invoices(ids[:100], PERIOD)
    t0 = time.process_time()
    for invoice, facts in built:
        invoices.render_pdf(invoice, facts)
    render_s = time.process_time() - t0
    t0 = time.process_time()
    for invoice, facts in built:
        invoices.render_html(invoice, facts)
    html_s = time.process_time() - t0
    sizes = [os.path.getsize(os.path.join(media, i.pdf.name)) for i in Invoice.objects.all()[:50]]

    write_result(
        "invoices",
        {
            "database": "postgresql",
            "invoices": args.n,
            "rounds": rounds,
            "best_pdfs_per_cpu_second": max(r["pdfs_per_cpu_second"] for r in rounds),
            "best_pdfs_per_second": max(r["pdfs_per_second"] for r in rounds),
            "render_only_pdfs_per_cpu_second": round(len(built) / render_s, 1),
            "html_and_qr_ms_per_invoice": round(1000 * html_s / len(built), 2),
            "mean_pdf_bytes": int(sum(sizes) / len(sizes)),
            "target_pdfs_per_second_per_core": 20,
            "process": "single process, single thread",
        },
    )


if __name__ == "__main__":
    main()
