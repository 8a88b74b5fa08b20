"""``okno reliability indices|med|report``: IEEE 1366 indices and Major Event Days from files or the DB.

``indices --events FILE.csv --customers N [--momentary-min 5] [--cemi-n 1] [--hours H]`` and
``med --daily FILE.csv [--std sample|population]`` read CSV files and print JSON; ``report --branch CODE
--year Y`` (or ``--from``/``--to``) computes the same from the recorded outages. A bad row or option is
an error naming the line, with exit status 2. Formats: ``docs/outages/reliability.md``.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from okno.outages import reliability as rel

BAD_INPUT = 2


def _fail(message: str) -> CommandError:
    return CommandError(message, returncode=BAD_INPUT)


def _read(path_s: str) -> str:
    path = Path(path_s)
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise _fail(f"{path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise _fail(f"{path}: not UTF-8 text") from exc


def _number(text: str, name: str, *, positive: bool = False) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _fail(f"{name} {text!r} is not a number") from None
    if not value.is_finite() or value < 0 or (positive and value == 0):
        raise _fail(f"{name} must be {'above' if positive else 'at least'} 0")
    return value


class Command(BaseCommand):
    help = "Reliability indices (SAIFI, SAIDI, …) and Major Event Days (2.5-beta) from files or recorded outages."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ind = sub.add_parser("indices", help="Indices of interruption events in a CSV file.")
        ind.add_argument(
            "--events", required=True, help="CSV rows event_id,start,end,customers[,service_points]"
        )
        ind.add_argument("--customers", required=True, help="N_T: customers (service points) served")
        ind.add_argument(
            "--momentary-min", default="5", help="Shorter than this many minutes is momentary (5)"
        )
        ind.add_argument(
            "--cemi-n", default="1", help="CEMIn counts customers with more than n interruptions (1)"
        )
        ind.add_argument(
            "--hours", help="Hours in the period for ASAI (default: whole calendar years spanned)"
        )
        med = sub.add_parser("med", help="T_MED by the 2.5-beta method over daily SAIDI in a CSV file.")
        med.add_argument("--daily", required=True, help="CSV rows date,saidi_min")
        med.add_argument("--std", choices=["sample", "population"], default="sample")
        rep = sub.add_parser("report", help="Indices of a branch from the recorded outages.")
        rep.add_argument("--branch", required=True, help="The branch's code")
        rep.add_argument("--year", type=int, help="A calendar year (local days of the branch)")
        rep.add_argument("--from", dest="date_from", help="First day, YYYY-MM-DD (with --to)")
        rep.add_argument("--to", dest="date_to", help="Last day, YYYY-MM-DD")
        rep.add_argument("--level", choices=list(rel.VOLTAGE_LEVELS), help="Only interruptions at this level")
        rep.add_argument(
            "--kind", choices=["planned", "unplanned"], help="Only planned or only unplanned outages"
        )
        rep.add_argument("--std", choices=["sample", "population"], default="sample")
        rep.add_argument("--med-window", choices=["auto", "before", "including"], default="auto")

    def handle(self, *args: Any, **opts: Any) -> None:
        result = getattr(self, opts["action"])(opts)
        self.stdout.write(
            json.dumps(result, sort_keys=True, indent=2, ensure_ascii=False, default=rel.json_default)
        )

    def indices(self, opts: dict[str, Any]) -> dict[str, Any]:
        text = opts["customers"]
        if not text.isascii() or not text.isdigit() or int(text) == 0:
            raise _fail(f"--customers {text!r}: give the number of customers served, a whole number above 0")
        n_t = int(text)
        momentary = _number(opts["momentary_min"], "--momentary-min")
        cemi_s = opts["cemi_n"]
        if not cemi_s.isascii() or not cemi_s.isdigit():
            raise _fail(f"--cemi-n {cemi_s!r}: a whole number ≥ 0")
        path = opts["events"]
        try:
            events = rel.parse_events(_read(path), customers_served=n_t)
        except rel.InputError as exc:
            raise _fail(f"{path}: {exc}") from exc
        hours: Decimal | int | None
        if opts.get("hours"):
            hours = _number(opts["hours"], "--hours", positive=True)
        else:
            hours = rel.span_hours(events)
        result = rel.compute_indices(
            events, customers_served=n_t, hours=hours, momentary_min=momentary, cemi_n=int(cemi_s)
        )
        out = result.as_dict()
        out["notes"] = result.notes
        return out

    def med(self, opts: dict[str, Any]) -> dict[str, Any]:
        path = opts["daily"]
        try:
            daily = rel.parse_daily(_read(path))
        except rel.InputError as exc:
            raise _fail(f"{path}: {exc}") from exc
        if daily:
            first, last = min(daily), max(daily)
            if rel.years_after(first, rel.MED_HISTORY_YEARS) <= last:
                self.stderr.write(
                    f"warning: the file spans more than {rel.MED_HISTORY_YEARS} years ({first} to {last}); "
                    "IEEE 1366 uses at most five — all of it is used"
                )
        try:
            return rel.med_threshold(daily, std=opts["std"]).as_dict()
        except rel.MedError as exc:
            raise _fail(f"{path}: {exc}") from exc

    def report(self, opts: dict[str, Any]) -> dict[str, Any]:
        from okno.org.models import Branch
        from okno.outages.reliability_data import branch_report

        branch = Branch.objects.filter(code=opts["branch"]).first()
        if branch is None:
            raise _fail(f"no branch with code {opts['branch']!r}")
        if opts.get("year"):
            date_from, date_to = dt.date(opts["year"], 1, 1), dt.date(opts["year"], 12, 31)
        elif opts.get("date_from") and opts.get("date_to"):
            try:
                date_from = dt.date.fromisoformat(opts["date_from"])
                date_to = dt.date.fromisoformat(opts["date_to"])
            except ValueError as exc:
                raise _fail(f"--from/--to: {exc}") from exc
        else:
            raise _fail("give --year, or --from and --to")
        try:
            report = branch_report(
                branch,
                date_from,
                date_to,
                level=opts.get("level"),
                kind=opts.get("kind"),
                std=opts["std"],
                med_window=opts["med_window"],
            )
        except ValueError as exc:
            raise _fail(str(exc)) from exc
        return report.as_dict()
