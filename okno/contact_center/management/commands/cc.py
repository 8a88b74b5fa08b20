"""``okno cc``: the contact centre's Asterisk adapters.

    okno cc agi-server [--bind 127.0.0.1:4573]
    okno cc ami --host pbx.example --port 5038 --user okno --secret … (or --secret-file /run/secrets/ami)

``agi-server`` serves FastAGI (Asterisk: ``AGI(agi://okno-host:4573/main)``); ``ami`` logs in to the
Asterisk Manager Interface and mirrors app_queue's events into Okno until interrupted. Missing options
come from settings: ``CC_AGI_BIND``, ``CC_AMI_HOST``, ``CC_AMI_PORT``, ``CC_AMI_USER``, ``CC_AMI_SECRET``.
Bad AMI credentials exit with status 2 and the server's message. See docs/contact-centre/telephony.md.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from okno.contact_center.telephony import agi, ami


def parse_bind(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep:
        host, port = value, str(agi.AGI_PORT)
    try:
        number = int(port)
    except ValueError:
        raise CommandError(f"--bind: {port!r} is not a port") from None
    if not 0 <= number <= 65535:
        raise CommandError(f"--bind: {number} is not a port")
    return host.strip("[]") or "127.0.0.1", number


class Command(BaseCommand):
    help = "Asterisk adapters: the FastAGI server (agi-server) and the AMI event mirror (ami)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        server = sub.add_parser("agi-server", help="serve FastAGI: play the IVR to Asterisk's callers")
        server.add_argument("--bind", default=getattr(settings, "CC_AGI_BIND", f"127.0.0.1:{agi.AGI_PORT}"))
        client = sub.add_parser("ami", help="mirror Asterisk's queue events into Okno")
        client.add_argument("--host", default=getattr(settings, "CC_AMI_HOST", "127.0.0.1"))
        client.add_argument("--port", type=int, default=int(getattr(settings, "CC_AMI_PORT", ami.AMI_PORT)))
        client.add_argument("--user", default=getattr(settings, "CC_AMI_USER", ""))
        client.add_argument("--secret", default=getattr(settings, "CC_AMI_SECRET", ""))
        client.add_argument("--secret-file", type=Path, help="read the secret from this file")

    def handle(self, *args: Any, **options: Any) -> None:
        logging.basicConfig(level=logging.INFO if options.get("verbosity", 1) >= 1 else logging.WARNING)
        if options["what"] == "agi-server":
            host, port = parse_bind(options["bind"])
            self.stdout.write(f"FastAGI server on {host}:{port}")
            agi.serve(host, port)
            return
        secret = options["secret"]
        if options.get("secret_file"):
            secret = options["secret_file"].read_text(encoding="utf-8").strip()
        if not options["user"] or not secret:
            raise CommandError("--user and --secret (or --secret-file) are required")
        try:
            ami.run(options["host"], options["port"], username=options["user"], secret=secret)
        except ami.AmiAuthError as exc:
            self.stderr.write(f"AMI login refused by {options['host']}:{options['port']}: {exc}")
            sys.exit(2)
