"""``okno notify <subcommand>``: a dispatcher of notification subcommands.

Each subcommand is a :class:`Subcommand` in :data:`SUBCOMMANDS` — a help line, a function that adds its
arguments, and a function that runs it — so another module adds one with one line here, e.g.
``"deliver": Subcommand(*deliver_subcommand())``. Present:

* ``smpp-server`` — the SMPP 3.4 SMSC stand-in (okno/notify/smpp_server.py) for the demo and local tests;
* ``vapid-keys`` — print a new VAPID key pair for web push;
* ``transports`` — where each channel's messages go with the current settings;
* ``send-test`` — send one message through a channel's transport, to check a provider's settings;
* ``deliver`` — the delivery loop once or ``--loop`` (okno/notify/cli.py, the notifications core).
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from okno.notify.cli import deliver_subcommand


@dataclass(frozen=True)
class Subcommand:
    help: str
    add_arguments: Callable[[CommandParser], None]
    handle: Callable[[BaseCommand, dict[str, Any]], None]


# -- smpp-server -------------------------------------------------------------------------------------------


def _smpp_server_arguments(parser: CommandParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2775, help="TCP port (default 2775)")
    parser.add_argument("--system-id", help="accept only this system_id (default: any)")
    parser.add_argument("--password", help="accept only this password (default: any)")
    parser.add_argument("--receipt-delay", type=float, default=1.0, help="seconds before a delivery receipt")
    parser.add_argument("--no-receipts", action="store_true", help="never send delivery receipts")
    parser.add_argument(
        "--undeliverable",
        action="append",
        default=[],
        metavar="NUMBER",
        help="answer receipts for this number (digits, no +) with stat:UNDELIV; repeatable",
    )
    parser.add_argument(
        "--invalid",
        action="append",
        default=[],
        metavar="NUMBER",
        help="refuse submits to this number (digits, no +) with ESME_RINVDSTADR; repeatable",
    )


def _smpp_server(command: BaseCommand, opts: dict[str, Any]) -> None:
    from okno.notify.smpp_server import ReceivedMessage, SmppServer

    def show(message: ReceivedMessage) -> None:
        line = {
            "to": message.destination,
            "from": message.source,
            "text": message.text,
            "ids": message.message_ids,
        }
        command.stdout.write(json.dumps(line, ensure_ascii=False))
        command.stdout.flush()

    try:
        server = SmppServer(
            opts["host"],
            opts["port"],
            system_id=opts["system_id"],
            password=opts["password"],
            receipts=not opts["no_receipts"],
            receipt_delay=opts["receipt_delay"],
            on_message=show,
        )
    except OSError as exc:
        raise CommandError(f"cannot listen on {opts['host']}:{opts['port']}: {exc.strerror}") from exc
    server.invalid_destinations.update(opts["invalid"])
    server.receipt_states.update(dict.fromkeys(opts["undeliverable"], "UNDELIV"))
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.start()
    command.stdout.write(f"SMPP server listening on {server.host}:{server.port} (Ctrl+C to stop)")
    command.stdout.flush()
    try:
        while not stopping:
            time.sleep(0.2)
    finally:
        server.stop()
        command.stdout.write(f"stopped after {len(server.messages)} message(s)")


# -- vapid-keys --------------------------------------------------------------------------------------------


def _vapid_keys_arguments(parser: CommandParser) -> None:
    parser.add_argument("--pem", action="store_true", help="also print the private key as PEM")


def _vapid_keys(command: BaseCommand, opts: dict[str, Any]) -> None:
    from okno.notify.transports.webpush import generate_vapid_keys

    keys = generate_vapid_keys()
    command.stdout.write(f"NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY={keys['private_key']}")
    command.stdout.write(f"# public key (the applicationServerKey for browsers): {keys['public_key']}")
    if opts["pem"]:
        command.stdout.write(keys["private_key_pem"].rstrip())


# -- transports --------------------------------------------------------------------------------------------


def _no_arguments(parser: CommandParser) -> None:
    pass


def _transports(command: BaseCommand, opts: dict[str, Any]) -> None:
    from okno.notify.transports.registry import CHANNELS, describe

    for channel in CHANNELS:
        command.stdout.write(f"{channel:<10} {describe(channel)}")


# -- send-test ---------------------------------------------------------------------------------------------


def _send_test_arguments(parser: CommandParser) -> None:
    parser.add_argument("channel", choices=["email", "sms", "push", "messenger"])
    parser.add_argument("recipient", help="e-mail, +7… phone, push subscription JSON or chat id")
    parser.add_argument("--text", default="Okno: test message / тестовое сообщение")
    parser.add_argument("--subject", default="Okno test")
    parser.add_argument("--wait-receipt", type=float, default=0.0, help="seconds to wait for an SMS receipt")


def _send_test(command: BaseCommand, opts: dict[str, Any]) -> None:
    from okno.notify.transports.base import Message
    from okno.notify.transports.registry import get_transport

    def receipt(provider_id: str, state: str, error: str) -> None:
        command.stdout.write(f"receipt {provider_id}: {state} {error}")

    transport = get_transport(opts["channel"], on_receipt=receipt)
    try:
        result = transport.send(
            Message(
                notice_id=0,
                channel=opts["channel"],
                recipient=opts["recipient"],
                subject=opts["subject"],
                body=opts["text"],
            )
        )
        command.stdout.write(json.dumps(result.__dict__, ensure_ascii=False))
        poll = getattr(transport, "poll", None)
        if result.ok and opts["wait_receipt"] and poll is not None:
            poll(opts["wait_receipt"])
    finally:
        transport.close()
    if not result.ok:
        raise CommandError(result.error)


SUBCOMMANDS: dict[str, Subcommand] = {
    "smpp-server": Subcommand(
        "Run the SMPP 3.4 test/demo server (an SMSC stand-in).", _smpp_server_arguments, _smpp_server
    ),
    "vapid-keys": Subcommand("Print a new VAPID key pair for web push.", _vapid_keys_arguments, _vapid_keys),
    "transports": Subcommand("Show where each channel's messages go.", _no_arguments, _transports),
    "send-test": Subcommand("Send one test message through a channel.", _send_test_arguments, _send_test),
    "deliver": Subcommand(*deliver_subcommand()),  # the delivery loop (okno/notify/cli.py)
}


class Command(BaseCommand):
    help = "Notifications: " + ", ".join(SUBCOMMANDS) + "."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        for name, spec in SUBCOMMANDS.items():
            spec.add_arguments(sub.add_parser(name, help=spec.help))

    def handle(self, *args: Any, **opts: Any) -> None:
        SUBCOMMANDS[opts["subcommand"]].handle(self, opts)
