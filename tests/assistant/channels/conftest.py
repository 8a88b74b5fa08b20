"""Fixtures of the chat channels' tests: a fake Telegram Bot API on loopback, the bot's settings, the grid.

:class:`FakeBotApi` is an ``http.server`` in a thread that answers ``POST /bot<token>/<method>`` the way
Telegram does (``{"ok": true, "result": …}``) and records every request's method and JSON body; it can
be told to fail the next N calls (HTTP 502, or 403 "bot was blocked by the user").
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.outages.conftest import grid  # noqa: F401  (the fixture)
from tests.portal.conftest import ivanov_user, romashka_user  # noqa: F401  (the fixtures)

TOKEN = "123456:TEST-token"
SECRET = "webhook-secret-1"


class FakeBotApi:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_next = 0
        self.fail_status = 502
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                prefix = f"/bot{TOKEN}/"
                if not self.path.startswith(prefix):
                    self._answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                    return
                method = self.path[len(prefix) :]
                body = json.loads(raw.decode("utf-8"))
                assert self.headers.get("Content-Type", "").startswith("application/json")
                with fake.lock:
                    if fake.fail_next > 0:
                        fake.fail_next -= 1
                        self._answer(
                            fake.fail_status,
                            {
                                "ok": False,
                                "error_code": fake.fail_status,
                                "description": "Bad Gateway"
                                if fake.fail_status >= 500
                                else "Forbidden: bot was blocked by the user",
                            },
                        )
                        return
                    fake.calls.append((method, body))
                    result: Any = True
                    if method == "sendMessage":
                        result = {
                            "message_id": len(fake.calls),
                            "chat": {"id": body.get("chat_id")},
                            "text": body.get("text"),
                        }
                self._answer(200, {"ok": True, "result": result})

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [body for name, body in self.calls if name == method]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def bot_api(settings):
    fake = FakeBotApi()
    settings.OKNO_TELEGRAM_TOKEN = TOKEN
    settings.OKNO_TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.OKNO_TELEGRAM_API_URL = fake.url
    settings.OKNO_TELEGRAM_TIMEOUT = 5.0
    yield fake
    fake.close()


@pytest.fixture(autouse=True)
def _fresh_limits():
    """Rate limits count in the (per-process) cache: every test starts with none used."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
