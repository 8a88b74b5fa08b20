"""Meters and readings: the only place they change.

Every channel (cabinet, office, phone, SMS, IVR, terminals, agents, controllers' rounds, smart meters)
ends in :func:`submit_reading` or, for bulk files, in :mod:`okno.billing.imports`; both validate a
reading with the one function :func:`check_reading` against a :class:`MeterState` that is loaded for
one meter or, in bulk, for all the meters of a file in a few queries (:func:`load_states`).

Rules (documented for users in ``docs/billing/readings.md``):

* the values are kWh in the meter's zone order, stored as integer Wh;
* the count of values equals the meter's zones; no more fractional digits than the meter shows; no
  more integer digits than its capacity (10^integer_digits kWh);
* not lower than the previous accepted reading per zone, unless the register rolled over: then the
  implied consumption (capacity − previous + new) must be plausible — within the jump limit or, with
  no average yet, under half the capacity;
* consumption per month since the previous reading above ``jump_factor`` × the average monthly
  consumption (from the latest accepted reading on or before ``average_months`` months before the last
  one, or from the earliest, to the last) → held for review;
* an expired verification is accepted with the flag ``verification_expired``;
* a closed account, a meter not on the account, a removed meter, a future date → refused.

An accepted reading is never edited: :func:`correct_reading` makes a new version, checked against its
neighbours (the accepted readings just before and just after it).

A reading that becomes accepted after its period was billed (a held reading accepted, a correction of a
billed reading) counts for the first period still open for the account (:func:`counting_period`), so the
next run bills it. A meter's FINAL reading counts for the month of removal while that month is open,
else for the first open period — and then the meter's ``removed_on`` is that period's first day, so the
billing run still sees the meter in service when its final reading is billed.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.billing import periods
from okno.billing.models import BillingRun, BillingSettings, LedgerEntry, Meter, Reading, ReadingImport
from okno.core import audit, events
from okno.core.context import acting_as
from okno.core.errors import Conflict
from okno.customers.actions import record_contact
from okno.customers.choices import ContactEventKind
from okno.customers.models import Account

DAYS_PER_MONTH = Decimal("30.4375")  # 365.25 / 12
CHUNK = 2000  # ids per IN (…) list: below SQLite's limit of bound parameters

# Machine codes of refusals (the API's ``code``, the IVR's prompt key).
REFUSAL_CODES = (
    "not_found",
    "not_on_account",
    "account_closed",
    "future_date",
    "before_previous",
    "zones_mismatch",
    "lower_than_previous",
    "too_many_digits",
    "invalid_value",
    "meter_removed",
    "higher_than_next",
)

# Which line of the customer's contact history a reading from each channel writes. Bulk channels
# (agents, rounds, smart meters) write none: that would be millions of rows. The chat and the
# messenger write none either: their conversation is already the customer's history line.
CONTACT_KIND = {
    Reading.Channel.CABINET: ContactEventKind.VISIT,
    Reading.Channel.OFFICE: ContactEventKind.VISIT,
    Reading.Channel.TERMINAL: ContactEventKind.VISIT,
    Reading.Channel.CONTROLLER: ContactEventKind.VISIT,
    Reading.Channel.PHONE: ContactEventKind.CALL,
    Reading.Channel.IVR: ContactEventKind.CALL,
    Reading.Channel.SMS: ContactEventKind.CALL,
}


class ReadingRefused(ValidationError):
    """A reading that cannot be accepted: ``code`` for machines, the message for people, ``field``
    for forms and the API's field errors (``values`` unless it is about the account or the date)."""

    def __init__(self, code: str, message: str, field: str = "values") -> None:
        super().__init__({field: [ValidationError(message, code=code)]})
        self.code = code
        self.field = field
        self.text = message

    def __str__(self) -> str:
        return self.text


# --- what validation needs, loaded once -------------------------------------------------------


