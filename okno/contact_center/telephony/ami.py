"""An Asterisk Manager Interface (AMI) client that mirrors app_queue's events into Okno.

The protocol: TCP (port 5038); the server greets with one line (``Asterisk Call Manager/<version>``); then
both sides exchange *messages*, blocks of ``Key: Value`` lines each ending with ``\\r\\n`` and closed by an
empty line. We send actions (``Action: Login`` with ``Username``, ``Secret`` and our ``ActionID``); the
server answers with ``Response: Success`` or ``Response: Error`` (``Message: Authentication failed``)
carrying the same ``ActionID``, and then streams ``Event: …`` messages.

:class:`AmiClient` logs in, reads events and hands each to a callback (by default
:func:`okno.contact_center.telephony.mirror.apply`, run in one database thread so events are written in
the order they came). It reconnects with exponential backoff (1 s, 2 s, 4 s … up to ``max_backoff_s``)
when the connection drops or the server cannot be reached, and sends ``Action: Ping`` when the line is
quiet for ``idle_s``, to notice a dead connection. Bad credentials are not retried: :class:`AmiAuthError`
with the server's message, since retrying cannot fix them; nor is a peer that does not greet as AMI
(:class:`AmiNotManager`: a wrong host or port). A broken block (a line that is not
``Key: Value``) is skipped whole and logged; the client goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import close_old_connections

from okno.contact_center.telephony import mirror
from okno.contact_center.telephony.agi import shutdown_db_threads

log = logging.getLogger(__name__)

AMI_PORT = 5038
MAX_LINES = 500  # lines in one message before it is called broken


class AmiError(Exception):
    """An AMI failure."""


class AmiAuthError(AmiError):
    """The server refused the login (bad user name or secret, or no permission)."""


class AmiProtocolError(AmiError):
    """The peer is not an AMI server, or sent something unreadable."""


class AmiNotManager(AmiProtocolError):
    """The peer's greeting is not AMI's: the host or port is wrong; not retried."""


class AmiBrokenMessage(AmiError):
    """One message had a line that is not ``Key: Value``; it is skipped."""


def format_action(action: str, fields: dict[str, str]) -> bytes:
    """One action message: ``Action: <action>`` and the fields, CRLF lines, an empty line at the end."""
    lines = [f"Action: {action}"]
    for key, value in fields.items():
        text = str(value)
        if "\r" in text or "\n" in text or "\r" in key or "\n" in key or ":" in key:
            raise ValueError(f"field {key!r} cannot be sent on one line")
        lines.append(f"{key}: {text}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def parse_message(lines: list[str]) -> dict[str, str]:
    """A message's lines as a dict (a repeated key keeps the first value; ``Variable`` lines and the like
    are rare in the events we read). :class:`AmiBrokenMessage` on a line that is not ``Key: Value``."""
    message: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or " " in key.strip():
            raise AmiBrokenMessage(f"not a Key: Value line: {line[:80]!r}")
        message.setdefault(key.strip(), value.strip())
    return message


class AmiConnection:
    """One logged-in connection."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, timeout_s: float
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.timeout_s = timeout_s
        self.banner = ""
        self._ids = itertools.count(1)

    async def _line(self, timeout_s: float | None) -> str:
        raw = (
            await asyncio.wait_for(self.reader.readline(), timeout_s)
            if timeout_s
            else await self.reader.readline()
        )
        if not raw.endswith(b"\n"):
            raise ConnectionResetError("the AMI server closed the connection")
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")

    async def read_banner(self) -> str:
        self.banner = await self._line(self.timeout_s)
        if not self.banner.startswith("Asterisk Call Manager"):
            raise AmiNotManager(f"not an AMI server: {self.banner[:80]!r}")
        return self.banner

    async def read_message(self, timeout_s: float | None = None) -> dict[str, str]:
        """The next message; :class:`AmiBrokenMessage` (after reading the block to its end) for a broken one;
        :class:`TimeoutError` when nothing begins within ``timeout_s``."""
        lines: list[str] = []
        while True:
            line = await self._line(timeout_s if not lines else self.timeout_s)
            if line == "":
                if lines:
                    break
                continue  # stray empty lines between messages
            lines.append(line)
            if len(lines) > MAX_LINES:
                raise AmiProtocolError("a message with no end")
        return parse_message(lines)

    async def send(self, action: str, **fields: str) -> str:
        action_id = fields.pop("ActionID", "") or f"okno-{next(self._ids)}"
        self.writer.write(format_action(action, {"ActionID": action_id, **fields}))
        await self.writer.drain()
        return action_id

    async def response(
        self, action_id: str, on_event: Callable[[dict[str, str]], Awaitable[None]] | None = None
    ) -> dict[str, str]:
        """Read until the response to ``action_id`` (events in between go to ``on_event``)."""
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AmiProtocolError("no response in time")
            try:
                message = await self.read_message(left)
            except AmiBrokenMessage as exc:
                log.warning("AMI: skipped a broken message: %s", exc)
                continue
            if "Response" in message and message.get("ActionID") == action_id:
                return message
            if "Event" in message and on_event is not None:
                await on_event(message)

    async def login(self, username: str, secret: str, events: str = "on") -> None:
        action_id = await self.send("Login", Username=username, Secret=secret, Events=events)
        answer = await self.response(action_id)
        if answer.get("Response", "").lower() != "success":
            raise AmiAuthError(answer.get("Message") or "the AMI server refused the login")

    async def close(self, logoff: bool = True) -> None:
        with contextlib.suppress(Exception):
            if logoff:
                await asyncio.wait_for(self.send("Logoff"), 1)
        with contextlib.suppress(Exception):
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 2)


