"""Bulk files of readings: terminals and payment agents, controllers' rounds, smart meters.

One import per file and importer's scope (:func:`import_key`: SHA-256 of the bytes and the branches the
importer may see): importing the same bytes again with the same scope returns the first import and adds
nothing; lines of accounts outside the importer's branches are refused as ``other_branch``. Lines are validated in bulk — meters, accounts, last accepted readings and averages of all
the file's meters are loaded in a few queries, then every line goes through the same
:func:`okno.billing.readings.check_reading` as a single submission — and the readings are written
with ``bulk_create``. Malformed or refused lines are reported with their numbers; the rest is kept.
Formats are documented in ``docs/billing/readings.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zoneinfo
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.billing import periods
from okno.billing.models import Meter, Reading, ReadingImport, ZoneHours
from okno.billing.readings import (
    MeterState,
    ReadingRefused,
    Rules,
    check_reading,
    chunk_size,
    in_list,
    load_states,
)
from okno.core import audit, events
from okno.core.context import acting_as
from okno.customers.models import Account
from okno.customers.numbers import normalize_account_number
from okno.org.models import Branch

MAX_ERRORS = 1000  # errors kept in the import's record; the counts are always complete
BATCH = 5000

CHANNEL = {
    ReadingImport.Kind.AGENT: Reading.Channel.AGENT,
    ReadingImport.Kind.ROUND: Reading.Channel.CONTROLLER,
    ReadingImport.Kind.SMART_DAILY: Reading.Channel.SMART,
    ReadingImport.Kind.SMART_INTERVAL: Reading.Channel.SMART,
}


class Malformed(ValueError):
    pass


@dataclass
class Line:
    no: int
    account: str | None
    serial: str
    taken_on: dt.date
    values: list[Any]


@dataclass
class Interval:
    no: int
    serial: str
    start: dt.datetime
    minutes: int
    wh: Decimal


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def _split(text: str) -> Iterator[tuple[int, list[str]]]:
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        sep = ";" if ";" in line else ","
        yield no, [f.strip().strip('"') for f in line.split(sep)]


def parse_date(text: str) -> dt.date:
    text = text.strip()
    try:
        if "." in text:
            day, month, year = text.split(".")
            return dt.date(int(year), int(month), int(day))
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise Malformed(_("“%(v)s” is not a date (YYYY-MM-DD or DD.MM.YYYY).") % {"v": text}) from None


def _is_header(fields: list[str]) -> bool:
    return any(ch.isalpha() for ch in "".join(fields[:3])) and not any(f[:1].isdigit() for f in fields[2:3])


def parse_lines(text: str, kind: str) -> tuple[list[Line], list[Interval], list[dict[str, Any]], int]:
    """Parse a file into register lines or interval lines; errors of malformed lines; the line count."""
    lines: list[Line] = []
    intervals: list[Interval] = []
    errors: list[dict[str, Any]] = []
    count = 0
    first = True
    for no, fields in _split(text):
        if first:
            first = False
            if _is_header(fields) and not fields[0].replace(" ", "").isdigit():
                continue
        count += 1
        try:
            if kind in (ReadingImport.Kind.AGENT, ReadingImport.Kind.ROUND):
                if not 4 <= len(fields) <= 6:
                    raise Malformed(_("Expected account;meter_serial;date;t1[;t2;t3]."))
                account = normalize_account_number(fields[0])
                if not account.isdigit():
                    raise Malformed(_("“%(v)s” is not an account number.") % {"v": fields[0]})
                if not fields[1]:
                    raise Malformed(_("The meter serial number is empty."))
                lines.append(Line(no, account, fields[1], parse_date(fields[2]), fields[3:]))
            elif kind == ReadingImport.Kind.SMART_DAILY:
                if not 3 <= len(fields) <= 5:
                    raise Malformed(_("Expected meter_serial;date;t1[;t2;t3]."))
                if not fields[0]:
                    raise Malformed(_("The meter serial number is empty."))
                lines.append(Line(no, None, fields[0], parse_date(fields[1]), fields[2:]))
            elif kind == ReadingImport.Kind.SMART_INTERVAL:
                intervals.append(_interval(no, fields))
            else:
                raise ValueError(f"unknown import kind {kind!r}")
        except Malformed as exc:
            errors.append({"line": no, "code": "malformed", "message": str(exc)})
    return lines, intervals, errors, count


def _interval(no: int, fields: list[str]) -> Interval:
    if len(fields) != 4 or not fields[0]:
        raise Malformed(_("Expected meter_serial;start_iso;minutes;kwh."))
    try:
        start = dt.datetime.fromisoformat(fields[1])
    except ValueError:
        raise Malformed(_("“%(v)s” is not an ISO date and time.") % {"v": fields[1]}) from None
    if not fields[2].isdigit() or not 1 <= int(fields[2]) <= 60:
        raise Malformed(_("The interval must be 1 to 60 minutes, not “%(v)s”.") % {"v": fields[2]})
    try:
        kwh = Decimal(fields[3].replace(",", "."))
    except InvalidOperation:
        kwh = Decimal("NaN")
    if not kwh.is_finite() or kwh < 0:
        raise Malformed(_("“%(v)s” is not an amount of energy in kWh.") % {"v": fields[3]})
    return Interval(no, fields[0], start, int(fields[2]), kwh * 1000)


# --- bulk lookups ------------------------------------------------------------------------------


@dataclass
class MeterRow:
    id: int
    serial: str
    account_id: int
    status: str
    closed_on: dt.date | None
    branch_id: int
    account_number: str


def _chunks(items: list[str]) -> Iterator[list[str]]:
    size = chunk_size()
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _scope(actor: Any) -> list[int] | None:
    if actor is None or getattr(actor, "all_branches", True) or getattr(actor, "is_superuser", False):
        return None
    return list(actor.branch_ids)


def import_key(data: bytes, scope: list[int] | None) -> str:
    """The idempotency key of an import: SHA-256 of the file's SHA-256 and the importer's scope ("all" or
    the sorted branch ids) — a branch's import and head office's import of the same file differ."""
    label = "all" if scope is None else ",".join(str(b) for b in sorted(set(scope)))
    return hashlib.sha256(f"{hashlib.sha256(data).hexdigest()}|{label}".encode()).hexdigest()


def _load_meters(serials: set[str]) -> dict[str, list[MeterRow]]:
    """Meters of all branches: a line outside the importer's scope is refused as ``other_branch``."""
    out: dict[str, list[MeterRow]] = defaultdict(list)
    for chunk in _chunks(sorted(serials)):
        qs = Meter.objects.filter(in_list("serial", chunk, "text"))
        for row in qs.values_list(
            "id",
            "serial",
            "account_id",
            "status",
            "account__closed_on",
            "account__service_point__branch_id",
            "account__number",
        ):
            out[row[1]].append(MeterRow(*row))
    return out


