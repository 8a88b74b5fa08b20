"""The monthly billing run: set-based SQL over chunks of accounts, the same on SQLite and PostgreSQL.

For period ``P`` each billable account gets charge lines and one ledger charge. Per meter in service
during ``P`` (household rules, Government Decree 354, pp. 42, 59–61):

* **actual** — a reading counts for ``P``: volume per zone is the reading minus the last earlier one
  (``base``), through the register's roll-over when the new value is lower;
* **recalculation** — the same, when periods since ``base`` were billed by estimate: the volume covers
  all those months (tier limits multiplied by the months), and the meter's lines of those months —
  estimates, or lines billed from a reading since corrected into a later period — are reversed
  (method **reversal**, negative) in ``P``;
* **average** — no reading for ``P`` and at most ``average_max_periods`` (3) months since ``base``: the
  average monthly consumption per zone between ``base`` and the reading ``average_months`` (6) months
  earlier (or the meter's first reading if it is newer);
* **norm** — no reading for longer, no history for an average, or no meter at all: the consumption norm
  per resident × residents, at the one-zone tariff.

Volume tiers (where the tariff has limits) split the account's monthly total; each line takes its share.
Amounts are ``round_half_up(Wh × price_e4 / 100 000)`` kopecks per line, in integer arithmetic.
Discounts are negative lines on the period's total. One ``LedgerEntry(kind=charge)`` per account and
period (a unique constraint) makes a restarted run skip what it already billed.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from okno.billing import rules
from okno.billing.models import BillingRun, BillingSettings, LedgerEntry
from okno.billing.periods import month_end

log = logging.getLogger(__name__)

CHUNK = 50_000

_TEMP_TABLES = {
    "okno_bill_acc": """
        account_id BIGINT PRIMARY KEY, region VARCHAR(100), category_id BIGINT,
        residents INTEGER, norm_wh BIGINT""",
    "okno_bill_meter": """
        account_id BIGINT, meter_id BIGINT PRIMARY KEY, zones INTEGER, capacity_wh BIGINT,
        cur_id BIGINT, base_id BIGINT""",
    "okno_bill_read": """
        id BIGINT PRIMARY KEY, period DATE, t1_wh BIGINT, t2_wh BIGINT, t3_wh BIGINT""",
    "okno_bill_calc": """
        account_id BIGINT, meter_id BIGINT, zones INTEGER, capacity_wh BIGINT, method VARCHAR(14),
        months INTEGER, base_period DATE, cur_id BIGINT, base_id BIGINT, first_id BIGINT, span INTEGER""",
    "okno_bill_line": """
        account_id BIGINT, meter_id BIGINT, method VARCHAR(14), tariff_zones INTEGER, zone INTEGER,
        months INTEGER, volume_wh BIGINT, tariff_id BIGINT""",
    "okno_bill_priced": """
        account_id BIGINT, meter_id BIGINT, method VARCHAR(14), tariff_zones INTEGER, zone INTEGER,
        tier INTEGER, months INTEGER, volume_wh BIGINT, price_e4 BIGINT, amount_kop BIGINT""",
    "okno_bill_total": """
        account_id BIGINT PRIMARY KEY, total_wh BIGINT, months INTEGER""",
    "okno_bill_tariff": """
        region VARCHAR(100), category_id BIGINT, zones INTEGER, tariff_id BIGINT,
        limit1 BIGINT, limit2 BIGINT""",
}


@dataclass
class RunResult:
    accounts: int = 0
    lines: int = 0
    amount_kop: int = 0
    methods: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    penalties: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "lines": self.lines,
            "amount_kop": self.amount_kop,
            "methods": dict(sorted(self.methods.items())),
            "skipped": self.skipped,
            "errors": len(self.errors),
            "penalties": self.penalties,
        }


# --- dialect helpers ---------------------------------------------------------------------------


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _month_index(expr: str) -> str:
    if _pg():
        return (
            f"(CAST(EXTRACT(YEAR FROM {expr}) AS INTEGER) * 12 + CAST(EXTRACT(MONTH FROM {expr}) AS INTEGER))"
        )
    return f"(CAST(strftime('%%Y', {expr}) AS INTEGER) * 12 + CAST(strftime('%%m', {expr}) AS INTEGER))"


def _months_before(expr: str, months: int) -> str:
    if _pg():
        return f"CAST({expr} - INTERVAL '{int(months)} months' AS DATE)"
    return f"date({expr}, '-{int(months)} months')"


def _least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if _pg() else f"min({a}, {b})"


def _div_round(num: str, den: str) -> str:
    """Integer ``num / den`` rounded half away from zero (``den`` > 0); exact on both databases."""
    return (
        f"(CASE WHEN ({num}) >= 0 THEN (2 * ({num}) + ({den})) / (2 * ({den})) "
        f"ELSE -((-2 * ({num}) + ({den})) / (2 * ({den}))) END)"
    )


def _capacity_case(digits: str) -> str:
    whens = " ".join(f"WHEN {d} THEN {10**d * 1000}" for d in range(1, 10))
    return f"(CASE {digits} {whens} ELSE {10**9 * 1000} END)"


def _diff(cur: str, base: str, cap: str) -> str:
    """Consumption between two register values, through a roll-over when the new one is lower."""
    return f"(CASE WHEN {cur} >= {base} THEN {cur} - {base} ELSE {cur} + {cap} - {base} END)"


class _Cursor:
    """A cursor that always passes parameters, so ``%%`` in SQL means ``%`` on both databases."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
        started = time.perf_counter()
        self.raw.execute(sql, list(params))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%.3f s  %s", time.perf_counter() - started, " ".join(sql.split())[:160])

    @property
    def rowcount(self) -> int:
        return int(self.raw.rowcount)

    def fetchone(self) -> Any:
        return self.raw.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self.raw.fetchall())


