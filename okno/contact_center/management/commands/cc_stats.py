"""``okno cc_stats``: contact-centre statistics and the Asterisk queue_log export.

    okno cc_stats report --from 2026-03-01 --to 2026-04-01 [--queue outage] [--by queue|interval|agent]
                         [--target-s 20] [--short-abandon-s 5] [--tz Asia/Yekaterinburg] [--json]
    okno cc_stats queue-log --from 2026-03-01 --to 2026-03-02 [--queue outage] > queue_log

Times without an offset are read in ``--tz`` (default: the company's zone, ``TIME_ZONE``); a date alone
is its midnight. ``report`` prints a table (or with ``--json`` one object: the rows, the total, the
service-level variant and the definitions). ``queue-log`` writes the lines Asterisk's ``app_queue``
would have written. Bad arguments exit with status 2.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from okno.contact_center import queue_log, stats


def parse_time(value: str, tz: dt.tzinfo) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise CommandError(f"not a date or time: {value!r} (use 2026-03-01 or 2026-03-01T09:00)") from exc
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=tz)
    return parsed


class Command(BaseCommand):
    help = "Contact-centre statistics (report) and the Asterisk queue_log export (queue-log)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        for name in ("report", "queue-log"):
            p = sub.add_parser(name)
            p.add_argument("--from", dest="start", required=True, help="start (inclusive)")
            p.add_argument("--to", dest="end", required=True, help="end (exclusive)")
            p.add_argument("--queue", default="", help="one queue's code")
            p.add_argument("--tz", default="", help="time zone of the times given and of the intervals")
            if name == "report":
                p.add_argument("--by", choices=stats.GROUPINGS, default=stats.BY_QUEUE)
                p.add_argument("--target-s", type=float, help="answered within (default: each queue's norm)")
                p.add_argument("--short-abandon-s", type=float, default=stats.SHORT_ABANDON_S)
                p.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            tz: dt.tzinfo = (
                zoneinfo.ZoneInfo(options["tz"]) if options["tz"] else timezone.get_default_timezone()
            )
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise CommandError(f"unknown time zone {options['tz']!r}") from exc
        start, end = parse_time(options["start"], tz), parse_time(options["end"], tz)
        if end <= start:
            raise CommandError("--to must be after --from")
        if options["what"] == "queue-log":
            for line in queue_log.lines(start, end, queue=options["queue"]):
                self.stdout.write(line)
            return
        try:
            report = stats.report(
                start,
                end,
                by=options["by"],
                queue=options["queue"],
                target_s=options["target_s"],
                short_abandon_s=options["short_abandon_s"],
                tz=tz,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
            return
        self.stdout.write(self._table(report))

    @staticmethod
    def _table(report: stats.Report) -> str:
        def pct(v: float | None) -> str:
            return "—" if v is None else f"{v * 100:.1f} %"

        def num(v: float | None) -> str:
            return "—" if v is None else f"{v:.1f}"

        head = [
            "",
            "offered",
            "answered",
            "within",
            "abandoned",
            "SL",
            "ASA s",
            "abandon",
            "AHT s",
            "occupancy",
            "FCR",
        ]
        body = [
            [
                r.label,
                str(r.offered),
                str(r.answered),
                str(r.answered_within),
                str(r.abandoned),
                pct(r.service_level),
                num(r.asa_s),
                pct(r.abandon_rate),
                num(r.aht_s),
                pct(r.occupancy),
                pct(r.fcr),
            ]
            for r in [*report.rows, report.total]
        ]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
        lines = [
            f"{report.start.isoformat()} — {report.end.isoformat()}, by {report.by}, zone {report.tz}",
            f"service level: {report.service_level_variant}",
            "",
        ]
        for row in [head, *body]:
            lines.append(
                "  ".join(
                    cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
                )
            )
        return "\n".join(lines)
