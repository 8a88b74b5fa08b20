"""A FastAGI server that plays Okno's IVR to callers on Asterisk.

Asterisk's dialplan hands an incoming call to us with ``AGI(agi://okno-host:4573/main)``. Asterisk opens a
TCP connection and sends the call's variables as ``agi_<name>: <value>`` lines ending with an empty line
(``agi_network_script`` carries the path of the URL — here the flow code ``main`` —, ``agi_callerid`` the
calling number, ``agi_dnid`` the dialled one, ``agi_uniqueid`` the channel's unique id, our
``Call.telephony_id``). Then we send one command per line and Asterisk answers each with
``200 result=<n> [(<data>)] [key=value …]``; ``510`` is an unknown command, ``511`` a command on a dead
channel, ``520-…`` a multi-line usage message ending with a ``520 …`` line. When the caller hangs up,
Asterisk also writes a lone ``HANGUP`` line.

For each call the server asks :func:`okno.contact_center.engine.incoming_call` for the first turn, then for
each :class:`~okno.contact_center.ivr.Turn`:

* plays its prompts: ``STREAM FILE <recording> ""`` for a prompt key that has a recording
  (:attr:`AgiConfig.recordings`), otherwise the text-to-speech command pattern
  (:attr:`AgiConfig.tts_command`, by default ``EXEC Festival {text}``, where ``{text}`` is the prompt as one
  quoted argument);
* waits for digits with ``GET DATA <prompt> <timeout_ms> <max_digits>`` (``200 result=<digits>``,
  ``… (timeout)`` for silence, ``result=-1`` when the caller hung up) and gives them to
  :func:`~okno.contact_center.engine.ivr_input`;
* on a transfer: ``SET VARIABLE OKNO_QUEUE <code>`` (and ``OKNO_CALL <uid>``), then ``EXEC Queue <code>``:
  Asterisk's app_queue routes the call to the agents' phones and the AMI client
  (:mod:`~okno.contact_center.telephony.ami`) mirrors what it does into Okno. With
  ``exec_queue=False`` the server only sets the variables and returns the channel to the dialplan, which
  runs ``Queue(${OKNO_QUEUE})`` itself;
* on a hangup turn: ``HANGUP``; when the caller hangs up first, :func:`~okno.contact_center.engine.hangup`.

Anything malformed — garbage instead of the header, a header cut short, an answer that is no AGI answer,
an engine error — sends *that* call to the default queue (``SET VARIABLE`` + ``EXEC Queue <default>``) when
the socket is still open; the server goes on serving the others. Every read has a timeout.

The database work (the engine is synchronous Django code) runs in a small thread pool; with SQLite it has
one thread, since SQLite takes one writer at a time anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.db import close_old_connections, connection, connections

from okno.contact_center import engine
from okno.contact_center.ivr import Expect, Turn
from okno.contact_center.telephony import mirror

log = logging.getLogger(__name__)

T = TypeVar("T")

AGI_PORT = 4573
#: The most ``agi_*`` header lines we read before calling the header malformed.
MAX_HEADER_LINES = 200
#: The most turns of one call (a guard against a flow that never ends).
MAX_TURNS = 500
_RESPONSE = re.compile(r"^(\d{3})(?:[ -](.*))?$")
_RESULT = re.compile(r"^result=(\S*)\s*(.*)$")
_EXTRA = re.compile(r"(\w+)=(\S*)")
_FLOW = re.compile(r"^[-a-zA-Z0-9_]{1,30}$")
_DIGITS = frozenset("0123456789*#")


class AgiError(Exception):
    """Something went wrong on an AGI connection."""


class AgiProtocolError(AgiError):
    """The peer sent something that is not AGI (garbage, a header line without ``agi_``, a bad answer)."""


class AgiHangup(AgiError):
    """The caller hung up, or the connection closed."""


class AgiCommandError(AgiError):
    """Asterisk refused a command that the call cannot go on without (``510``, ``520``)."""


@dataclass(frozen=True)
class AgiResponse:
    """One answer to a command: ``code`` (200, 510, 511, 520), ``result``, the text in parentheses
    (``data``: ``timeout``, a variable's value) and ``key=value`` extras (``endpos``)."""

    code: int
    result: str = ""
    data: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    text: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 200


def parse_env(lines: Iterable[str]) -> dict[str, str]:
    """The header block (without its empty last line) as a dict; :class:`AgiProtocolError` on a line that is
    not ``agi_<name>: <value>``."""
    env: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not name.startswith("agi_") or not name[4:].replace("_", "").isalnum():
            raise AgiProtocolError(f"not an AGI header line: {line[:80]!r}")
        env[name] = value.strip()
    if "agi_request" not in env and "agi_network" not in env and "agi_channel" not in env:
        raise AgiProtocolError("the header has neither agi_request, agi_network nor agi_channel")
    return env


def parse_response(line: str) -> AgiResponse:
    """One answer line: ``200 result=1 (value) endpos=1234``, ``510 Invalid or unknown command``."""
    match = _RESPONSE.match(line.strip())
    if match is None:
        raise AgiProtocolError(f"not an AGI answer: {line[:80]!r}")
    code, rest = int(match.group(1)), match.group(2) or ""
    if code != 200:
        return AgiResponse(code=code, text=rest)
    result = _RESULT.match(rest)
    if result is None:
        raise AgiProtocolError(f"a 200 answer without result=: {line[:80]!r}")
    value, tail = result.group(1), result.group(2)
    data = ""
    opened, closed = tail.find("("), tail.rfind(")")
    if opened != -1 and closed > opened:
        data = tail[opened + 1 : closed]
        tail = tail[:opened] + tail[closed + 1 :]
    return AgiResponse(code=200, result=value, data=data, extra=dict(_EXTRA.findall(tail)), text=rest)


def flow_code(script: str) -> str:
    """The flow code from ``agi_network_script`` (``main``, ``/main``, ``ivr/emergency?x=1``); ``main`` when
    it names none or something that is no code."""
    path = script.split("?", 1)[0].strip().strip("/")
    last = path.rsplit("/", 1)[-1] if path else ""
    return last if _FLOW.match(last) else "main"


def quote(text: str) -> str:
    """``text`` as one double-quoted AGI argument that reaches an application unchanged: no line breaks,
    ``\\`` and ``"`` escaped for AGI's parser, ``,`` escaped (``\\,``) for the application's argument parser."""
    flat = " ".join(text.replace("\r", " ").replace("\n", " ").split())
    flat = "".join(c for c in flat if c.isprintable())
    flat = flat.replace("\\", "").replace('"', "'").replace(",", "\\\\,").replace("|", " ")
    return f'"{flat}"'


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


@dataclass
class AgiConfig:
    """How prompts are played and calls handed over; defaults from settings (``CC_AGI_*``)."""

    #: The command that speaks a prompt without a recording; ``{text}`` is the quoted text.
    tts_command: str = "EXEC Festival {text}"
    #: Prompt keys with a recording on the Asterisk side, played with STREAM FILE instead of TTS.
    recordings: frozenset[str] = frozenset()
    #: The recording's file name for ``key`` (``{key}``, ``{language}``), without extension.
    recording_path: str = "okno/{key}"
    #: The file GET DATA plays while it waits for digits when the prompts went by TTS.
    input_prompt: str = "silence/1"
    #: ``EXEC Queue <code>`` after setting OKNO_QUEUE; False: return to the dialplan instead.
    exec_queue: bool = True
    #: The queue for a call that went wrong or asked for "the operator" without a flow's operator step;
    #: empty: the default queue of the database (``Queue.is_default``).
    default_queue: str = ""
    language: str = "ru"
    header_timeout_s: float = 10.0
    command_timeout_s: float = 300.0
    queue_timeout_s: float = 4 * 3600.0
    db_threads: int = 4

    @classmethod
    def from_settings(cls) -> AgiConfig:
        recordings = _setting("CC_AGI_RECORDINGS", ())
        if isinstance(recordings, str):
            recordings = [r.strip() for r in recordings.split(",")]
        return cls(
            tts_command=_setting("CC_AGI_TTS_COMMAND", cls.tts_command),
            recordings=frozenset(r for r in recordings if r),
            recording_path=_setting("CC_AGI_RECORDING_PATH", cls.recording_path),
            input_prompt=_setting("CC_AGI_INPUT_PROMPT", cls.input_prompt),
            exec_queue=bool(_setting("CC_AGI_EXEC_QUEUE", True)),
            default_queue=_setting("CC_AGI_DEFAULT_QUEUE", ""),
            language=str(_setting("LANGUAGE_CODE", "ru"))[:2],
            header_timeout_s=float(_setting("CC_AGI_HEADER_TIMEOUT_S", cls.header_timeout_s)),
            command_timeout_s=float(_setting("CC_AGI_COMMAND_TIMEOUT_S", cls.command_timeout_s)),
            queue_timeout_s=float(_setting("CC_AGI_QUEUE_TIMEOUT_S", cls.queue_timeout_s)),
            db_threads=int(_setting("CC_AGI_DB_THREADS", 4)),
        )


class AgiChannel:
    """One FastAGI connection: reads the header, sends commands and reads their answers."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, timeout_s: float
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.timeout_s = timeout_s
        self.hung_up = False
        self.sent: list[str] = []

    async def read_line(self, timeout_s: float | None = None) -> str:
        try:
            raw = await asyncio.wait_for(self.reader.readline(), timeout_s or self.timeout_s)
        except TimeoutError:
            raise AgiProtocolError("no answer in time") from None
        except (ValueError, asyncio.LimitOverrunError):
            raise AgiProtocolError("a line too long") from None
        except (ConnectionError, OSError) as exc:
            raise AgiHangup(f"connection lost: {exc}") from None
        if not raw.endswith(b"\n"):
            self.hung_up = True
            raise AgiHangup("connection closed")
        try:
            return raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise AgiProtocolError("a line that is not UTF-8") from None

    async def read_env(self, timeout_s: float) -> dict[str, str]:
        """The ``agi_*`` header up to its empty line, within ``timeout_s`` in all."""

        async def read() -> list[str]:
            lines: list[str] = []
            while True:
                line = await self.read_line(timeout_s)
                if line == "":
                    return lines
                lines.append(line)
                if len(lines) > MAX_HEADER_LINES:
                    raise AgiProtocolError("a header with no end")

        try:
            lines = await asyncio.wait_for(read(), timeout_s)
        except TimeoutError:
            raise AgiProtocolError("the header did not come in time") from None
        return parse_env(lines)

    async def discard(self, quiet_s: float = 0.2, limit: int = 65536) -> None:
        """Drop whatever the peer is still sending (after a malformed header), until it is quiet."""
        dropped = 0
        with contextlib.suppress(Exception):
            while dropped < limit:
                chunk = await asyncio.wait_for(self.reader.read(4096), quiet_s)
                if not chunk:
                    self.hung_up = True
                    return
                dropped += len(chunk)

    async def command(self, text: str, timeout_s: float | None = None) -> AgiResponse:
        """Send one command and read its answer (``HANGUP`` lines in between only mark the channel)."""
        if "\n" in text or "\r" in text:
            raise ValueError("an AGI command is one line")
        try:
            self.writer.write(text.encode("utf-8") + b"\n")
            await self.writer.drain()
        except (ConnectionError, OSError) as exc:
            raise AgiHangup(f"connection lost: {exc}") from None
        self.sent.append(text)
        while True:
            line = await self.read_line(timeout_s)
            if line.strip() == "HANGUP":
                self.hung_up = True
                continue
            if line.startswith("520-"):  # usage text, up to the "520 End of proper usage." line
                usage = [line[4:]]
                for _ in range(100):
                    more = await self.read_line(timeout_s)
                    if more.startswith("520 "):
                        break
                    usage.append(more)
                return AgiResponse(code=520, text="\n".join(usage))
            response = parse_response(line)
            if response.code == 511:
                self.hung_up = True
                raise AgiHangup("dead channel")
            return response

    async def get_data(self, prompt: str, expect: Expect) -> str | None:
        """Collect digits; ``None`` for silence until the timeout."""
        response = await self.command(
            f"GET DATA {prompt} {max(1, expect.timeout_s) * 1000} {max(1, expect.max_digits)}",
            timeout_s=self.timeout_s + expect.timeout_s * (expect.max_digits + 1),
        )
        if not response.ok:
            raise AgiCommandError(f"GET DATA refused: {response.code} {response.text}")
        if response.result == "-1":
            self.hung_up = True
            raise AgiHangup("hung up while entering digits")
        digits = "".join(c for c in response.result if c in _DIGITS)
        if not digits and "timeout" in response.data:
            return None
        return digits  # "" when the caller pressed # alone: GET DATA keeps no terminator

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 2)


def shutdown_db_threads(executor: ThreadPoolExecutor, threads: int, timeout_s: float = 5.0) -> None:
    """Close the database connection of every worker thread (one task per thread, held together by a
    barrier), then shut the pool down: no connection outlives the server."""
    barrier = threading.Barrier(threads, timeout=timeout_s)

    def close() -> None:
        connections.close_all()
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()

    futures = [executor.submit(close) for _ in range(threads)]
    for future in futures:
        with contextlib.suppress(Exception):
            future.result(timeout=timeout_s + 1)
    executor.shutdown(wait=True)


def _in_db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    close_old_connections()
    try:
        return fn(*args, **kwargs)
    finally:
        close_old_connections()


class AgiServer:
    """The asyncio FastAGI server. ``await start(host, port)``, then ``await serve_forever()`` or, in tests,
    ``await close()`` when done."""

    def __init__(self, config: AgiConfig | None = None) -> None:
        self.config = config or AgiConfig.from_settings()
        # SQLite takes one writer at a time (and its shared-cache test database locks whole tables).
        threads = 1 if connection.vendor == "sqlite" else max(1, self.config.db_threads)
        self._threads = threads
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="agi-db")
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.served = 0
        self.failed = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = AGI_PORT) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._connection, host, port)
        sock = self._server.sockets[0].getsockname()
        log.info("FastAGI server listening on %s:%s", sock[0], sock[1])
        return sock[0], sock[1]

    async def serve_forever(self) -> None:
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def close(self, timeout_s: float = 5.0) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), timeout_s)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            None, functools.partial(shutdown_db_threads, self._executor, self._threads)
        )

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        channel = AgiChannel(reader, writer, timeout_s=self.config.command_timeout_s)
        try:
            await self.handle(channel)
        except asyncio.CancelledError:
            raise
        except Exception:  # one call's failure never stops the server
            self.failed += 1
            log.exception("FastAGI call failed")
        finally:
            await channel.close()

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(_in_db, fn, *args, **kwargs))

    # ------------------------------------------------------------------ one call

    async def handle(self, channel: AgiChannel) -> None:
        try:
            env = await channel.read_env(self.config.header_timeout_s)
        except AgiHangup:
            log.warning("FastAGI: the connection closed before the header ended")
            self.failed += 1
            return
        except AgiProtocolError as exc:
            log.warning("FastAGI: malformed header (%s); the call goes to the default queue", exc)
            self.failed += 1
            await channel.discard()
            await self._rescue(channel, None)
            return
        caller = env.get("agi_callerid", "")
        caller = "" if caller.lower() in ("unknown", "anonymous") else caller
        called = env.get("agi_dnid", "") or env.get("agi_extension", "")
        called = "" if called.lower() == "unknown" else called
        try:
            call, turn = await self.db(
                engine.incoming_call,
                caller=caller[:32],
                called=called[:32],
                telephony_id=env.get("agi_uniqueid", "")[:64],
                flow=flow_code(env.get("agi_network_script", "")),
            )
        except Exception:
            log.exception("FastAGI: the engine could not take the call; it goes to the default queue")
            self.failed += 1
            await self._rescue(channel, None)
            return
        try:
            await self._drive(channel, call, turn)
            self.served += 1
        except AgiHangup:
            await self._hung_up(call)
            self.served += 1
        except Exception as exc:
            level = logging.WARNING if isinstance(exc, AgiError) else logging.ERROR
            log.log(
                level, "FastAGI call %s: %s; it goes to the default queue", call.pk, exc, exc_info=level > 30
            )
            self.failed += 1
            await self._rescue(channel, call)

    async def _drive(self, channel: AgiChannel, call: Any, turn: Turn) -> None:
        for _ in range(MAX_TURNS):
            await self._play(channel, turn)
            if turn.hangup:
                with contextlib.suppress(AgiHangup):
                    await channel.command("HANGUP")
                return
            if turn.expect is None:
                await self._transfer(channel, call, turn.transfer_to)
                return
            digits = await channel.get_data(self._input_prompt(turn), turn.expect)
            turn = await self.db(engine.ivr_input, call, digits)
        raise AgiError("too many turns")

    def _recording(self, key: str) -> str | None:
        if key not in self.config.recordings:
            return None
        return self.config.recording_path.format(key=key, language=self.config.language)

    def _input_prompt(self, turn: Turn) -> str:
        if turn.prompts and self._recording(turn.prompts[-1].key):
            return self._recording(turn.prompts[-1].key) or self.config.input_prompt
        return self.config.input_prompt

    async def _play(self, channel: AgiChannel, turn: Turn) -> None:
        prompts = list(turn.prompts)
        # A recorded last prompt before input is played by GET DATA itself, so the caller can type over it.
        if turn.expect is not None and prompts and self._recording(prompts[-1].key):
            prompts = prompts[:-1]
        for prompt in prompts:
            recording = self._recording(prompt.key)
            if recording:
                response = await channel.command(f'STREAM FILE {recording} ""')
            elif prompt.text.strip():
                response = await channel.command(self.config.tts_command.format(text=quote(prompt.text)))
            else:
                continue
            if not response.ok:
                log.warning(
                    "FastAGI: %s answered %s %s", channel.sent[-1][:40], response.code, response.text[:80]
                )
            if channel.hung_up:
                raise AgiHangup("hung up while listening")

    async def _default_queue(self) -> str:
        if self.config.default_queue:
            return self.config.default_queue
        try:
            return await self.db(mirror.default_queue_code)
        except Exception:
            log.exception("FastAGI: no default queue from the database")
            return "general"

    async def _transfer(self, channel: AgiChannel, call: Any, queue: str, *, tolerant: bool = False) -> None:
        """``SET VARIABLE OKNO_QUEUE``, ``OKNO_CALL`` and ``EXEC Queue``; ``tolerant`` (a rescue) goes on past
        an unreadable answer, since the queue is the caller's best chance."""
        code = queue or await self._default_queue()
        if call is not None:
            await self.db(mirror.note_transfer, call.pk, code)

        async def send(command: str, timeout_s: float | None = None) -> AgiResponse | None:
            try:
                return await channel.command(command, timeout_s=timeout_s)
            except (AgiProtocolError, AgiCommandError) as exc:
                if not tolerant:
                    raise
                log.warning("FastAGI: %s: %s", command, exc)
                return None

        await send(f"SET VARIABLE OKNO_QUEUE {code}")
        if call is not None:
            await send(f"SET VARIABLE OKNO_CALL {call.uid}")
        if self.config.exec_queue:
            response = await send(f"EXEC Queue {code}", timeout_s=self.config.queue_timeout_s)
            if response is not None and (not response.ok or response.result == "-2"):
                log.warning("FastAGI: EXEC Queue %s answered %s %s", code, response.code, response.result)

    async def _rescue(self, channel: AgiChannel, call: Any) -> None:
        """The call goes to the default queue, if the line is still there."""
        if channel.hung_up:
            if call is not None:
                await self._hung_up(call)
            return
        try:
            await self._transfer(channel, call, "", tolerant=True)
        except AgiHangup:
            if call is not None:
                await self._hung_up(call)
        except AgiError as exc:
            log.warning("FastAGI: could not hand the call to the default queue: %s", exc)
        except Exception:
            log.exception("FastAGI: could not hand the call to the default queue")

    async def _hung_up(self, call: Any) -> None:
        try:
            await self.db(engine.hangup, call, by="caller")
        except Exception:
            log.exception("FastAGI: could not record the hangup of call %s", call.pk)


def serve(host: str = "127.0.0.1", port: int = AGI_PORT, config: AgiConfig | None = None) -> None:
    """Run the server until interrupted (``okno cc agi-server``)."""

    async def main() -> None:
        server = AgiServer(config)
        await server.start(host, port)
        try:
            await server.serve_forever()
        finally:
            await server.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


__all__ = [
    "AGI_PORT",
    "AgiChannel",
    "AgiCommandError",
    "AgiConfig",
    "AgiError",
    "AgiHangup",
    "AgiProtocolError",
    "AgiResponse",
    "AgiServer",
    "flow_code",
    "parse_env",
    "parse_response",
    "quote",
    "serve",
]
