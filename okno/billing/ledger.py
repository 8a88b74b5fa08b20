"""The account ledger: balance, overdue debt and debt by period at any date; penalties; adjustments.

Conventions of the entries (see :class:`okno.billing.models.LedgerEntry`):

* a debit is positive: ``CHARGE`` (one per account and period, ``entry_date`` = last day of the period,
  ``due_date`` = :func:`okno.billing.rules.due_date`), ``RECALCULATION``, ``PENALTY``, a positive
  ``ADJUSTMENT`` (due with the bill of the month it was made in);
* a credit is negative: ``PAYMENT`` (``entry_date`` = the day paid, ``payment`` set), a negative
  ``ADJUSTMENT``, a negative charge (a period whose recalculation exceeds its charges).

**Debt** is what charges, recalculations and positive adjustments (not penalties) bring, less every
credit. Credits pay off periods oldest first; a payment that names a period pays that period first.
A debt is **overdue** once its due date has passed (``due_date < as_of``).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import Count, Max, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.billing import rules
from okno.billing.models import LedgerEntry
from okno.billing.periods import month_start

log = logging.getLogger(__name__)
Kind = LedgerEntry.Kind
_IN_LIMIT = 5000
#: Entries that make debt (when positive). Penalties are owed too but are not debt by period.
DEBIT_KINDS = (Kind.CHARGE, Kind.RECALCULATION, Kind.ADJUSTMENT)


@dataclass(frozen=True)
class PeriodDebt:
    period: dt.date
    due_date: dt.date | None
    charged_kop: int
    paid_kop: int
    open_kop: int


@dataclass(frozen=True)
class Credit:
    """A credit of the ledger as the allocation sees it: a payment or a negative entry."""

    on: dt.date
    amount_kop: int  # positive
    period: dt.date | None  # the period it names (pays first)
    entry_id: int = 0


def _today() -> dt.date:
    return timezone.localdate()


Row = dict[str, Any]


def bulk_insert(model: type[models.Model], rows: list[Row]) -> None:
    """Insert many new rows given as ``{attname: value}`` (fields left out take their defaults):
    ``COPY … FROM STDIN`` on PostgreSQL (the registry fast path), else ``bulk_create``. No signals."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {f.attname: f.get_default() for f in fields if f.attname not in rows[0]}
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**{**defaults, **row}) for row in rows], batch_size=2000)
        return
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    attnames = [f.attname for f in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] if name in row else defaults[name] for name in attnames])


# --- balances ----------------------------------------------------------------------------------


def balance_kop(account_id: int, as_of: dt.date | None = None) -> int:
    """The account's balance on ``as_of`` (inclusive; ``None``: every entry): positive — the customer
    owes, negative — an advance."""
    qs = LedgerEntry.objects.filter(account_id=account_id)
    if as_of is not None:
        qs = qs.filter(entry_date__lte=as_of)
    return int(qs.aggregate(total=Coalesce(Sum("amount_kop"), Value(0)))["total"])


