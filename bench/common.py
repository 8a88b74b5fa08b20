"""Shared helpers of the benchmarks: set up Django, write results to bench/results/<name>.json."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


def setup_django(database_url: str | None = None) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okno.settings")
    import django

    django.setup()


def write_result(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "benchmark": name,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        **figures,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return path


def insert_households(cur: Any, n: int, branch_id: int) -> None:
    """Customers, service points and accounts 1..n on PostgreSQL, one each, by generate_series: service
    point g sits at address g (the caller inserts the addresses) and account g (number = g, zero-padded)
    belongs to customer g."""
    cur.execute(
        "INSERT INTO customers_customer (id, kind, last_name, first_name, patronymic, organisation, inn, ogrn,"
        " branch_id, search_text, created_at, note)"
        " SELECT g, 'individual', 'Абонент' || g, '', '', '', '', '', %s, '', now(), ''"
        " FROM generate_series(1, %s) g",
        [branch_id, n],
    )
    cur.execute(
        "INSERT INTO customers_servicepoint (id, address_id, branch_id, name) SELECT g, g, %s, ''"
        " FROM generate_series(1, %s) g",
        [branch_id, n],
    )
    cur.execute(
        "INSERT INTO customers_account (id, number, customer_id, service_point_id, contract_number, opened_on)"
        " SELECT g, lpad(g::text, 10, '0'), g, g, '', '2025-01-01' FROM generate_series(1, %s) g",
        [n],
    )