def _mirror(event: dict[str, str]) -> str | None:
    close_old_connections()
    try:
        return mirror.apply(event)
    finally:
        close_old_connections()


class AmiClient:
    """Connects, logs in, reads events for ever (until :meth:`stop`), reconnecting with backoff."""

    def __init__(
        self,
        host: str,
        port: int = AMI_PORT,
        *,
        username: str,
        secret: str,
        handler: Callable[[dict[str, str]], Any] | None = None,
        timeout_s: float = 10.0,
        idle_s: float = 60.0,
        min_backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        events: str = "on",
    ) -> None:
        self.host, self.port = host, port
        self.username, self.secret = username, secret
        self.handler = handler or _mirror
        self.timeout_s, self.idle_s = timeout_s, idle_s
        self.min_backoff_s, self.max_backoff_s = min_backoff_s, max_backoff_s
        self.events = events
        self.connections = 0
        self.received = 0
        self.skipped = 0
        self.handled = 0
        self.errors = 0
        self._stop = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ami-db")
        self._connection: AmiConnection | None = None

    def stop(self) -> None:
        self._stop.set()
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.writer.close()

    async def connect(self) -> AmiConnection:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout_s)
        conn = AmiConnection(reader, writer, timeout_s=self.timeout_s)
        try:
            await conn.read_banner()
            await conn.login(self.username, self.secret, self.events)
        except BaseException:
            await conn.close(logoff=False)
            raise
        self.connections += 1
        log.info("AMI: logged in to %s:%s (%s)", self.host, self.port, conn.banner)
        return conn

    async def _handle(self, event: dict[str, str]) -> None:
        self.received += 1
        try:
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(self._executor, functools.partial(self.handler, event))
        except Exception:
            self.errors += 1
            log.exception("AMI: event %s could not be mirrored", event.get("Event"))
            return
        if result:
            self.handled += 1
            log.debug("AMI: %s", result)

    async def _read(self, conn: AmiConnection) -> None:
        quiet = 0
        while not self._stop.is_set():
            try:
                message = await conn.read_message(self.idle_s)
            except TimeoutError:
                quiet += 1
                if quiet > 1:
                    raise ConnectionResetError("the AMI server stopped answering") from None
                await conn.send("Ping")
                continue
            except AmiBrokenMessage as exc:
                self.skipped += 1
                log.warning("AMI: skipped a broken message: %s", exc)
                continue
            quiet = 0
            if "Event" in message:
                await self._handle(message)

    async def run(self) -> None:
        """Until :meth:`stop`: connect, read, and after a dropped connection wait and connect again.
        :class:`AmiAuthError` ends the run."""
        backoff = self.min_backoff_s
        try:
            while not self._stop.is_set():
                try:
                    self._connection = await self.connect()
                    backoff = self.min_backoff_s
                    await self._read(self._connection)
                except (AmiAuthError, AmiNotManager):
                    raise
                except (OSError, TimeoutError, AmiProtocolError, asyncio.IncompleteReadError) as exc:
                    if self._stop.is_set():
                        break
                    log.warning("AMI: %s; connecting again in %.0f s", exc or type(exc).__name__, backoff)
                finally:
                    if self._connection is not None:
                        await self._connection.close(logoff=not self._stop.is_set())
                        self._connection = None
                if self._stop.is_set():
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), backoff)
                backoff = min(self.max_backoff_s, backoff * 2)
        finally:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, functools.partial(shutdown_db_threads, self._executor, 1))


def run(host: str, port: int, *, username: str, secret: str) -> None:
    """``okno cc ami``: run the client until interrupted."""
    client = AmiClient(host, port, username=username, secret=secret)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(client.run())


__all__ = [
    "AMI_PORT",
    "AmiAuthError",
    "AmiBrokenMessage",
    "AmiClient",
    "AmiConnection",
    "AmiError",
    "AmiNotManager",
    "AmiProtocolError",
    "format_action",
    "parse_message",
    "run",
]