def balances_kop(as_of: dt.date | None = None, account_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Balances of many accounts in one aggregate query. Accounts named in ``account_ids`` without
    entries are reported as 0; without ``account_ids``, only accounts that have entries."""
    qs = LedgerEntry.objects.all()
    ids = None if account_ids is None else list(account_ids)
    if ids is not None:
        qs = qs.filter(account_id__in=ids)
    if as_of is not None:
        qs = qs.filter(entry_date__lte=as_of)
    result = dict.fromkeys(ids, 0) if ids is not None else {}
    for account_id, total in (
        qs.order_by().values("account_id").annotate(t=Sum("amount_kop")).values_list("account_id", "t")
    ):
        result[account_id] = int(total or 0)
    return result


# --- overdue debt ------------------------------------------------------------------------------


def _overdue_queryset(as_of: dt.date):
    """Per account: debits due before ``as_of`` plus every credit up to ``as_of`` (one GROUP BY)."""
    debit = Q(kind__in=DEBIT_KINDS, amount_kop__gt=0, due_date__lt=as_of)
    # A penalty is owed but is not debt by period; a negative penalty (a correction) pays nothing.
    credit = Q(amount_kop__lt=0) & ~Q(kind=Kind.PENALTY)
    return (
        LedgerEntry.objects.filter(entry_date__lte=as_of)
        .filter(debit | credit)
        .order_by()
        .values("account_id")
        .annotate(
            overdue=Coalesce(Sum("amount_kop", filter=debit), Value(0))
            + Coalesce(Sum("amount_kop", filter=credit), Value(0))
        )
    )


def overdue_kop(account_id: int, as_of: dt.date) -> int:
    """Debt whose due date has passed by ``as_of`` (charges due before it less everything paid up to
    it); never negative."""
    rows = list(_overdue_queryset(as_of).filter(account_id=account_id).values_list("overdue", flat=True))
    return max(0, int(rows[0])) if rows else 0


def overdue_by_account(as_of: dt.date, account_ids: Iterable[int] | None = None) -> dict[int, int]:
    """Overdue debt of every account that has some on ``as_of`` (one query; accounts without overdue
    debt are left out)."""
    qs = _overdue_queryset(as_of)
    wanted = None if account_ids is None else set(account_ids)
    if wanted is not None and len(wanted) <= _IN_LIMIT:
        qs = qs.filter(account_id__in=list(wanted))
        wanted = None
    rows = qs.filter(overdue__gt=0).values_list("account_id", "overdue")
    # A long list of ids (a branch's accounts) is applied here rather than as a huge IN (…).
    return {a: int(v) for a, v in rows.iterator(chunk_size=10000) if wanted is None or a in wanted}


@functools.cache
def _money_sql() -> str:
    """The statement of :func:`money_by_account` (built once; the values are parameters)."""
    table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    kinds = ", ".join(["%s"] * len(DEBIT_KINDS))
    # Only the table's quoted name and placeholders are formatted in.
    return (
        f"SELECT account_id, SUM(amount_kop),"  # noqa: S608
        f" SUM(CASE WHEN (kind IN ({kinds}) AND amount_kop > 0 AND due_date < %s)"
        f" OR (amount_kop < 0 AND kind <> %s) THEN amount_kop ELSE 0 END)"
        f" FROM {table} WHERE account_id IN ({{ids}}) AND entry_date <= %s GROUP BY account_id"
    )


def money_by_account(as_of: dt.date, account_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """(balance, overdue debt) in kopecks of a few accounts on ``as_of``, in one query: the same figures
    as :func:`balances_kop` and :func:`overdue_by_account` (overdue never negative), for the pages that
    show both for one customer's accounts. Accounts without entries get (0, 0)."""
    ids = [int(i) for i in account_ids]
    result = dict.fromkeys(ids, (0, 0))
    if not ids:
        return result
    sql = _money_sql().format(ids=", ".join(["%s"] * len(ids)))
    params: list[Any] = [*(str(k) for k in DEBIT_KINDS), as_of, str(Kind.PENALTY), *ids, as_of]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        for account_id, balance, overdue in cur.fetchall():
            result[account_id] = (int(balance or 0), max(0, int(overdue or 0)))
    return result


# --- debt by period ----------------------------------------------------------------------------


_ITEM_FIELDS = (
    "account_id",
    "id",
    "kind",
    "period",
    "entry_date",
    "due_date",
    "amount_kop",
    "payment__period",
)
Items = tuple[dict[dt.date, tuple[dt.date | None, int]], list[Credit]]


def _items(rows: Iterable[tuple]) -> Items:
    """Debits by period (due date, amount) and credits in date order from rows of ``_ITEM_FIELDS``
    (ordered by date and id, penalties left out)."""
    debits: dict[dt.date, tuple[dt.date | None, int]] = {}
    credits: list[Credit] = []
    for _account, entry_id, kind, period, entry_date, due, amount, payment_period in rows:
        if amount > 0:
            period = period or month_start(entry_date)
            old_due, old_amount = debits.get(period, (None, 0))
            if kind == Kind.CHARGE or old_due is None:
                old_due = due if due is not None else old_due
            debits[period] = (old_due, old_amount + amount)
        elif amount < 0:
            named = payment_period if kind == Kind.PAYMENT else period
            credits.append(Credit(on=entry_date, amount_kop=-amount, period=named, entry_id=entry_id))
    return debits, credits


def _item_rows(as_of: dt.date, account_ids: list[int]):
    return (
        LedgerEntry.objects.filter(account_id__in=account_ids, entry_date__lte=as_of)
        .exclude(kind=Kind.PENALTY)
        .order_by("account_id", "entry_date", "id")
        .values_list(*_ITEM_FIELDS)
    )


def ledger_items(account_id: int, as_of: dt.date) -> Items:
    """The account's debits by period (due date, amount) and credits (in date order) up to ``as_of``."""
    return _items(_item_rows(as_of, [account_id]))


def ledger_items_bulk(
    as_of: dt.date, account_ids: Iterable[int], chunk: int = 5000
) -> Iterable[tuple[int, Items]]:
    """``(account_id, items)`` for many accounts, one query per ``chunk`` accounts."""
    ids = sorted(set(account_ids))
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        rows: dict[int, list[tuple]] = {}
        for row in _item_rows(as_of, part).iterator(chunk_size=10000):
            rows.setdefault(row[0], []).append(row)
        for account_id in part:
            yield account_id, _items(rows.get(account_id, []))


def allocate(
    open_by_period: dict[dt.date, int], amount_kop: int, period: dt.date | None
) -> tuple[list[tuple[dt.date, int]], int]:
    """Split ``amount_kop`` over open debts (mutated): the named ``period`` first, then the oldest.
    Returns ``([(period, amount)], surplus)``."""
    parts: list[tuple[dt.date, int]] = []
    rest = amount_kop
    order = sorted(open_by_period)
    if period is not None and period in open_by_period:
        order.remove(period)
        order.insert(0, period)
    for p in order:
        if rest <= 0:
            break
        take = min(rest, open_by_period[p])
        if take > 0:
            open_by_period[p] -= take
            parts.append((p, take))
            rest -= take
    return parts, rest


def period_debts(account_id: int, as_of: dt.date | None = None) -> list[PeriodDebt]:
    """Every period charged up to ``as_of`` with what was charged, paid and is still open, oldest
    first. Credits are applied in date order: a payment naming a period goes there first, the rest to
    the oldest open period."""
    as_of = as_of or _today()
    debits, credits = ledger_items(account_id, as_of)
    open_by_period = {p: amount for p, (_due, amount) in debits.items()}
    for credit in credits:
        allocate(open_by_period, credit.amount_kop, credit.period)
    return [
        PeriodDebt(
            period=p,
            due_date=due,
            charged_kop=amount,
            paid_kop=amount - open_by_period[p],
            open_kop=open_by_period[p],
        )
        for p, (due, amount) in sorted(debits.items())
    ]


def penalty_posted_kop(account_id: int, as_of: dt.date | None = None) -> int:
    qs = LedgerEntry.objects.filter(account_id=account_id, kind=Kind.PENALTY)
    if as_of is not None:
        qs = qs.filter(entry_date__lte=as_of)
    return int(qs.aggregate(total=Coalesce(Sum("amount_kop"), Value(0)))["total"])


# --- penalties ---------------------------------------------------------------------------------


def _penalty_args(items: Items) -> tuple[list, list]:
    from okno.billing.penalty import Debt, Paid

    debits, credits = items
    debts = [
        Debt(period=p, due_date=due or p, amount_kop=amount) for p, (due, amount) in sorted(debits.items())
    ]
    paid = [Paid(paid_on=c.on, amount_kop=c.amount_kop, period=c.period) for c in credits]
    return debts, paid


def penalty_inputs(account_id: int, as_of: dt.date) -> tuple[list, list]:
    """The account's debts and payments as :func:`okno.billing.penalty.compute_penalty` takes them."""
    return _penalty_args(ledger_items(account_id, as_of))


def penalty_to_date(account_id: int, as_of: dt.date):
    """The penalty (a :class:`okno.billing.penalty.PenaltyResult`) the account owes for all its late
    payments up to ``as_of``."""
    from okno.billing.penalty import compute_penalty

    debts, paid = penalty_inputs(account_id, as_of)
    return compute_penalty(debts, paid, as_of)


#: Overdue debt is sampled this often back to the last posting, so that a debt that was late for
#: 30 days or more (the grace period) and paid between postings is not missed.
_SAMPLE_DAYS = 28
_FIRST_LOOKBACK_DAYS = 400


def penalty_candidates(as_of: dt.date, account_ids: list[int] | None = None) -> set[int]:
    """Accounts whose penalty may have changed since the last posting, found set-based in one
    ``GROUP BY``:

    * overdue on ``as_of`` or on any of the days sampled every 28 days back to the last penalty
      posting (at most 400 days back). A debt accrues a penalty only after 30 days of delay, so a
      debt that accrued between postings was overdue on one of those days;
    * with an entry entered (``created_at``) after the last posting but dated (a credit: a payment
      registered late, a negative adjustment) or due (a debit) on or before that posting's day: the
      posted total may differ from the recomputed one although the account is not overdue on any
      sampled day. (Credits and debits dated after it change only later accrual, which needs
      overdue debt after that day, so the sampling finds them.) The last posting is the newest
      ``PENALTY`` entry of any account: a posting for a subset of accounts (the simulator's) moves it
      too."""
    marks = LedgerEntry.objects.filter(kind=Kind.PENALTY).aggregate(
        last=Max("entry_date", filter=Q(entry_date__lt=as_of)), posted_at=Max("created_at")
    )
    last, posted_at = marks["last"], marks["posted_at"]
    floor = as_of - dt.timedelta(days=_FIRST_LOOKBACK_DAYS)
    if last is not None:
        floor = max(floor, last)
    days = [as_of]
    while days[-1] > floor:
        days.append(max(floor, days[-1] - dt.timedelta(days=_SAMPLE_DAYS)))
    annotations: dict[str, Any] = {}
    not_penalty = ~Q(kind=Kind.PENALTY)
    for i, day in enumerate(days):
        debit = Q(kind__in=DEBIT_KINDS, amount_kop__gt=0, due_date__lt=day)
        credit = Q(amount_kop__lt=0, entry_date__lte=day) & not_penalty
        annotations[f"o{i}"] = Coalesce(Sum("amount_kop", filter=debit), Value(0)) + Coalesce(
            Sum("amount_kop", filter=credit), Value(0)
        )
    any_overdue = Q()
    for name in annotations:
        any_overdue |= Q(**{f"{name}__gt": 0})
    if last is not None and posted_at is not None:
        # Entered after the last posting but dated (credits) or due (debits) by its day: a payment
        # registered late, a backdated adjustment. The last posting did not see them.
        late = (
            Q(created_at__gt=posted_at)
            & not_penalty
            & (
                Q(amount_kop__lt=0, entry_date__lte=last)
                | Q(kind__in=DEBIT_KINDS, amount_kop__gt=0, due_date__lte=last)
            )
        )
        annotations["late"] = Count("id", filter=late)
        any_overdue |= Q(late__gt=0)
    qs = LedgerEntry.objects.filter(entry_date__lte=as_of)
    wanted = None if account_ids is None else set(account_ids)
    if wanted is not None and len(wanted) <= _IN_LIMIT:
        qs = qs.filter(account_id__in=list(wanted))
        wanted = None
    rows = qs.order_by().values("account_id").annotate(**annotations).filter(any_overdue)
    return {
        a
        for a in rows.values_list("account_id", flat=True).iterator(chunk_size=10000)
        if wanted is None or a in wanted
    }


def post_penalties(*, as_of: dt.date, run=None, account_ids: Iterable[int] | None = None) -> dict:
    """Post, for every account with overdue debt (found set-based, :func:`penalty_candidates`), the
    penalty accrued to ``as_of`` less the penalties already posted, as one ``PENALTY`` entry dated
    ``as_of`` for the month of ``as_of``. Idempotent: a second call for the same ``as_of`` posts
    nothing. An account whose penalty needs a key rate the table does not have is logged and skipped
    (posted by a later call once the rate is entered). Returns counts: ``accounts_checked``,
    ``posted``, ``total_kop``, ``skipped``."""
    from okno.billing.penalty import compute_penalty

    # Taken before the candidates are read: an entry made during this call is newer than what it
    # posts, so the next posting still sees it (see :func:`penalty_candidates`).
    now = timezone.now()
    ids = None if account_ids is None else list(account_ids)
    candidates = penalty_candidates(as_of, ids)
    posted = _penalties_posted(as_of, candidates)
    period = month_start(as_of)
    note = _("Penalty for late payment to %(day)s") % {"day": as_of.isoformat()}
    new: list[Row] = []
    total = 0
    skipped = 0
    # The rate tables do not change during the call: look each day up once for all accounts.
    key_rate_on = functools.lru_cache(maxsize=None)(rules.key_rate_on)
    rule_on = functools.lru_cache(maxsize=None)(rules.penalty_rule_on)
    for account_id, items in ledger_items_bulk(as_of, candidates):
        debts, paid = _penalty_args(items)
        try:
            due = compute_penalty(debts, paid, as_of, key_rate_on=key_rate_on, rule_on=rule_on).total_kop
        except LookupError as error:
            log.warning("penalty of account %s to %s not posted: %s", account_id, as_of, error)
            skipped += 1
            continue
        difference = due - posted.get(account_id, 0)
        if difference == 0:
            continue
        new.append(
            {
                "account_id": account_id,
                "kind": Kind.PENALTY.value,
                "period": period,
                "entry_date": as_of,
                "due_date": None,
                "amount_kop": difference,
                "run_id": run.pk if run is not None else None,
                "payment_id": None,
                "note": note,
                "created_at": now,
                "created_by_id": None,
            }
        )
        total += difference
    with transaction.atomic():
        bulk_insert(LedgerEntry, new)
    if skipped:
        log.error("penalties to %s: %d accounts skipped for want of a key rate", as_of, skipped)
    return {"accounts_checked": len(candidates), "posted": len(new), "total_kop": total, "skipped": skipped}


def _penalties_posted(as_of: dt.date, account_ids: Iterable[int]) -> dict[int, int]:
    ids = list(account_ids)
    result: dict[int, int] = {}
    for start in range(0, len(ids), 5000):
        rows = (
            LedgerEntry.objects.filter(
                kind=Kind.PENALTY, entry_date__lte=as_of, account_id__in=ids[start : start + 5000]
            )
            .order_by()
            .values("account_id")
            .annotate(t=Sum("amount_kop"))
            .values_list("account_id", "t")
        )
        result.update({a: int(t or 0) for a, t in rows})
    return result


# --- adjustments -------------------------------------------------------------------------------


def post_adjustment(
    *, account, amount_kop: int, note: str, actor, entry_date: dt.date | None = None
) -> LedgerEntry:
    """A manual correction of the balance (± kopecks) with its reason. A positive adjustment is due
    with the bill of the month it is made in; a negative one is a credit like a payment."""
    from okno.core import audit
    from okno.core.context import acting_as

    if actor is None or not actor.has_okno_perm("ledgerentry.add"):
        raise PermissionDenied(_("You may not adjust the ledger."))
    errors: dict[str, list[str]] = {}
    note = (note or "").strip()
    if not note:
        errors["note"] = [_("Give the reason for the adjustment.")]
    if not isinstance(amount_kop, int) or amount_kop == 0:
        errors["amount"] = [_("The amount must be a non-zero number of kopecks.")]
    if errors:
        raise ValidationError(errors)
    day = entry_date or _today()
    period = month_start(day)
    with transaction.atomic(), acting_as(actor):
        entry = LedgerEntry.objects.create(
            account=account,
            kind=Kind.ADJUSTMENT,
            period=period,
            entry_date=day,
            due_date=rules.due_date(period) if amount_kop > 0 else None,
            amount_kop=amount_kop,
            note=note[:300],
            created_by=actor,
        )
        audit.log_change(entry, "create", None, audit.snapshot(entry))
    return entry
