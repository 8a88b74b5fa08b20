"""``okno intake``: take appeals in by e-mail or SMS from the command line.

* ``okno intake imap --host H --port P --user U --password-file F [--mailbox INBOX] [--no-ssl] [--once]``
  — poll an IMAP mailbox (once, or every ``--interval`` seconds until interrupted);
* ``okno intake sms --from +79123456789 --text "…"`` — route one SMS as the gateway would and print the reply;
* ``okno intake eml FILE…`` — take .eml files in as if they came from the mailbox.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from okno.assistant.intake import email as email_intake
from okno.assistant.intake import sms as sms_intake
from okno.assistant.intake.imap import ImapConfig, poll_forever, poll_once, read_password


class Command(BaseCommand):
    help = "Take appeals in from an IMAP mailbox, an SMS or .eml files."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        imap = sub.add_parser("imap", help="poll an IMAP mailbox")
        imap.add_argument("--host", required=True)
        imap.add_argument("--port", type=int, default=993)
        imap.add_argument("--user", required=True)
        imap.add_argument("--password-file", required=True, help="a file holding the password")
        imap.add_argument("--mailbox", default="INBOX")
        imap.add_argument("--no-ssl", action="store_true", help="plain IMAP (loopback and tests only)")
        imap.add_argument("--once", action="store_true", help="one pass, then exit")
        imap.add_argument("--interval", type=float, default=60.0, help="seconds between passes")
        sms = sub.add_parser("sms", help="route one SMS and print the reply")
        sms.add_argument("--from", dest="phone", required=True)
        sms.add_argument("--text", required=True)
        eml = sub.add_parser("eml", help="take .eml files in")
        eml.add_argument("files", nargs="+")

    def handle(self, *args: Any, **options: Any) -> None:
        what = options["subcommand"]
        if what == "imap":
            try:
                password = read_password(options["password_file"])
            except OSError as exc:
                raise CommandError(f"cannot read the password file: {exc}") from exc
            cfg = ImapConfig(
                host=options["host"],
                port=options["port"],
                user=options["user"],
                password=password,
                mailbox=options["mailbox"],
                use_ssl=not options["no_ssl"],
            )
            if options["once"]:
                self.stdout.write(json.dumps(poll_once(cfg), sort_keys=True))
            else:
                poll_forever(cfg, interval=options["interval"])
        elif what == "sms":
            out = sms_intake.handle_sms(phone=options["phone"], text=options["text"])
            self.stdout.write(f"{out.kind}: {out.reply}")
        elif what == "eml":
            for name in options["files"]:
                result = email_intake.process_message(Path(name).read_bytes())
                number = result.appeal.number if result.appeal else ""
                self.stdout.write(f"{name}: {result.outcome} {number} {result.reason}".rstrip())
