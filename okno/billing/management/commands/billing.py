"""``okno billing run 2026-10 [--branch CODE]`` and ``okno billing simulate --scenario FILE.json``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from okno.billing.periods import parse_period


class Command(BaseCommand):
    help = "Billing: run a month's billing, or simulate a scenario with the same code."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="Bill a period (YYYY-MM) now, with a progress bar and a summary.")
        run.add_argument("period", help="The month to bill, YYYY-MM")
        run.add_argument("--branch", help="Only this branch (its code)")
        run.add_argument("--chunk", type=int, default=50_000, help="Accounts per transaction (default 50000)")
        run.add_argument("--json", action="store_true", help="Print the summary as JSON")
        sim = sub.add_parser("simulate", help="Bill a JSON scenario month by month and print the results.")
        sim.add_argument("--scenario", required=True, help="The scenario file (see docs/billing.md)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "run":
            self.run(opts)
        else:
            self.simulate(opts)

    def run(self, opts: dict[str, Any]) -> None:
        from okno.billing import runs
        from okno.billing.engine import execute_run
        from okno.core.errors import Conflict
        from okno.org.models import Branch, system_actor

        try:
            period = parse_period(opts["period"])
        except ValueError as exc:
            raise CommandError(f"period {opts['period']!r}: use YYYY-MM") from exc
        branch = None
        if opts.get("branch"):
            branch = Branch.objects.filter(code=opts["branch"]).first()
            if branch is None:
                raise CommandError(f"no branch with code {opts['branch']!r}")
        try:
            run = runs.create_run(period=period, branch=branch, actor=system_actor("billing"))
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except Conflict as exc:
            raise CommandError(exc.message) from exc
        started = time.monotonic()
        tty = sys.stdout.isatty()

        def progress(done: int, total: int, result: Any) -> None:
            width = 30
            filled = round(width * done / total)
            line = (
                f"[{'#' * filled}{'.' * (width - filled)}] {round(100 * done / total):3d}%  "
                f"{result.accounts:,} accounts  {time.monotonic() - started:6.1f} s"
            )
            if tty:
                self.stdout.write("\r" + line, ending="")
                self.stdout.flush()
            elif not opts["json"]:
                self.stdout.write(line)

        result = execute_run(run, progress=None if opts["json"] else progress, chunk=opts["chunk"])
        run.refresh_from_db()
        elapsed = time.monotonic() - started
        if tty and not opts["json"]:
            self.stdout.write("")
        summary = {"run": run.pk, "period": f"{period:%Y-%m}", "seconds": round(elapsed, 2), **run.counts}
        if opts["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        rub = result.amount_kop / 100
        self.stdout.write(
            f"Billed {result.accounts:,} accounts for {period:%Y-%m} in {elapsed:.1f} s: "
            f"{result.lines:,} lines, {rub:,.2f} RUB"
        )
        for method, n in sorted(result.methods.items()):
            self.stdout.write(f"  {method:<14} {n:>10,}")
        if result.skipped:
            self.stdout.write(f"  already billed {result.skipped:>8,} (skipped)")
        if result.penalties:
            self.stdout.write(f"  penalties      {json.dumps(result.penalties, ensure_ascii=False)}")
        for error in result.errors[:20]:
            self.stderr.write(f"  account {error['account_id']}: {error['error']} — {error['detail']}")
        if len(result.errors) > 20:
            self.stderr.write(f"  … {len(result.errors) - 20} more errors (see the run's page)")

    def simulate(self, opts: dict[str, Any]) -> None:
        from okno.billing.simulate import ScenarioError, simulate

        path = Path(opts["scenario"])
        try:
            scenario = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from exc
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path}: not JSON ({exc})") from exc
        try:
            result = simulate(scenario)
        except ScenarioError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