def _analyze(cursor, *tables: str) -> None:
    """Give PostgreSQL's planner the sizes of freshly filled work tables (it has none for temp tables)."""
    if _pg():
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


_TEMP_INDEXES = {
    "okno_bill_meter": "account_id",
    "okno_bill_calc": "account_id",
    "okno_bill_line": "account_id",
    "okno_bill_priced": "account_id",
}


def _lookup(cursor, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    """Run a statement that fetches a chunk's rows from a big table by key: on PostgreSQL as index
    lookups (nested loops), which the planner would otherwise trade for a scan of the whole table."""
    if _pg():
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
    cursor.execute(sql, params)
    if _pg():
        cursor.execute("SET LOCAL enable_hashjoin = on")
        cursor.execute("SET LOCAL enable_mergejoin = on")


# The tariff of a line (``acc`` is the account's row of okno_bill_acc); the tariff table is tiny.
_TARIFF = """(SELECT t.tariff_id FROM okno_bill_tariff t WHERE t.region = acc.region
              AND t.category_id = acc.category_id AND t.zones = {zones})"""


def _ensure_temp_tables(cursor) -> None:
    for name, columns in _TEMP_TABLES.items():
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({columns})")
        cursor.execute(f"DELETE FROM {name}")
    for name, column in _TEMP_INDEXES.items():
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {name}_{column} ON {name} ({column})")


# --- the run -----------------------------------------------------------------------------------


def _candidates(period: dt.date, branch_id: int | None) -> tuple[str, list[Any]]:
    """SQL (and params) of the accounts to bill for ``period``: open, billable, not yet charged."""
    end = month_end(period)
    sql = """
        FROM customers_account a
        JOIN billing_billingprofile bp ON bp.account_id = a.id AND bp.billable = %s
        JOIN customers_servicepoint sp ON sp.id = a.service_point_id
        JOIN org_branch b ON b.id = sp.branch_id
        WHERE a.opened_on <= %s AND (a.closed_on IS NULL OR a.closed_on >= %s)
          AND NOT EXISTS (SELECT 1 FROM billing_ledgerentry le
                          WHERE le.account_id = a.id AND le.period = %s AND le.kind = 'charge')"""
    params: list[Any] = [True, end, period, period]
    if branch_id is not None:
        sql += " AND sp.branch_id = %s"
        params.append(branch_id)
    return sql, params


def _load_tariffs(cursor, period: dt.date) -> None:
    """The tariffs in force in ``period``, one per region, category and number of zones."""
    cursor.execute(
        """
        INSERT INTO okno_bill_tariff (region, category_id, zones, tariff_id, limit1, limit2)
        SELECT t.region, t.category_id, t.zones, t.id, t.tier1_limit_wh, t.tier2_limit_wh
        FROM billing_tariff t
        WHERE t.valid_from <= %s AND (t.valid_to IS NULL OR t.valid_to >= %s)
          AND NOT EXISTS (SELECT 1 FROM billing_tariff t2
                          WHERE t2.region = t.region AND t2.category_id = t.category_id
                            AND t2.zones = t.zones AND t2.valid_from <= %s
                            AND (t2.valid_to IS NULL OR t2.valid_to >= %s)
                            AND t2.valid_from > t.valid_from)""",
        [period, period, period, period],
    )


def _bill_chunk(
    cursor, run: BillingRun, period: dt.date, lo: int, hi: int, cfg: BillingSettings
) -> RunResult:
    result = RunResult()
    end = month_end(period)
    p_index = period.year * 12 + period.month
    where, params = _candidates(period, run.branch_id)
    cursor.execute(
        f"""
        INSERT INTO okno_bill_acc (account_id, region, category_id, residents, norm_wh)
        SELECT a.id, b.region, bp.category_id, bp.residents,
               COALESCE((SELECT n.wh_per_resident FROM billing_consumptionnorm n
                         WHERE n.region = b.region AND n.category_id = bp.category_id AND n.valid_from <= %s
                         ORDER BY n.valid_from DESC LIMIT 1), 0) * bp.residents
        {where} AND a.id >= %s AND a.id < %s""",
        [period, *params, lo, hi],
    )
    _analyze(cursor, "okno_bill_acc")

    # Meters in service during the period, with the reading for it (cur) and the last before (base).
    reading = "SELECT r.id FROM billing_reading r WHERE r.meter_id = m.id AND r.status = 'accepted'"
    cursor.execute(
        f"""
        INSERT INTO okno_bill_meter (account_id, meter_id, zones, capacity_wh, cur_id, base_id)
        SELECT m.account_id, m.id, m.zones, {_capacity_case("m.integer_digits")},
               ({reading} AND r.period = %s ORDER BY r.taken_on DESC, r.id DESC LIMIT 1),
               COALESCE(
                 ({reading} AND r.period < %s ORDER BY r.period DESC, r.taken_on DESC, r.id DESC LIMIT 1),
                 ({reading} ORDER BY r.taken_on, r.id LIMIT 1))
        FROM billing_meter m JOIN okno_bill_acc acc ON acc.account_id = m.account_id
        WHERE m.installed_on <= %s AND (m.removed_on IS NULL OR m.removed_on >= %s)""",
        [period, period, end, period],
    )
    _analyze(cursor, "okno_bill_meter")
    # The few readings the chunk needs, copied once so later steps never join the whole table.
    _lookup(
        cursor,
        """
        INSERT INTO okno_bill_read (id, period, t1_wh, t2_wh, t3_wh)
        SELECT r.id, r.period, r.t1_wh, r.t2_wh, r.t3_wh FROM billing_reading r
        WHERE r.id IN (SELECT cur_id FROM okno_bill_meter WHERE cur_id IS NOT NULL
                       UNION SELECT base_id FROM okno_bill_meter WHERE base_id IS NOT NULL)""",
    )
    _analyze(cursor, "okno_bill_read")

    # Method per meter. ``span`` is the months from base to the period.
    base_index = _month_index("rb.period")
    cursor.execute(
        f"""
        INSERT INTO okno_bill_calc (account_id, meter_id, zones, capacity_wh, method, months, base_period,
                                    cur_id, base_id, first_id, span)
        SELECT bm.account_id, bm.meter_id, bm.zones, bm.capacity_wh,
          CASE
            WHEN bm.cur_id IS NOT NULL AND bm.cur_id <> bm.base_id AND {p_index} - {base_index} >= 2
                 AND EXISTS (SELECT 1 FROM billing_charge c WHERE c.meter_id = bm.meter_id
                             AND c.period > rb.period AND c.period < %s)
              THEN 'recalculation'
            WHEN bm.cur_id IS NOT NULL THEN 'actual'
            WHEN rb.id IS NOT NULL AND {p_index} - {base_index} <= %s THEN 'average'
            ELSE 'norm'
          END,
          CASE WHEN bm.cur_id IS NOT NULL AND {p_index} - {base_index} >= 2 THEN {p_index} - {base_index}
               ELSE 1 END,
          rb.period, bm.cur_id, bm.base_id,
          CASE WHEN bm.cur_id IS NULL AND rb.id IS NOT NULL THEN COALESCE(
            (SELECT r.id FROM billing_reading r WHERE r.meter_id = bm.meter_id AND r.status = 'accepted'
               AND r.period <= {_months_before("rb.period", cfg.average_months)}
             ORDER BY r.period DESC, r.taken_on DESC, r.id DESC LIMIT 1),
            (SELECT r.id FROM billing_reading r WHERE r.meter_id = bm.meter_id AND r.status = 'accepted'
             ORDER BY r.taken_on, r.id LIMIT 1)) END,
          {p_index} - {base_index}
        FROM okno_bill_meter bm LEFT JOIN okno_bill_read rb ON rb.id = bm.base_id""",
        [period, cfg.average_max_periods],
    )
    _analyze(cursor, "okno_bill_calc")
    _lookup(
        cursor,
        """
        INSERT INTO okno_bill_read (id, period, t1_wh, t2_wh, t3_wh)
        SELECT r.id, r.period, r.t1_wh, r.t2_wh, r.t3_wh FROM billing_reading r
        WHERE r.id IN (SELECT first_id FROM okno_bill_calc WHERE first_id IS NOT NULL)
          AND r.id NOT IN (SELECT id FROM okno_bill_read)""",
    )
    # An average needs at least a month between its two readings; otherwise the norm.
    cursor.execute(
        f"""
        UPDATE okno_bill_calc SET method = 'norm'
        WHERE method = 'average' AND (first_id IS NULL OR first_id = base_id OR NOT EXISTS (
          SELECT 1 FROM okno_bill_read rf, okno_bill_read rb
          WHERE rf.id = okno_bill_calc.first_id AND rb.id = okno_bill_calc.base_id
            AND {_month_index("rb.period")} > {_month_index("rf.period")}))"""
    )

    # Lines per zone: readings (actual, recalculation), the average, or the norm.
    for zone in (1, 2, 3):
        col = f"t{zone}_wh"
        cur, base, first = f"COALESCE(rc.{col}, 0)", f"COALESCE(rb.{col}, 0)", f"COALESCE(rf.{col}, 0)"
        span = f"({_month_index('rb.period')} - {_month_index('rf.period')})"
        cursor.execute(
            f"""
            INSERT INTO okno_bill_line (account_id, meter_id, method, tariff_zones, zone, months, volume_wh,
                                        tariff_id)
            SELECT c.account_id, c.meter_id, c.method, c.zones, {zone}, c.months,
              CASE WHEN c.method = 'average'
                   THEN {_div_round(_diff(base, first, "c.capacity_wh"), span)}
                   ELSE {_diff(cur, base, "c.capacity_wh")} END,
              {_TARIFF.format(zones="c.zones")}
            FROM okno_bill_calc c
            JOIN okno_bill_acc acc ON acc.account_id = c.account_id
            JOIN okno_bill_read rb ON rb.id = c.base_id
            LEFT JOIN okno_bill_read rc ON rc.id = c.cur_id
            LEFT JOIN okno_bill_read rf ON rf.id = c.first_id
            WHERE c.method IN ('actual', 'recalculation', 'average') AND c.zones >= %s""",
            [zone],
        )
    # The norm: per meter estimated by the norm, and for accounts with no meter in service.
    cursor.execute(
        f"""
        INSERT INTO okno_bill_line (account_id, meter_id, method, tariff_zones, zone, months, volume_wh, tariff_id)
        SELECT acc.account_id, c.meter_id, 'norm', 1, 1, 1, acc.norm_wh, {_TARIFF.format(zones=1)}
        FROM okno_bill_calc c JOIN okno_bill_acc acc ON acc.account_id = c.account_id
        WHERE c.method = 'norm'"""
    )
    cursor.execute(
        f"""
        INSERT INTO okno_bill_line (account_id, meter_id, method, tariff_zones, zone, months, volume_wh, tariff_id)
        SELECT acc.account_id, NULL, 'norm', 1, 1, 1, acc.norm_wh, {_TARIFF.format(zones=1)}
        FROM okno_bill_acc acc
        WHERE NOT EXISTS (SELECT 1 FROM okno_bill_meter bm WHERE bm.account_id = acc.account_id)"""
    )
    _analyze(cursor, "okno_bill_line")
    # Accounts with a line and no tariff are reported and skipped.
    cursor.execute(
        """
        SELECT DISTINCT l.account_id, acc.region, acc.category_id, l.tariff_zones
        FROM okno_bill_line l JOIN okno_bill_acc acc ON acc.account_id = l.account_id
        WHERE l.tariff_id IS NULL"""
    )
    for account_id, region, category_id, zones in cursor.fetchall():
        result.errors.append(
            {
                "account_id": account_id,
                "error": "no_tariff",
                "detail": f"no tariff for region {region!r}, category {category_id}, {zones} zone(s)",
            }
        )
    _drop_failed(cursor, result)

    # Tiers: the account's monthly total (months × limits for a recalculation over several months)
    # is split at the limits; each line takes its share, rounded so the line's tiers add up.
    cursor.execute(
        """
        INSERT INTO okno_bill_total (account_id, total_wh, months)
        SELECT account_id, SUM(volume_wh), MAX(months) FROM okno_bill_line GROUP BY account_id"""
    )
    _analyze(cursor, "okno_bill_total")
    v, total = "l.volume_wh", "tot.total_wh"

    def share(limit: str) -> str:
        capped = _least(total, f"{limit} * tot.months")
        return f"(CASE WHEN {total} <= 0 THEN 0 ELSE {_div_round(f'{capped} * {v}', total)} END)"

    upto1 = f"(CASE WHEN t.limit1 IS NULL THEN {v} ELSE {share('t.limit1')} END)"
    upto2 = (
        f"(CASE WHEN t.limit1 IS NULL THEN {v} WHEN t.limit2 IS NULL THEN {v} ELSE {share('t.limit2')} END)"
    )
    tiers = {1: upto1, 2: f"{upto2} - {upto1}", 3: f"{v} - {upto2}"}
    for tier, volume in tiers.items():
        keep = "" if tier == 1 else f" AND t.limit1 IS NOT NULL AND ({volume}) <> 0"
        cursor.execute(
            f"""
            INSERT INTO okno_bill_priced (account_id, meter_id, method, tariff_zones, zone, tier, months,
                                          volume_wh, price_e4, amount_kop)
            SELECT l.account_id, l.meter_id, l.method, l.tariff_zones, l.zone, {tier}, l.months, {volume},
                   tr.price_e4, {_div_round(f"({volume}) * tr.price_e4", "100000")}
            FROM okno_bill_line l
            JOIN okno_bill_total tot ON tot.account_id = l.account_id
            JOIN okno_bill_tariff t ON t.tariff_id = l.tariff_id
            LEFT JOIN billing_tariffrate tr ON tr.tariff_id = l.tariff_id AND tr.zone = l.zone
                                           AND tr.tier = {tier}
            WHERE 1 = 1{keep}"""
        )
    cursor.execute("SELECT DISTINCT account_id, zone, tier FROM okno_bill_priced WHERE price_e4 IS NULL")
    for account_id, zone, tier in cursor.fetchall():
        result.errors.append(
            {"account_id": account_id, "error": "no_rate", "detail": f"no price for zone {zone}, tier {tier}"}
        )
    _drop_failed(cursor, result, table="okno_bill_priced", column="price_e4")

    # Reversal of every line of the meter between base and the period that a recalculation replaces:
    # estimates, and lines billed from a reading that has since been corrected or moved to a later period.
    _lookup(
        cursor,
        """
        INSERT INTO okno_bill_priced (account_id, meter_id, method, tariff_zones, zone, tier, months,
                                      volume_wh, price_e4, amount_kop)
        SELECT ch.account_id, ch.meter_id, 'reversal', ch.zones, ch.zone, ch.tier, 1,
               -ch.volume_wh, ch.price_e4, -ch.amount_kop
        FROM billing_charge ch JOIN okno_bill_calc c ON c.meter_id = ch.meter_id
        WHERE c.method = 'recalculation' AND ch.period > c.base_period AND ch.period < %s""",
        [period],
    )
    # Discounts as data: percent of the period's total, limited to a monthly volume where set.
    cursor.execute(
        f"""
        INSERT INTO okno_bill_priced (account_id, meter_id, method, tariff_zones, zone, tier, months,
                                      volume_wh, price_e4, amount_kop)
        SELECT s.account_id, NULL, 'discount', 1, 1, 1, 1, 0, 0,
               -{_div_round("s.amount_kop * s.basis * s.share_num", "10000 * s.share_den")}
        FROM (
          SELECT p.account_id, CAST(SUM(p.amount_kop) AS BIGINT) AS amount_kop,
                 CAST(ROUND(d.percent * 100) AS BIGINT) AS basis,
                 CASE WHEN d.limit_wh IS NULL OR tot.total_wh <= d.limit_wh THEN 1 ELSE d.limit_wh END AS share_num,
                 CASE WHEN d.limit_wh IS NULL OR tot.total_wh <= d.limit_wh THEN 1 ELSE tot.total_wh END
                   AS share_den
          FROM okno_bill_priced p
          JOIN okno_bill_total tot ON tot.account_id = p.account_id
          JOIN billing_accountdiscount ad ON ad.account_id = p.account_id AND ad.valid_from <= %s
                                         AND (ad.valid_to IS NULL OR ad.valid_to >= %s)
          JOIN billing_discount d ON d.id = ad.discount_id
          GROUP BY p.account_id, d.id, d.percent, d.limit_wh, tot.total_wh
        ) s WHERE s.amount_kop > 0""",
        [end, period],
    )

    _analyze(cursor, "okno_bill_priced")
    now = timezone.now()
    cursor.execute(
        """
        INSERT INTO billing_charge (account_id, period, run_id, meter_id, method, zones, zone, tier,
                                    volume_wh, price_e4, amount_kop, months)
        SELECT account_id, %s, %s, meter_id, method, tariff_zones, zone, tier, volume_wh, price_e4,
               amount_kop, months
        FROM okno_bill_priced""",
        [period, run.pk],
    )
    result.lines = cursor.rowcount
    due = rules.due_date(period)
    cursor.execute(
        """
        INSERT INTO billing_ledgerentry (account_id, kind, period, entry_date, due_date, amount_kop, run_id,
                                         note, created_at)
        SELECT acc.account_id, 'charge', %s, %s, %s, COALESCE(SUM(p.amount_kop), 0), %s, '', %s
        FROM okno_bill_acc acc JOIN okno_bill_priced p ON p.account_id = acc.account_id
        GROUP BY acc.account_id""",
        [period, end, due, run.pk, now],
    )
    result.accounts = cursor.rowcount
    cursor.execute("SELECT COALESCE(SUM(amount_kop), 0) FROM okno_bill_priced")
    result.amount_kop = int(cursor.fetchone()[0])
    cursor.execute(
        """
        SELECT method, COUNT(DISTINCT account_id) FROM okno_bill_priced
        WHERE method NOT IN ('discount', 'reversal') GROUP BY method"""
    )
    result.methods = {method: int(n) for method, n in cursor.fetchall()}
    return result


def _drop_failed(cursor, result: RunResult, table: str = "okno_bill_line", column: str = "tariff_id") -> None:
    """Remove every line of accounts that could not be billed in full (reported in ``result``)."""
    failed = f"SELECT account_id FROM {table} WHERE {column} IS NULL"
    for victim in ("okno_bill_acc", "okno_bill_line", "okno_bill_priced"):
        if victim != table:
            cursor.execute(f"DELETE FROM {victim} WHERE account_id IN ({failed})")
    cursor.execute(f"DELETE FROM {table} WHERE account_id IN ({failed})")


ProgressFn = Callable[[int, int, RunResult], None]


def execute_run(run: BillingRun, *, progress: ProgressFn | None = None, chunk: int = CHUNK) -> RunResult:
    """Bill ``run.period`` for every candidate account, a chunk of account ids per transaction."""
    BillingRun.objects.filter(pk=run.pk).update(status=BillingRun.Status.RUNNING, started_at=timezone.now())
    try:
        return _execute(run, progress, chunk)
    except BaseException as exc:  # Ctrl-C in the CLI too: the run must not stay "running"
        BillingRun.objects.filter(pk=run.pk).update(
            status=BillingRun.Status.FAILED,
            finished_at=timezone.now(),
            errors=[{"error": "failed", "detail": f"{type(exc).__name__}: {exc}"[:2000]}],
        )
        raise


def _execute(run: BillingRun, progress: ProgressFn | None, chunk: int) -> RunResult:
    period = run.period
    cfg = BillingSettings.current()
    total = RunResult()
    with connection.cursor() as raw:
        cursor = _Cursor(raw)
        where, params = _candidates(period, run.branch_id)
        cursor.execute(f"SELECT COUNT(*), MIN(a.id), MAX(a.id) {where}", params)
        count, lo, hi = cursor.fetchone()
    total.skipped = _already_billed(period, run.branch_id)
    if count:
        bounds = list(range(int(lo), int(hi) + 1, chunk))
        lock = threading.Lock()
        finished = 0

        def bill(start: int) -> None:
            nonlocal finished
            with connection.cursor() as raw, transaction.atomic():
                part = _chunk_in_transaction(_Cursor(raw), run, period, start, start + chunk, cfg)
                with lock:
                    _merge(total, part)
                    finished += 1
                    number = finished  # this chunk's place in the count, whatever the other thread does
                    done, counts = min(100, round(100 * number / len(bounds))), total.as_dict()
                BillingRun.objects.filter(pk=run.pk).update(progress=done, counts=counts)
            if progress is not None:
                with lock:
                    progress(number, len(bounds), total)

        workers = _workers(len(bounds))
        if workers == 1:
            for start in bounds:
                bill(start)
        else:
            # Each thread has its own connection (Django's are per thread) and its own work tables.
            def bill_and_close(start: int) -> None:
                try:
                    bill(start)
                finally:
                    connection.close()

            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="billing") as pool:
                for future in [pool.submit(bill_and_close, start) for start in bounds]:
                    future.result()
    total.penalties = _post_penalties(run)
    BillingRun.objects.filter(pk=run.pk).update(
        status=BillingRun.Status.DONE,
        finished_at=timezone.now(),
        progress=100,
        counts=total.as_dict(),
        errors=total.errors[:1000],
    )
    from okno.core import events

    events.publish("billing.run_finished", run_id=run.pk)
    return total


