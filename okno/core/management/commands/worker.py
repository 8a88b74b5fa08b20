"""``okno worker``: the embedded job worker (no broker). Runs queued jobs and fires periodic ones."""

from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from okno.core import jobs


class Command(BaseCommand):
    help = "Run background jobs from the database queue (embedded mode, without Celery)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="run what is due now and exit")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between polls")

    def handle(self, *args: Any, **opts: Any) -> None:
        jobs.autodiscover()
        if opts["once"]:
            ran = jobs.run_pending()
            self.stdout.write(f"ran {ran} job(s)")
            return
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopping:
            close_old_connections()
            try:
                ran = jobs.run_pending()
            except Exception as exc:  # keep the worker alive; the run records its own error
                self.stderr.write(f"worker: {exc}")
                ran = 0
            if not ran:
                time.sleep(opts["interval"])