@dataclass
class MeterState:
    """A meter with its last accepted reading and its average monthly consumption (all zones)."""

    id: int
    account_id: int
    serial: str
    zones: int
    integer_digits: int
    fraction_digits: int
    status: str
    verification_due: dt.date | None
    installed_on: dt.date
    last_taken_on: dt.date | None = None
    last_values: list[int] | None = None
    # the average as (consumption in Wh, days): a ratio kept in integers, compared exactly
    average: tuple[int, int] | None = None
    # readings of the average window: (taken_on, values) oldest first, kept up to date in bulk
    window: list[tuple[dt.date, list[int]]] = field(default_factory=list)

    @property
    def capacity_wh(self) -> int:
        return 10**self.integer_digits * 1000

    @property
    def avg_month_wh(self) -> Decimal | None:
        """The average monthly consumption in Wh (for people; checks use :attr:`average`)."""
        if self.average is None:
            return None
        return Decimal(self.average[0]) * DAYS_PER_MONTH / self.average[1]

    def remember(self, taken_on: dt.date, values: list[int], months: int) -> None:
        """Make an accepted reading the previous one of the next (bulk files with several a meter)."""
        self.last_taken_on, self.last_values = taken_on, values
        self.window.append((taken_on, values))
        cutoff = average_cutoff(taken_on, months)
        before = [i for i, (day, _v) in enumerate(self.window) if day <= cutoff]
        self.window = self.window[before[-1] if before else 0 :]
        self.average = _average(self.window, self.capacity_wh)


@dataclass(frozen=True)
class Rules:
    """The settings the checks use (read once per submission or file)."""

    submission_last_day: int
    jump_factor: Decimal
    average_months: int
    done: frozenset[tuple[dt.date, int | None]]  # (period, branch id or None) of done billing runs
    _periods: dict[tuple[dt.date, int | None], dt.date] = field(
        default_factory=dict, compare=False, hash=False
    )

    @property
    def factor_e2(self) -> int:
        """The jump factor in hundredths (5.00 → 500), for exact integer comparisons."""
        return int(self.jump_factor * 100)

    @classmethod
    def load(cls) -> Rules:
        s = BillingSettings.current()
        done = frozenset(
            BillingRun.objects.filter(status=BillingRun.Status.DONE).values_list("period", "branch_id")
        )
        return cls(s.submission_last_day, s.jump_factor, s.average_months, done)

    def period_for(self, taken_on: dt.date, branch_id: int | None) -> dt.date:
        """The submission window's period, rolled forward past periods already billed."""
        key = (taken_on, branch_id)
        period = self._periods.get(key)
        if period is None:
            period = periods.reading_period(taken_on, self.submission_last_day)
            while (period, None) in self.done or (period, branch_id) in self.done:
                period = periods.add_months(period, 1)
            self._periods[key] = period
        return period


@dataclass
class Verdict:
    values_wh: list[int]
    status: str
    flags: list[str]
    period: dt.date


def first_open_period(account_id: int, branch_id: int | None, start: dt.date, rules: Rules) -> dt.date:
    """The first period from ``start`` with neither a done billing run (of all branches or the account's
    branch) nor a charge in the account's ledger: the period a newly accepted reading can still count for."""
    charged = set(
        LedgerEntry.objects.filter(
            account_id=account_id, kind=LedgerEntry.Kind.CHARGE, period__gte=start
        ).values_list("period", flat=True)
    )
    period = start
    while period in charged or (period, None) in rules.done or (period, branch_id) in rules.done:
        period = periods.add_months(period, 1)
    return period


def counting_period(
    *,
    meter_id: int,
    account_id: int,
    branch_id: int | None,
    taken_on: dt.date,
    period: dt.date,
    rules: Rules,
    exclude: int | None = None,
) -> dt.date:
    """The period a reading that becomes accepted now counts for: ``period`` while it is open, else the
    first open one — unless a later accepted reading of the meter already counts for an earlier period
    (then that reading's billing covered this consumption, and the reading keeps ``period``)."""
    target = first_open_period(account_id, branch_id, period, rules)
    if target == period:
        return period
    later = (
        Reading.objects.filter(meter_id=meter_id, status=Reading.Status.ACCEPTED, taken_on__gt=taken_on)
        .exclude(pk=exclude or 0)
        .order_by("period")
        .values_list("period", flat=True)
        .first()
    )
    if later is not None and later < target:
        return period
    return target


def _state(meter: Meter) -> MeterState:
    return MeterState(
        id=meter.pk,
        account_id=meter.account_id,
        serial=meter.serial,
        zones=meter.zones,
        integer_digits=meter.integer_digits,
        fraction_digits=meter.fraction_digits,
        status=meter.status,
        verification_due=meter.verification_due,
        installed_on=meter.installed_on,
    )


def _average(window: list[tuple[dt.date, list[int]]], capacity: int) -> tuple[int, int] | None:
    """Consumption (Wh, all zones) and days between the oldest and newest reading of the window; None
    without two readings on different days or without consumption."""
    if len(window) < 2:
        return None
    (d0, v0), (d1, v1) = window[0], window[-1]
    days = (d1 - d0).days
    if days <= 0:
        return None
    total = 0
    for a, b in zip(v0, v1, strict=False):
        total += b - a if b >= a else capacity - a + b
    return (total, days) if total > 0 else None