def _load_accounts(numbers: set[str]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for chunk in _chunks(sorted(numbers)):
        qs = Account.objects.filter(in_list("number", chunk, "text"))
        out.update(
            {
                number: (pk, branch)
                for pk, number, branch in qs.values_list("id", "number", "service_point__branch_id")
            }
        )
    return out


def _pick_meter(
    line: Line,
    meters: dict[str, list[MeterRow]],
    accounts: dict[str, tuple[int, int]],
    scope: list[int] | None = None,
) -> MeterRow:
    candidates = meters.get(line.serial, [])
    if line.account is not None:
        found = accounts.get(line.account)
        if found is None:
            raise ReadingRefused("not_found", _("Account %(n)s not found.") % {"n": line.account}, "account")
        account_id, branch_id = found
        if scope is not None and branch_id not in scope:
            raise ReadingRefused(
                "other_branch",
                _("Account %(n)s is an account of another branch.") % {"n": line.account},
                "account",
            )
        candidates = [m for m in candidates if m.account_id == account_id] or (
            _refuse_not_on_account(line) if candidates else []
        )
    if not candidates:
        raise ReadingRefused("not_found", _("Meter %(s)s not found.") % {"s": line.serial}, "meter")
    if scope is not None:
        mine = [m for m in candidates if m.branch_id in scope]
        if not mine:
            raise ReadingRefused(
                "other_branch",
                _("Meter %(s)s is on an account of another branch.") % {"s": line.serial},
                "meter",
            )
        candidates = mine
    active = [m for m in candidates if m.status != Meter.Status.REMOVED]
    if len(active) > 1:
        raise ReadingRefused(
            "not_found",
            _("Several meters have serial number %(s)s; give the account.") % {"s": line.serial},
            "meter",
        )
    return active[0] if active else candidates[0]


def _refuse_not_on_account(line: Line) -> list[MeterRow]:
    raise ReadingRefused(
        "not_on_account",
        _("Meter %(s)s is not on account %(n)s.") % {"s": line.serial, "n": line.account},
        "meter",
    )


def _zone_of_hour() -> dict[int, list[int]]:
    table: dict[int, list[int]] = {z: [1] * 24 for z in (1, 2, 3)}
    for zones, zone, start, end in ZoneHours.objects.values_list("zones", "zone", "start_hour", "end_hour"):
        for hour in range(start, end):
            table[zones][hour] = zone
    return table


def _profile_to_lines(
    intervals: list[Interval],
    meters: dict[str, list[MeterRow]],
    states: dict[int, MeterState],
    tzs: dict[int, zoneinfo.ZoneInfo],
    errors: list[dict[str, Any]],
    scope: list[int] | None = None,
) -> list[Line]:
    """Sum an interval profile per meter and local day into zones, added to the last register."""
    hours = _zone_of_hour()
    days: dict[int, dict[dt.date, list[Decimal]]] = defaultdict(dict)
    first_line: dict[tuple[int, dt.date], int] = {}
    serial_of: dict[int, str] = {}
    bad: set[int] = set()
    for iv in intervals:
        try:
            row = _pick_meter(Line(iv.no, None, iv.serial, dt.date.min, []), meters, {}, scope)
        except ReadingRefused as exc:
            errors.append({"line": iv.no, "code": exc.code, "message": exc.text})
            continue
        st = states[row.id]
        if st.last_values is None:
            if row.id not in bad:
                errors.append(
                    {
                        "line": iv.no,
                        "code": "not_found",
                        "message": _("Meter %(s)s has no register reading to add the profile to.")
                        % {"s": iv.serial},
                    }
                )
            bad.add(row.id)
            continue
        tz = tzs[row.branch_id]
        local = iv.start.replace(tzinfo=tz) if iv.start.tzinfo is None else iv.start.astimezone(tz)
        day = local.date()
        sums = days[row.id].setdefault(day, [Decimal(0)] * st.zones)
        sums[hours[st.zones][local.hour] - 1] += iv.wh
        first_line.setdefault((row.id, day), iv.no)
        serial_of[row.id] = iv.serial
    lines = []
    for meter_id, by_day in days.items():
        st = states[meter_id]
        step = 10 ** (3 - min(st.fraction_digits, 3))  # Wh per last shown digit
        running = [Decimal(v) for v in st.last_values or []]
        for day in sorted(by_day):
            running = [r + s for r, s in zip(running, by_day[day], strict=True)]
            values = [
                (r.to_integral_value(ROUND_FLOOR) // step * step % st.capacity_wh) / Decimal(1000)
                for r in running
            ]
            lines.append(Line(first_line[(meter_id, day)], None, serial_of[meter_id], day, values))
    lines.sort(key=lambda ln: ln.no)
    return lines


# --- writing -----------------------------------------------------------------------------------

# The columns of a reading row built by the importer, in this order (``id`` is assigned on writing).
COLUMNS = (
    "meter_id",
    "account_id",
    "period",
    "taken_on",
    "t1_wh",
    "t2_wh",
    "t3_wh",
    "kind",
    "channel",
    "status",
    "flags",
    "version",
    "supersedes_id",
    "reason",
    "source_import_id",
    "submitted_at",
    "submitted_by_id",
)


def write_readings(rows: list[tuple]) -> list[int]:
    """Insert reading rows (in :data:`COLUMNS` order); their ids, in the same order.

    PostgreSQL: ids are taken from the table's sequence in one query and the rows sent with ``COPY``
    (several times faster than a multi-row ``INSERT``); elsewhere ``bulk_create``.
    """
    if not rows:
        return []
    if {f.attname for f in Reading._meta.concrete_fields} != {"id", *COLUMNS}:
        raise RuntimeError("okno.billing.imports.COLUMNS no longer matches the Reading model")
    if connection.vendor != "postgresql":
        objs = []
        for r in rows:
            values = dict(zip(COLUMNS, r, strict=True))
            values["flags"] = json.loads(values["flags"])
            objs.append(Reading(**values))
        for i in range(0, len(objs), BATCH):
            Reading.objects.bulk_create(objs[i : i + BATCH])
        return [o.pk for o in objs]
    table = Reading._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(rows)]
        )
        ids = [r[0] for r in cursor.fetchall()]
        columns = ", ".join(quote(c) for c in ("id", *COLUMNS))
        with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row((pk, *row))
    return ids


