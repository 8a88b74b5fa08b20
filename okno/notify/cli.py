"""``okno notify deliver [--loop] [--limit N] [--every S]``: run the delivery loop from the command line.

Plugged into the ``okno notify`` dispatcher (okno/notify/management/commands/notify.py) as
``"deliver": Subcommand(*deliver_subcommand())``.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


def _arguments(parser: CommandParser) -> None:
    parser.add_argument("--loop", action="store_true", help="keep running, a pass every --every seconds")
    parser.add_argument(
        "--every", type=float, default=60.0, help="seconds between passes with --loop (default 60)"
    )
    parser.add_argument("--limit", type=int, default=None, help="at most this many notices per pass")


def _handle(command: BaseCommand, opts: dict[str, Any]) -> None:
    from okno.core.context import acting_as
    from okno.notify.delivery import deliver_due
    from okno.org.models import system_actor

    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    if opts["loop"]:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    with acting_as(system_actor("notify")):
        while True:
            counts = deliver_due(limit=opts["limit"])
            command.stdout.write(json.dumps(counts))
            if not opts["loop"] or stopping:
                break
            deadline = time.monotonic() + opts["every"]
            while not stopping and time.monotonic() < deadline:
                time.sleep(0.2)
            if stopping:
                break


def deliver_subcommand() -> tuple[
    str, Callable[[CommandParser], None], Callable[[BaseCommand, dict[str, Any]], None]
]:
    return ("Send the due notices once (or keep sending with --loop).", _arguments, _handle)
