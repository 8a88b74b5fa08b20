"""``okno serve``: the production server (gunicorn, static files by WhiteNoise), not the dev server.

Without a Celery broker it also starts the embedded job worker (``okno worker``) beside the web
workers, so deadline warnings and e-mail run in the demo without any other service.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Run Okno under gunicorn (and the embedded job worker when no broker is configured)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("OKNO_BIND", "127.0.0.1:8000"), help="HOST:PORT")
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("OKNO_THREADS", "1")))
        parser.add_argument("--timeout", type=int, default=60)
        parser.add_argument("--no-worker", action="store_true", help="do not start the embedded job worker")
        parser.add_argument("--access-log", action="store_true", help="log every request")

    def handle(self, *args: Any, **opts: Any) -> None:
        if ":" not in opts["bind"]:
            raise CommandError("--bind must be HOST:PORT")
        if opts["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        call_command("collectstatic", interactive=False, verbosity=0)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "okno.settings"),
        }
        worker = None
        if not settings.CELERY_BROKER_URL and not opts["no_worker"]:
            worker = subprocess.Popen([sys.executable, "-m", "okno.cli", "worker"], env=env)
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "okno.wsgi:application",
            "--bind",
            opts["bind"],
            "--workers",
            str(opts["workers"]),
            "--threads",
            str(opts["threads"]),
            "--timeout",
            str(opts["timeout"]),
            "--no-control-socket",
            "--worker-tmp-dir",
            "/dev/shm" if os.path.isdir("/dev/shm") else "/tmp",
        ]
        if opts["access_log"]:
            cmd += ["--access-logfile", "-"]
        self.stdout.write(f"Okno on http://{opts['bind']}/ ({opts['workers']} workers)")
        web = subprocess.Popen(cmd, env=env)

        def stop(signum: int, frame: Any) -> None:
            for proc in (web, worker):
                if proc is not None and proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        code = web.wait()
        if worker is not None and worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=10)
        if code not in (0, -signal.SIGTERM, -signal.SIGINT):
            raise CommandError(f"gunicorn exited with {code}")
