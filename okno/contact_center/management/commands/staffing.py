"""``okno staffing``: Erlang C / Erlang A staffing, for one interval or a forecast of intervals.

    okno staffing erlang-c --calls 100 --interval-s 1800 --aht-s 180 --target-sl 0.8 --target-s 20
    okno staffing erlang-c … --agents 14            # evaluate a given staffing instead
    okno staffing erlang-c … --patience-s 120       # Erlang A: callers give up; adds p_abandon
    okno staffing erlang-c … --shrinkage 0.3        # adds scheduled_agents
    okno staffing plan --forecast day.csv --aht-s 180 --target-sl 0.8 --target-s 20 [--interval-s 1800]

The forecast is a CSV with the columns ``interval`` (any label, e.g. ``08:00``) and ``calls``, and
optionally ``aht_s`` per interval. Output is JSON (one object; ``plan`` prints ``{"intervals": […]}``).
An impossible question (load ≥ agents in Erlang C, a target of 100 %) exits with status 2 and
``{"error": …}``.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from okno.contact_center.staffing import Load, StaffingError, evaluate, required, with_shrinkage


def _common(parser: CommandParser) -> None:
    parser.add_argument("--aht-s", type=float, required=True, help="average handling time, seconds")
    parser.add_argument("--target-sl", type=float, default=0.8, help="service level target, 0–1")
    parser.add_argument("--target-s", type=float, default=20, help="answered within this many seconds")
    parser.add_argument("--patience-s", type=float, help="mean patience of callers: Erlang A")
    parser.add_argument("--shrinkage", type=float, help="share of paid time off the phones, 0–1")


class Command(BaseCommand):
    help = "Agents needed for a service level (Erlang C, or Erlang A with --patience-s), as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        one = sub.add_parser("erlang-c", help="one interval")
        one.add_argument("--calls", type=float, required=True, help="calls offered in the interval")
        one.add_argument("--interval-s", type=float, default=1800, help="interval length, seconds")
        one.add_argument("--agents", type=int, help="evaluate this staffing instead of finding one")
        _common(one)
        plan = sub.add_parser("plan", help="a plan per interval from a forecast CSV")
        plan.add_argument("--forecast", type=Path, required=True)
        plan.add_argument("--interval-s", type=float, default=1800)
        _common(plan)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["what"] == "erlang-c":
                out: dict[str, Any] = self._one(
                    options, options["calls"], options["aht_s"], options.get("agents")
                )
            else:
                out = {"intervals": self._plan(options)}
        except StaffingError as exc:
            self.stdout.write(json.dumps({"error": str(exc)}, ensure_ascii=False))
            sys.exit(2)
        self.stdout.write(json.dumps(out, ensure_ascii=False))

    @staticmethod
    def _one(options: dict[str, Any], calls: float, aht_s: float, agents: int | None) -> dict[str, Any]:
        load = Load(
            calls=calls, interval_s=options["interval_s"], aht_s=aht_s, patience_s=options.get("patience_s")
        )
        if agents is not None:
            result = evaluate(load, agents, options["target_s"])
        else:
            result = required(load, options["target_sl"], options["target_s"])
        if options.get("shrinkage") is not None:
            result = with_shrinkage(result, options["shrinkage"])
        return result.as_dict()

    def _plan(self, options: dict[str, Any]) -> list[dict[str, Any]]:
        path: Path = options["forecast"]
        if not path.is_file():
            raise StaffingError(f"no such file: {path}")
        rows = []
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for line, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    calls = float(str(row.get("calls", "")).replace(",", "."))
                    aht = float(str(row.get("aht_s") or options["aht_s"]).replace(",", "."))
                except ValueError:
                    raise StaffingError(f"line {line}: calls and aht_s must be numbers") from None
                figures = self._one(options, calls, aht, None) if calls > 0 else {"agents": 0, "erlangs": 0.0}
                rows.append({"interval": row.get("interval", str(line - 1)), "calls": calls, **figures})
        return rows
