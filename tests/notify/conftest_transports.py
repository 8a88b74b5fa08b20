"""Loopback peers for the transport tests: an SMTP server (aiosmtpd), the SMPP server, an HTTP receiver.

Not a conftest.py on purpose (tests/notify/ is shared with the notifications core): test modules import the
fixtures they use explicitly, ``from tests.notify.conftest_transports import smpp_peer  # noqa: F401``.
"""

from __future__ import annotations

import email
import json
import socket
import threading
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from okno.notify.smpp_server import SmppServer

SMPP_SYSTEM_ID = "okno"
SMPP_PASSWORD = "s3cret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- SMTP ----------------------------------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler: keeps accepted letters; refuses recipients in ``rejected`` with 550."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.rejected: set[str] = set()
        self.port = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd hook)
        if address in self.rejected:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_inbox(settings):
    """A real SMTP server on loopback; Django's mail goes to it."""
    inbox = Inbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", inbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


# -- SMPP ----------------------------------------------------------------------------------------------


@pytest.fixture
def smpp_peer(settings):
    """The SMPP server on a free loopback port, with settings pointing the sms transport at it."""
    server = SmppServer("127.0.0.1", 0, system_id=SMPP_SYSTEM_ID, password=SMPP_PASSWORD).start()
    settings.NOTIFY_SMPP_HOST = "127.0.0.1"
    settings.NOTIFY_SMPP_PORT = server.port
    settings.NOTIFY_SMPP_SYSTEM_ID = SMPP_SYSTEM_ID
    settings.NOTIFY_SMPP_PASSWORD = SMPP_PASSWORD
    settings.NOTIFY_SMPP_SOURCE_ADDR = "Okno"
    settings.NOTIFY_SMPP_TIMEOUT = 5.0
    yield server
    server.stop()


# -- HTTP ----------------------------------------------------------------------------------------------


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: Message  # case-insensitive, as HTTP header names are
    body: bytes


@dataclass
class HttpReceiver:
    """Records every request; answers with the next queued (status, headers, body) or the default."""

    url: str = ""
    requests: list[ReceivedRequest] = field(default_factory=list)
    answers: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    default: tuple[int, dict[str, str], bytes] = (201, {"Location": "/m/1"}, b"")

    def answer(self, status: int, headers: dict[str, str] | None = None, body: bytes | dict = b"") -> None:
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        self.answers.append((status, headers or {}, raw))


@pytest.fixture
def http_receiver():
    receiver = HttpReceiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's hook name)
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with lock:
                receiver.requests.append(ReceivedRequest("POST", self.path, self.headers, body))
                status, headers, answer = receiver.answers.pop(0) if receiver.answers else receiver.default
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format, *args):  # noqa: A002 (silence the default stderr log)
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield receiver
    server.shutdown()
    server.server_close()