# --- the import --------------------------------------------------------------------------------


def import_readings(*, data: bytes, name: str, kind: str, actor: Any, source: str = "") -> ReadingImport:
    """Import a file of readings once; a second import of the same bytes returns the first import."""
    return import_readings_once(data=data, name=name, kind=kind, actor=actor, source=source)[0]


def import_readings_once(
    *, data: bytes, name: str, kind: str, actor: Any, source: str = ""
) -> tuple[ReadingImport, bool]:
    """Like :func:`import_readings`, also saying whether this call imported the file (``True``)."""
    if kind not in ReadingImport.Kind.values:
        raise ValueError(f"unknown import kind {kind!r}")
    digest = import_key(data, _scope(actor))
    existing = ReadingImport.objects.filter(sha256=digest).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic(), acting_as(actor):
            imp = ReadingImport.objects.create(
                kind=kind,
                name=name[:200],
                sha256=digest,
                source=source[:100],
                imported_by=actor if getattr(actor, "pk", None) else None,
            )
            _run(imp, decode(data), actor)
    except IntegrityError:
        existing = ReadingImport.objects.filter(sha256=digest).first()
        if existing is None:
            raise
        return existing, False
    return imp, True


def _run(imp: ReadingImport, text: str, actor: Any) -> None:
    lines, intervals, errors, count = parse_lines(text, imp.kind)
    rules = Rules.load()
    scope = _scope(actor)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # sorts and hashes of the bulk lookups in memory
            cursor.execute("SET LOCAL work_mem = '256MB'")
    meters = _load_meters({ln.serial for ln in lines} | {iv.serial for iv in intervals})
    # Accounts come with their meters; only numbers without a meter of that serial are looked up.
    accounts = {m.account_number: (m.account_id, m.branch_id) for rows in meters.values() for m in rows}
    accounts.update(_load_accounts({ln.account for ln in lines if ln.account and ln.account not in accounts}))
    dates = [ln.taken_on for ln in lines] + [iv.start.date() for iv in intervals]
    # History from (months + 13) months before the file's first date: the last reading and the start
    # of the average of every meter but those silent for longer (loaded apart).
    since = periods.add_months(min(dates).replace(day=1), -(rules.average_months + 13)) if dates else None
    states = load_states(
        [m.id for rows in meters.values() for m in rows], months=rules.average_months, since=since
    )
    now = timezone.now()
    tzs = {pk: zoneinfo.ZoneInfo(name) for pk, name in Branch.objects.values_list("id", "timezone")}
    today = {pk: now.astimezone(tz).date() for pk, tz in tzs.items()}
    if intervals:
        lines = _profile_to_lines(intervals, meters, states, tzs, errors, scope)
    channel = CHANNEL[imp.kind].value  # type: ignore[index]
    submitted_by = actor.pk if getattr(actor, "pk", None) else None
    readings: list[tuple] = []
    accepted = held = 0
    for line in lines:
        try:
            row = _pick_meter(line, meters, accounts, scope)
            st = states[row.id]
            verdict = check_reading(
                st,
                line.values,
                line.taken_on,
                today=today[row.branch_id],
                rules=rules,
                branch_id=row.branch_id,
                account_closed_on=row.closed_on,
            )
        except ReadingRefused as exc:
            errors.append({"line": line.no, "code": exc.code, "message": exc.text})
            continue
        wh = verdict.values_wh
        if st.last_taken_on == line.taken_on and st.last_values == wh:
            errors.append(
                {"line": line.no, "code": "duplicate", "message": _("The same reading is already there.")}
            )
            continue
        padded = [*wh, None, None]
        readings.append(
            (
                row.id,
                row.account_id,
                verdict.period,
                line.taken_on,
                wh[0],
                padded[1],
                padded[2],
                Reading.Kind.REGULAR.value,
                channel,
                verdict.status.value if hasattr(verdict.status, "value") else verdict.status,
                json.dumps(verdict.flags) if verdict.flags else "[]",
                1,
                None,
                "",
                imp.pk,
                now,
                submitted_by,
            )
        )
        if verdict.status == Reading.Status.ACCEPTED:
            accepted += 1
            st.remember(line.taken_on, wh, rules.average_months)
        else:
            held += 1
    ids = write_readings(readings)
    for pk, r in zip(ids, readings, strict=True):
        if r[9] == Reading.Status.ACCEPTED:
            events.publish("reading.accepted", reading_id=pk, account_id=r[1])
    errors.sort(key=lambda e: e["line"])
    imp.lines = count
    imp.accepted = accepted
    imp.held = held
    imp.rejected = len(errors)
    imp.errors = errors[:MAX_ERRORS]
    if len(errors) > MAX_ERRORS:
        imp.errors.append(
            {
                "line": None,
                "code": "truncated",
                "message": _("%(n)d more errors.") % {"n": len(errors) - MAX_ERRORS},
            }
        )
    imp.save(update_fields=["lines", "accepted", "held", "rejected", "errors"])
    audit.log_change(imp, "create", None, audit.snapshot(imp, frozenset({"errors"})))
