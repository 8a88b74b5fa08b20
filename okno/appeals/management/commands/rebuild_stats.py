"""``okno rebuild_stats [--since YYYY-MM-DD]``: recompute the daily appeal statistics from the appeals."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from okno.appeals.stats import rebuild_stats


class Command(BaseCommand):
    help = "Recompute the daily appeal statistics (the rollup behind the reports) from the appeals."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--since", help="Only local days from this date on (YYYY-MM-DD); default: everything"
        )

    def handle(self, *args, **options) -> None:
        since = None
        if options["since"]:
            try:
                since = dt.date.fromisoformat(options["since"])
            except ValueError as exc:
                raise CommandError(f"--since must be a date YYYY-MM-DD, not {options['since']!r}") from exc
        started = time.monotonic()
        rows = rebuild_stats(since)
        self.stdout.write(f"AppealStat rebuilt: {rows} rows in {time.monotonic() - started:.1f} s")