@functools.lru_cache(maxsize=4096)
def average_cutoff(last: dt.date, months: int) -> dt.date:
    """``months`` before ``last`` (the same day, or the month's last day when it has no such day)."""
    first = periods.add_months(last.replace(day=1), -months)
    return first.replace(day=min(last.day, periods.month_end(first).day))


def _due(verified_on: dt.date | None, years: int) -> dt.date | None:
    """:attr:`Meter.verification_due` without a model instance (bulk loading)."""
    if verified_on is None:
        return None
    try:
        return verified_on.replace(year=verified_on.year + years)
    except ValueError:  # 29 February
        return verified_on.replace(year=verified_on.year + years, day=28)


def in_list(field: str, values: Sequence[Any], sql_type: str = "bigint") -> Q:
    """``field IN values``: on PostgreSQL as one array parameter (cheap to send for 10^5 values)."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__in": RawSQL(f"SELECT unnest(%s::{sql_type}[])", [list(values)])})  # noqa: S611
    return Q(**{f"{field}__in": list(values)})


def chunk_size() -> int:
    """Values per lookup: SQLite limits the bound parameters of a statement; PostgreSQL takes an array."""
    return 50_000 if connection.vendor == "postgresql" else CHUNK


Row = tuple[Any, ...]  # (meter_id, taken_on, id, t1_wh, t2_wh, t3_wh) as the database returns it
_BY_DATE = operator.itemgetter(1, 2)


def _values(row: Row) -> list[int]:
    return [v for v in row[3:6] if v is not None]


def _window(rows: list[Row], months: int) -> list[tuple[dt.date, list[int]]]:
    """[start, last] of a meter's accepted readings (or [last]): the average runs from the latest
    reading on or before ``months`` before the last one — or from the earliest, for a newer meter."""
    rows.sort(key=_BY_DATE)
    last = rows[-1]
    cutoff = average_cutoff(last[1], months)
    begin = rows[0]
    for row in rows:
        if row[1] > cutoff:
            break
        begin = row
    if begin[1] >= last[1]:
        return [(last[1], _values(last))]
    return [(begin[1], _values(begin)), (last[1], _values(last))]


# PostgreSQL: per meter only the rows the average needs — the last accepted reading, the earliest, and
# the latest on or before the cutoff ``months`` before the last — sorted by the server.
_HISTORY_PG = """
WITH r AS MATERIALIZED (
  SELECT id, meter_id, taken_on, t1_wh, t2_wh, t3_wh FROM {table}
  WHERE status = %s AND meter_id = ANY(%s) AND id <> %s
), last AS MATERIALIZED (
  SELECT DISTINCT ON (meter_id) meter_id, taken_on, id, t1_wh, t2_wh, t3_wh FROM r
  ORDER BY meter_id, taken_on DESC, id DESC
), first AS (
  SELECT DISTINCT ON (meter_id) meter_id, taken_on, id, t1_wh, t2_wh, t3_wh FROM r
  ORDER BY meter_id, taken_on, id
), start AS (
  SELECT DISTINCT ON (r.meter_id) r.meter_id, r.taken_on, r.id, r.t1_wh, r.t2_wh, r.t3_wh
  FROM r JOIN last l ON l.meter_id = r.meter_id
  WHERE r.taken_on <= (l.taken_on - make_interval(months => %s))::date
  ORDER BY r.meter_id, r.taken_on DESC, r.id DESC
)
SELECT * FROM last UNION ALL SELECT * FROM first UNION ALL SELECT * FROM start
"""


def _history(
    chunk: list[int], months: int, exclude_reading: int | None, since: dt.date | None
) -> dict[int, list[Row]]:
    """Accepted readings per meter (:data:`Row` tuples) — enough of them for :func:`_window`.

    PostgreSQL, ``since`` given (bulk files): the readings of periods from ``since`` in one index range
    scan, and for meters with none of those the three rows :data:`_HISTORY_PG` picks. PostgreSQL
    without ``since``: those three rows. Elsewhere (SQLite): all the readings.
    """
    rows: list[tuple] = []
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Reading._meta.db_table)
        status = Reading.Status.ACCEPTED.value
        rest = chunk
        with connection.cursor() as cursor:
            if since is not None:
                cursor.execute(
                    f"SELECT meter_id, taken_on, id, t1_wh, t2_wh, t3_wh FROM {table} "  # noqa: S608
                    "WHERE status = %s AND meter_id = ANY(%s) AND period >= %s AND id <> %s",
                    [status, chunk, since, exclude_reading or 0],
                )
                rows = cursor.fetchall()
                seen = {r[0] for r in rows}
                rest = [m for m in chunk if m not in seen]
            if rest:
                cursor.execute(_HISTORY_PG.format(table=table), [status, rest, exclude_reading or 0, months])
                rows += cursor.fetchall()
    else:
        accepted = Reading.objects.filter(meter_id__in=chunk, status=Reading.Status.ACCEPTED)
        if exclude_reading is not None:
            accepted = accepted.exclude(pk=exclude_reading)
        rows = list(accepted.order_by().values_list("meter_id", "taken_on", "id", "t1_wh", "t2_wh", "t3_wh"))
    history: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        history[row[0]].append(row)
    return history


def load_states(
    meter_ids: Iterable[int], *, months: int, exclude_reading: int | None = None, since: dt.date | None = None
) -> dict[int, MeterState]:
    """Meters with their last accepted reading and average monthly consumption — what
    :func:`check_reading` needs — in two or three queries per chunk of meters (no query per meter).

    ``since`` (bulk files): read the history from this period on (see :func:`_history`)."""
    ids = sorted(set(meter_ids))
    states: dict[int, MeterState] = {}
    size = chunk_size()
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        for row in Meter.objects.filter(in_list("id", chunk)).values_list(
            "id",
            "account_id",
            "serial",
            "zones",
            "integer_digits",
            "fraction_digits",
            "status",
            "verified_on",
            "verification_interval_years",
            "installed_on",
        ):
            states[row[0]] = MeterState(
                id=row[0],
                account_id=row[1],
                serial=row[2],
                zones=row[3],
                integer_digits=row[4],
                fraction_digits=row[5],
                status=row[6],
                verification_due=_due(row[7], row[8]),
                installed_on=row[9],
            )
        for meter_id, points in _history(chunk, months, exclude_reading, since).items():
            st = states.get(meter_id)
            if st is None:
                continue
            st.window = _window(points, months)
            st.last_taken_on, st.last_values = st.window[-1]
            st.average = _average(st.window, st.capacity_wh)
    return states


# --- the one validation function ---------------------------------------------------------------


def parse_value(value: Any) -> Decimal:
    """A reading value as given (Decimal, int, "12 345,6") → Decimal kWh; ReadingRefused otherwise."""
    if isinstance(value, Decimal):
        number = value
    else:
        text = str(value).strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = Decimal("NaN")
    if not number.is_finite() or number < 0:
        raise ReadingRefused("invalid_value", _("“%(v)s” is not a meter reading.") % {"v": value})
    return number


def _to_wh(values: Sequence[Any], st: MeterState) -> list[int]:
    if len(values) != st.zones:
        raise ReadingRefused(
            "zones_mismatch",
            _("The meter has %(zones)d tariff zone(s); %(n)d value(s) were given.")
            % {"zones": st.zones, "n": len(values)},
        )
    out = []
    for raw in values:
        number = parse_value(raw)
        scaled = number.scaleb(st.fraction_digits)
        if scaled != scaled.to_integral_value():
            raise ReadingRefused(
                "too_many_digits",
                _("The meter shows %(n)d digit(s) after the decimal point; “%(v)s” has more.")
                % {"n": st.fraction_digits, "v": raw},
            )
        if number >= 10**st.integer_digits:
            raise ReadingRefused(
                "too_many_digits",
                _("The meter shows %(n)d digits before the decimal point; “%(v)s” has more.")
                % {"n": st.integer_digits, "v": raw},
            )
        out.append(int(number * 1000))
    return out


def check_reading(
    st: MeterState,
    values: Sequence[Any],
    taken_on: dt.date,
    *,
    today: dt.date,
    rules: Rules,
    branch_id: int | None,
    account_closed_on: dt.date | None = None,
    final: bool = False,
) -> Verdict:
    """Validate one reading of meter ``st``; raise :class:`ReadingRefused` or return the verdict.

    Used by every channel: :func:`submit_reading` for one reading and the bulk importer per line.
    """
    if st.status == Meter.Status.REMOVED:
        raise ReadingRefused("meter_removed", _("Meter %(s)s has been removed.") % {"s": st.serial}, "meter")
    if account_closed_on is not None and account_closed_on <= taken_on:
        raise ReadingRefused("account_closed", _("The account is closed."), "account")
    if taken_on > today:
        raise ReadingRefused(
            "future_date", _("The date %(d)s is in the future.") % {"d": f"{taken_on:%d.%m.%Y}"}, "taken_on"
        )
    if taken_on < st.installed_on or (st.last_taken_on is not None and taken_on < st.last_taken_on):
        previous = st.last_taken_on or st.installed_on
        raise ReadingRefused(
            "before_previous",
            _("The date %(d)s is before the previous reading of %(p)s.")
            % {"d": f"{taken_on:%d.%m.%Y}", "p": f"{previous:%d.%m.%Y}"},
            "taken_on",
        )
    wh = _to_wh(values, st)
    flags: list[str] = []
    status = Reading.Status.ACCEPTED
    if st.last_values is not None and st.last_taken_on is not None:
        days = max((taken_on - st.last_taken_on).days, 1)
        # Per month, consumption C over ``days`` exceeds factor f × the average A over ``avg_days``
        # when C / days > f × A / avg_days, i.e. C × avg_days × 100 > f_e2 × A × days (exact integers).
        limit = None
        if st.average is not None:
            avg_wh, avg_days = st.average
            limit = (avg_days * 100, rules.factor_e2 * avg_wh * days)
        total = 0
        for zone, (prev, new) in enumerate(zip(st.last_values, wh, strict=False), start=1):
            if new < prev:
                implied = st.capacity_wh - prev + new
                if limit is not None:
                    plausible = implied * limit[0] <= limit[1]
                else:
                    plausible = implied < st.capacity_wh // 2
                if not plausible:
                    raise ReadingRefused(
                        "lower_than_previous",
                        _("T%(z)d: %(new)s kWh is lower than the previous reading %(prev)s kWh.")
                        % {"z": zone, "new": _fmt(new), "prev": _fmt(prev)},
                    )
                total += implied
            else:
                total += new - prev
        if limit is not None and not final and total * limit[0] > limit[1]:
            flags.append("jump")
            status = Reading.Status.HELD
    if st.verification_due is not None and taken_on >= st.verification_due:
        flags.append("verification_expired")
    return Verdict(wh, status, flags, rules.period_for(taken_on, branch_id))


def _check_before_next(st: MeterState, wh: list[int], taken_on: dt.date, nxt: Reading, rules: Rules) -> None:
    """A corrected reading must not exceed the next accepted one, unless the register plausibly rolled
    over between them (the same rule as for a lower new reading in :func:`check_reading`)."""
    days = max((nxt.taken_on - taken_on).days, 1)
    for zone, (value, later) in enumerate(zip(wh, nxt.values_wh(), strict=False), start=1):
        if later >= value:
            continue
        implied = st.capacity_wh - value + later
        if st.average is not None:
            avg_wh, avg_days = st.average
            plausible = implied * avg_days * 100 <= rules.factor_e2 * avg_wh * days
        else:
            plausible = implied < st.capacity_wh // 2
        if not plausible:
            raise ReadingRefused(
                "higher_than_next",
                _("T%(z)d: %(new)s kWh is higher than the next reading %(next)s kWh of %(d)s.")
                % {"z": zone, "new": _fmt(value), "next": _fmt(later), "d": f"{nxt.taken_on:%d.%m.%Y}"},
            )


def _fmt(wh: int) -> str:
    return f"{Decimal(wh) / 1000:f}".rstrip("0").rstrip(".") if wh % 1000 else str(wh // 1000)


def format_values(values_wh: Sequence[int]) -> str:
    """ "T1 4512.3; T2 1877" (or "4512.3" for one zone) for replies and history lines."""
    if len(values_wh) == 1:
        return _fmt(values_wh[0])
    return "; ".join(f"T{i} {_fmt(v)}" for i, v in enumerate(values_wh, start=1))


# --- actions -----------------------------------------------------------------------------------


def _branch(account: Account) -> Any:
    return account.service_point.branch


def _local_today(account: Account, now: dt.datetime | None) -> dt.date:
    return (now or timezone.now()).astimezone(_branch(account).tz).date()


def _wh_fields(values_wh: Sequence[int]) -> dict[str, int | None]:
    padded = [*values_wh, None, None, None]
    return {"t1_wh": padded[0], "t2_wh": padded[1], "t3_wh": padded[2]}  # type: ignore[dict-item]


def _log_created(obj: Any) -> None:
    audit.log_change(obj, "create", None, audit.snapshot(obj))


def _announce(reading: Reading) -> None:
    if reading.status == Reading.Status.ACCEPTED:
        events.publish("reading.accepted", reading_id=reading.pk, account_id=reading.account_id)


def _record_history(reading: Reading, meter_serial: str, actor: Any) -> None:
    kind = CONTACT_KIND.get(reading.channel)  # type: ignore[call-overload]
    if kind is None or reading.source_import_id is not None:
        return
    if reading.status == Reading.Status.HELD:
        text = _("Reading of meter %(serial)s received (held for review): %(values)s kWh")
    else:
        text = _("Reading of meter %(serial)s accepted: %(values)s kWh")
    record_contact(
        reading.account.customer_id,
        kind=kind,
        summary=text % {"serial": meter_serial, "values": format_values(reading.values_wh())},
        channel=reading.channel,
        ref=("billing.reading", reading.pk, meter_serial),
        actor=actor,
    )


def submit_reading(
    *,
    account: Account,
    values: Sequence[Any],
    channel: str,
    actor: Any = None,
    taken_on: dt.date | None = None,
    meter: Meter | None = None,
    source_import: ReadingImport | None = None,
    now: dt.datetime | None = None,
    flags: Sequence[str] = (),
) -> Reading:
    """Accept (or hold for review) a reading from any channel; raise :class:`ReadingRefused`.

    ``values`` are kWh (Decimals or strings) in the meter's zone order; ``taken_on`` defaults to
    today in the branch's time zone; ``meter`` defaults to the account's meter in service.
    """
    account = Account.objects.select_related("service_point__branch", "customer").get(pk=account.pk)
    today = _local_today(account, now)
    taken_on = taken_on or today
    with transaction.atomic(), acting_as(actor):
        if meter is None:
            meter = Meter.objects.filter(account=account).exclude(status=Meter.Status.REMOVED).first()
            if meter is None:
                raise ReadingRefused(
                    "not_found", _("Account %(n)s has no meter in service.") % {"n": account.number}, "meter"
                )
        elif meter.account_id != account.pk:
            raise ReadingRefused(
                "not_on_account",
                _("Meter %(s)s is not on account %(n)s.") % {"s": meter.serial, "n": account.number},
                "meter",
            )
        # Lock the meter: two submissions for one meter are checked one after the other.
        meter = Meter.objects.select_for_update().get(pk=meter.pk)
        rules = Rules.load()
        st = load_states([meter.pk], months=rules.average_months)[meter.pk]
        verdict = check_reading(
            st,
            values,
            taken_on,
            today=today,
            rules=rules,
            branch_id=_branch(account).pk,
            account_closed_on=account.closed_on,
        )
        reading = Reading.objects.create(
            meter=meter,
            account=account,
            period=verdict.period,
            taken_on=taken_on,
            channel=channel,
            status=verdict.status,
            flags=[*verdict.flags, *(f for f in flags if f not in verdict.flags)],
            source_import=source_import,
            submitted_at=now or timezone.now(),
            submitted_by=actor if getattr(actor, "pk", None) else None,
            **_wh_fields(verdict.values_wh),
        )
        _log_created(reading)
        _record_history(reading, meter.serial, actor)
        _announce(reading)
    return reading


def review_reading(reading: Reading, *, accept: bool, actor: Any, note: str = "") -> Reading:
    """Staff decision on a held reading: accepted (counts for billing) or rejected."""
    with transaction.atomic(), acting_as(actor):
        reading = (
            Reading.objects.select_for_update().select_related("account__service_point").get(pk=reading.pk)
        )
        if reading.status != Reading.Status.HELD:
            raise Conflict(_("Only a reading held for review can be reviewed."), code="not_held")
        before = audit.snapshot(reading)
        reading.status = Reading.Status.ACCEPTED if accept else Reading.Status.REJECTED
        if accept:
            # Its period may have been billed while it was held: it counts for the first open one.
            reading.period = counting_period(
                meter_id=reading.meter_id,
                account_id=reading.account_id,
                branch_id=reading.account.service_point.branch_id,
                taken_on=reading.taken_on,
                period=reading.period,
                rules=Rules.load(),
                exclude=reading.pk,
            )
        reading.save(update_fields=["status", "period"])
        after = audit.snapshot(reading)
        after["review_note"] = note
        audit.log_change(reading, "update", before, after)
        _announce(reading)
    return reading


def correct_reading(reading: Reading, *, values: Sequence[Any], reason: str, actor: Any) -> Reading:
    """A new version of a reading (the old one is marked superseded); ``reason`` is required."""
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reason for the correction.")]})
    with transaction.atomic(), acting_as(actor):
        old = (
            Reading.objects.select_for_update()
            .select_related("meter", "account__service_point__branch")
            .get(pk=reading.pk)
        )
        if old.status not in (Reading.Status.ACCEPTED, Reading.Status.HELD):
            raise Conflict(_("Only the current version of a reading can be corrected."), code="not_current")
        rules = Rules.load()
        st = load_states([old.meter_id], months=rules.average_months, exclude_reading=old.pk)[old.meter_id]
        if old.kind != Reading.Kind.REGULAR:
            st.status = Meter.Status.ACTIVE  # initial and final readings of a removed meter stay correctable
        # Checked against its neighbours: not lower than the reading before, not higher than the one after.
        neighbours = Reading.objects.filter(meter_id=old.meter_id, status=Reading.Status.ACCEPTED).exclude(
            pk=old.pk
        )
        before_q = Q(taken_on__lt=old.taken_on) | Q(taken_on=old.taken_on, pk__lt=old.pk)
        prev = neighbours.filter(before_q).order_by("-taken_on", "-pk").first()
        nxt = neighbours.exclude(before_q).order_by("taken_on", "pk").first()
        st.last_taken_on, st.last_values = (prev.taken_on, prev.values_wh()) if prev else (None, None)
        branch_id = old.account.service_point.branch_id
        verdict = check_reading(
            st,
            values,
            old.taken_on,
            today=_local_today(old.account, None),
            rules=rules,
            branch_id=branch_id,
            final=True,
        )
        if nxt is not None:
            _check_before_next(st, verdict.values_wh, old.taken_on, nxt, rules)
        period = counting_period(
            meter_id=old.meter_id,
            account_id=old.account_id,
            branch_id=branch_id,
            taken_on=old.taken_on,
            period=old.period,
            rules=rules,
            exclude=old.pk,
        )
        old.status = Reading.Status.SUPERSEDED
        old.save(update_fields=["status"])
        meter = old.meter
        if old.kind == Reading.Kind.FINAL and meter.removed_on and period > meter.removed_on:
            # The removed meter must stay in service for billing until its final reading counts.
            meter.removed_on = period
            meter.save(update_fields=["removed_on"])
        new = Reading.objects.create(
            meter=meter,
            account=old.account,
            period=period,
            taken_on=old.taken_on,
            kind=old.kind,
            channel=old.channel,
            status=Reading.Status.ACCEPTED,
            flags=[f for f in verdict.flags if f != "jump"],
            version=old.version + 1,
            supersedes=old,
            reason=reason.strip()[:300],
            source_import=old.source_import,
            submitted_by=actor if getattr(actor, "pk", None) else None,
            **_wh_fields(verdict.values_wh),
        )
        _log_created(new)
        _announce(new)
    return new


# --- meters ------------------------------------------------------------------------------------


def _system_reading(
    meter: Meter,
    kind: str,
    values_wh: list[int],
    taken_on: dt.date,
    period: dt.date,
    actor: Any,
    flags: list[str] | None = None,
) -> Reading:
    reading = Reading.objects.create(
        meter=meter,
        account_id=meter.account_id,
        period=period,
        taken_on=taken_on,
        kind=kind,
        channel=Reading.Channel.SYSTEM,
        flags=flags or [],
        submitted_by=actor if getattr(actor, "pk", None) else None,
        **_wh_fields(values_wh),
    )
    _log_created(reading)
    _announce(reading)
    return reading


def _new_meter(
    *,
    account: Account,
    model: str,
    serial: str,
    zones: int,
    integer_digits: int,
    fraction_digits: int,
    installed_on: dt.date,
    initial_values: Sequence[Any],
    actor: Any,
    sealed_on: dt.date | None,
    verified_on: dt.date | None,
    verification_interval_years: int,
    location: str,
    is_smart: bool,
) -> Meter:
    if not account.is_open:
        raise ReadingRefused("account_closed", _("The account is closed."), "account")
    if Meter.objects.filter(account=account).exclude(status=Meter.Status.REMOVED).exists():
        raise ValidationError({"serial": [_("The account already has a meter in service; replace it.")]})
    meter = Meter(
        account=account,
        model=model,
        serial=serial.strip(),
        zones=zones,
        integer_digits=integer_digits,
        fraction_digits=fraction_digits,
        installed_on=installed_on,
        sealed_on=sealed_on,
        verified_on=verified_on,
        verification_interval_years=verification_interval_years,
        location=location,
        is_smart=is_smart,
    )
    meter.full_clean(validate_constraints=False)
    if installed_on > _local_today(account, None):
        raise ReadingRefused("future_date", _("The installation date is in the future."), "installed_on")
    try:
        wh = _to_wh(initial_values, _state(meter))
    except ReadingRefused as exc:
        raise ReadingRefused(exc.code or "invalid_value", exc.text, "initial_values") from None
    meter.save()
    _system_reading(meter, Reading.Kind.INITIAL, wh, installed_on, periods.month_start(installed_on), actor)
    return meter


def install_meter(
    *,
    account: Account,
    actor: Any,
    model: str,
    serial: str,
    zones: int,
    integer_digits: int,
    fraction_digits: int,
    installed_on: dt.date,
    initial_values: Sequence[Any],
    sealed_on: dt.date | None = None,
    verified_on: dt.date | None = None,
    verification_interval_years: int = 16,
    location: str = "",
    is_smart: bool = False,
) -> Meter:
    """Install a meter on an account with no meter in service, with its INITIAL reading."""
    account = Account.objects.select_related("service_point__branch").get(pk=account.pk)
    with transaction.atomic(), acting_as(actor):
        return _new_meter(
            account=account,
            model=model,
            serial=serial,
            zones=zones,
            integer_digits=integer_digits,
            fraction_digits=fraction_digits,
            installed_on=installed_on,
            initial_values=initial_values,
            actor=actor,
            sealed_on=sealed_on,
            verified_on=verified_on,
            verification_interval_years=verification_interval_years,
            location=location,
            is_smart=is_smart,
        )


def replace_meter(
    *,
    meter: Meter,
    actor: Any,
    on: dt.date,
    final_values: Sequence[Any],
    model: str,
    serial: str,
    zones: int,
    integer_digits: int,
    fraction_digits: int,
    initial_values: Sequence[Any],
    sealed_on: dt.date | None = None,
    verified_on: dt.date | None = None,
    verification_interval_years: int = 16,
    location: str = "",
    is_smart: bool = False,
) -> Meter:
    """Remove ``meter`` with its FINAL reading on ``on`` and install the new one with its INITIAL
    reading, in one transaction.

    The FINAL reading counts for the month of ``on`` if no run billed it for the account yet, else for
    the first open period P; in that case the old meter's ``removed_on`` is P's first day (the physical
    date stays the final reading's ``taken_on`` and the new meter's ``installed_on``)."""
    with transaction.atomic(), acting_as(actor):
        old = Meter.objects.select_for_update().get(pk=meter.pk)
        account = Account.objects.select_related("service_point__branch").get(pk=old.account_id)
        rules = Rules.load()
        st = load_states([old.pk], months=rules.average_months)[old.pk]
        verdict = check_reading(
            st,
            final_values,
            on,
            today=_local_today(account, None),
            rules=rules,
            branch_id=account.service_point.branch_id,
            account_closed_on=account.closed_on,
            final=True,
        )
        # The final reading counts for the month of removal (whatever the submission window) while that
        # month is open, else for the first open period; then the meter stays in service for billing
        # until that period's first day, so the run bills final − previous exactly once.
        period = first_open_period(
            account.pk, account.service_point.branch_id, periods.month_start(on), rules
        )
        _system_reading(old, Reading.Kind.FINAL, verdict.values_wh, on, period, actor, verdict.flags)
        old.status = Meter.Status.REMOVED
        old.removed_on = max(on, period)
        old.save(update_fields=["status", "removed_on"])
        new = _new_meter(
            account=account,
            model=model,
            serial=serial,
            zones=zones,
            integer_digits=integer_digits,
            fraction_digits=fraction_digits,
            installed_on=on,
            initial_values=initial_values,
            actor=actor,
            sealed_on=sealed_on,
            verified_on=verified_on,
            verification_interval_years=verification_interval_years,
            location=location,
            is_smart=is_smart,
        )
        old.replaced_by = new
        old.save(update_fields=["replaced_by"])
    return new


def current_readings(account: Account) -> Any:
    """The account's current readings (accepted and held versions), newest first."""
    return (
        Reading.objects.filter(account=account)
        .filter(Q(status=Reading.Status.ACCEPTED) | Q(status=Reading.Status.HELD))
        .select_related("meter")
    )