def _workers(chunks: int) -> int:
    """Parallel chunks only on PostgreSQL and outside a caller's transaction (whose uncommitted rows
    other connections could not see — tests, the simulator)."""
    if not _pg() or connection.in_atomic_block or chunks < 2:
        return 1
    return max(1, min(int(settings.OKNO_BILLING_WORKERS), chunks))


def _chunk_in_transaction(
    cursor: _Cursor, run: BillingRun, period: dt.date, lo: int, hi: int, cfg
) -> RunResult:
    if _pg():
        # Many short statements over a chunk: compiling them (JIT) costs more than it saves, and a plan
        # that scans a whole table (readings, ledger) once per chunk is what makes a run grow with
        # history; index lookups keep it bounded by the chunk.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
    _ensure_temp_tables(cursor)
    _load_tariffs(cursor, period)
    return _bill_chunk(cursor, run, period, lo, hi, cfg)


def _already_billed(period: dt.date, branch_id: int | None) -> int:
    qs = LedgerEntry.objects.filter(period=period, kind=LedgerEntry.Kind.CHARGE)
    if branch_id is not None:
        qs = qs.filter(account__service_point__branch_id=branch_id)
    return qs.count()


def _merge(total: RunResult, part: RunResult) -> None:
    total.accounts += part.accounts
    total.lines += part.lines
    total.amount_kop += part.amount_kop
    total.errors.extend(part.errors)
    for method, n in part.methods.items():
        total.methods[method] = total.methods.get(method, 0) + n


def _post_penalties(run: BillingRun) -> dict[str, Any]:
    """Penalties to the end of the period, posted by the ledger (if that module is installed)."""
    try:
        from okno.billing import ledger
    except ImportError:  # pragma: no cover
        return {}
    post = getattr(ledger, "post_penalties", None)
    if post is None:  # pragma: no cover
        return {}
    account_ids = None
    if run.branch_id is not None:
        from okno.customers.models import Account

        account_ids = list(
            Account.objects.filter(service_point__branch_id=run.branch_id).values_list("id", flat=True)
        )
    return dict(post(as_of=month_end(run.period), run=run, account_ids=account_ids) or {})
