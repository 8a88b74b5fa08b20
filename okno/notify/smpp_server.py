"""A small protocol-level SMPP 3.4 server (an SMSC stand-in) for the tests and the demo.

``okno notify smpp-server --port 2775`` runs it in the foreground and prints every message it accepts;
the tests start it in a background thread on a free loopback port (``SmppServer(port=0).start()``).

It accepts ``bind_transceiver``/``bind_transmitter``/``bind_receiver`` (checking system_id and password when
they are configured), ``submit_sm`` (answers with a message id, decodes GSM 7-bit/UCS-2 text and reassembles
concatenated parts), ``enquire_link`` and ``unbind``; anything else gets ``generic_nack``. For a submit with
``registered_delivery`` set it sends a delivery receipt as ``deliver_sm`` with ``esm_class`` 0x04 and the
Appendix B text ``id:… sub:001 dlvrd:001 submit date:… done date:… stat:DELIVRD err:000 text:…`` (plus
the ``receipted_message_id`` and ``message_state`` TLVs) to a receiver or transceiver session of the same
system_id.

Failures are injected with :meth:`SmppServer.fail_next` (``throttle`` → ESME_RTHROTTLED 0x58,
``system_error`` → ESME_RSYSERR 0x08, ``invalid_dest`` → ESME_RINVDSTADR 0x0B, ``drop`` → the connection is
closed instead of answering), with :attr:`SmppServer.invalid_destinations` (always 0x0B for those numbers),
:attr:`SmppServer.receipt_states` (a receipt state other than DELIVRD per number) and
:meth:`SmppServer.drop_connections` (close every session now, as an SMSC restart would).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from okno.notify.transports import smpp_pdu as p

log = logging.getLogger(__name__)

FAILURES = {
    "throttle": p.ESME_RTHROTTLED,
    "system_error": p.ESME_RSYSERR,
    "invalid_dest": p.ESME_RINVDSTADR,
    "drop": None,
}


@dataclass
class ReceivedPart:
    """One submit_sm as the server understood it."""

    message_id: str
    system_id: str
    source: str
    destination: str
    source_ton: int
    source_npi: int
    dest_ton: int
    dest_npi: int
    data_coding: int
    esm_class: int
    registered_delivery: int
    udh: p.Udh | None
    text: str
    received_at: float = field(default_factory=time.time)


@dataclass
class ReceivedMessage:
    """A whole text: a single part, or concatenated parts once all have arrived."""

    destination: str
    source: str
    text: str
    data_coding: int
    message_ids: list[str]


class _Session(socketserver.BaseRequestHandler):
    server: _TcpServer

    def setup(self) -> None:
        self.system_id = ""
        self.bind_kind = 0
        self.lock = threading.Lock()
        self.sequence = 0
        self.closed = False
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        owner = self.server.owner
        owner._register(self)
        buffer = bytearray()
        try:
            while not self.closed:
                try:
                    chunk = self.request.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                while True:
                    try:
                        pdu = p.split_stream(buffer)
                    except p.PduError as exc:
                        log.warning("SMPP server: %s; closing", exc)
                        return
                    if pdu is None:
                        break
                    if not owner._handle(self, pdu):
                        return
        finally:
            owner._unregister(self)
            self.close()

    def write(self, pdu: p.Pdu) -> bool:
        with self.lock:
            if self.closed:
                return False
            try:
                self.request.sendall(p.encode(pdu))
            except OSError:
                return False
            return True

    def next_sequence(self) -> int:
        with self.lock:
            self.sequence = self.sequence % 0x7FFFFFFF + 1
            return self.sequence

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            with contextlib.suppress(OSError):
                self.request.shutdown(socket.SHUT_RDWR)
            self.request.close()

    @property
    def receives(self) -> bool:
        return self.bind_kind in (p.BIND_RECEIVER, p.BIND_TRANSCEIVER)


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: SmppServer


class SmppServer:
    """The SMSC stand-in. Inspect :attr:`parts`, :attr:`messages`, :attr:`binds` in tests."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        system_id: str | None = None,
        password: str | None = None,
        receipts: bool = True,
        receipt_delay: float = 0.0,
        on_message: Callable[[ReceivedMessage], None] | None = None,
    ) -> None:
        self.system_id = system_id
        self.password = password
        self.receipts = receipts
        self.receipt_delay = receipt_delay
        self.on_message = on_message
        self.parts: list[ReceivedPart] = []
        self.messages: list[ReceivedMessage] = []
        self.binds: list[tuple[str, str, int]] = []  # (system_id, command name, status)
        self.receipts_sent: list[str] = []
        self.receipts_acked: list[tuple[str, int]] = []  # (message id, deliver_sm_resp status)
        self.invalid_destinations: set[str] = set()
        self.receipt_states: dict[str, str] = {}
        self._failures: list[str] = []
        self._pending: dict[tuple[str, int], list[ReceivedPart]] = {}
        self._waiting_receipts: dict[str, list[p.Pdu]] = {}
        self._receipt_seq: dict[tuple[int, int], str] = {}
        self._sessions: set[_Session] = set()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._next_id = 0x1000
        self._tcp = _TcpServer((host, port), _Session)
        self._tcp.owner = self
        self._thread: threading.Thread | None = None

    # -- running ---------------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return str(self._tcp.server_address[0])

    @property
    def port(self) -> int:
        return int(self._tcp.server_address[1])

    def start(self) -> SmppServer:
        self._thread = threading.Thread(
            target=self._tcp.serve_forever, kwargs={"poll_interval": 0.05}, name="smpp-server", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._tcp.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self._tcp.shutdown()
        self.drop_connections()
        self._tcp.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- failure injection and inspection ---------------------------------------------------------------

    def fail_next(self, kind: str, times: int = 1) -> None:
        """Answer the next ``times`` submit_sm with a failure: throttle, system_error, invalid_dest, drop."""
        if kind not in FAILURES:
            raise ValueError(f"unknown failure {kind!r}; one of {sorted(FAILURES)}")
        with self._lock:
            self._failures.extend([kind] * times)

    def drop_connections(self) -> None:
        with self._lock:
            sessions = list(self._sessions)
        for session in sessions:
            session.close()

    @property
    def session_count(self) -> int:
        with self._lock:
            return len(self._sessions)

    def wait_for(self, predicate: Callable[[SmppServer], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate(self)`` holds (re-checked whenever the server's state changes)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    # -- protocol --------------------------------------------------------------------------------------

    def _register(self, session: _Session) -> None:
        with self._changed:
            self._sessions.add(session)
            self._changed.notify_all()

    def _unregister(self, session: _Session) -> None:
        with self._changed:
            self._sessions.discard(session)
            self._changed.notify_all()

    def _handle(self, session: _Session, pdu: p.Pdu) -> bool:
        """Answer one PDU; False closes the session."""
        if pdu.is_response:
            if pdu.command_id == p.DELIVER_SM | p.RESPONSE_BIT:
                with self._changed:
                    message_id = self._receipt_seq.pop((id(session), pdu.sequence), "")
                    self.receipts_acked.append((message_id, pdu.status))
                    self._changed.notify_all()
            return True
        if pdu.command_id in p.BIND_COMMANDS:
            return self._bind(session, pdu)
        if pdu.command_id == p.ENQUIRE_LINK:
            return session.write(p.response_to(pdu))
        if pdu.command_id == p.UNBIND:
            session.write(p.response_to(pdu))
            return False
        if pdu.command_id != p.SUBMIT_SM:
            return session.write(p.response_to(pdu, p.ESME_RINVCMDID))
        if session.bind_kind not in (p.BIND_TRANSMITTER, p.BIND_TRANSCEIVER):
            return session.write(p.response_to(pdu, p.ESME_RINVBNDSTS))
        return self._submit(session, pdu)

    def _bind(self, session: _Session, pdu: p.Pdu) -> bool:
        system_id, password = pdu.str_field("system_id"), pdu.str_field("password")
        status = p.ESME_ROK
        if session.bind_kind:
            status = p.ESME_RALYBND
        elif self.system_id is not None and system_id != self.system_id:
            status = p.ESME_RINVSYSID
        elif self.password is not None and password != self.password:
            status = p.ESME_RINVPASWD
        with self._changed:
            self.binds.append((system_id, pdu.name, status))
            self._changed.notify_all()
        if status != p.ESME_ROK:
            session.write(p.response_to(pdu, status))
            return status == p.ESME_RALYBND
        session.system_id, session.bind_kind = system_id, pdu.command_id
        resp = p.response_to(pdu, system_id="OKNOSMSC")
        resp.tlvs[p.TLV_SC_INTERFACE_VERSION] = bytes((p.INTERFACE_VERSION,))
        ok = session.write(resp)
        if session.receives:
            self._flush_receipts(session)
        return ok

    def _submit(self, session: _Session, pdu: p.Pdu) -> bool:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        destination = pdu.str_field("destination_addr")
        if failure == "drop":
            return False
        if failure is None and destination in self.invalid_destinations:
            failure = "invalid_dest"
        if failure is not None:
            return session.write(p.response_to(pdu, FAILURES[failure] or p.ESME_RSYSERR))
        try:
            udh, text = p.message_text(pdu)
        except Exception:  # a malformed UDH or text: the SMSC refuses the message
            return session.write(p.response_to(pdu, p.ESME_RINVMSGLEN))
        with self._changed:
            message_id = f"{self._next_id:08x}"
            self._next_id += 1
            part = ReceivedPart(
                message_id=message_id,
                system_id=session.system_id,
                source=pdu.str_field("source_addr"),
                destination=destination,
                source_ton=pdu.int_field("source_addr_ton"),
                source_npi=pdu.int_field("source_addr_npi"),
                dest_ton=pdu.int_field("dest_addr_ton"),
                dest_npi=pdu.int_field("dest_addr_npi"),
                data_coding=pdu.int_field("data_coding"),
                esm_class=pdu.int_field("esm_class"),
                registered_delivery=pdu.int_field("registered_delivery"),
                udh=udh,
                text=text,
            )
            self.parts.append(part)
            message = self._assemble(part)
            self._changed.notify_all()
        ok = session.write(p.response_to(pdu, message_id=message_id))
        if message is not None:
            log.debug("SMPP server: message to %s: %s", message.destination, message.text)
            if self.on_message is not None:
                self.on_message(message)
        if self.receipts and part.registered_delivery & 0x03:
            self._schedule_receipt(part)
        return ok

    def _assemble(self, part: ReceivedPart) -> ReceivedMessage | None:
        if part.udh is None or part.udh.total <= 1:
            message = ReceivedMessage(
                part.destination, part.source, part.text, part.data_coding, [part.message_id]
            )
        else:
            key = (part.destination, part.udh.reference)
            parts = self._pending.setdefault(key, [])
            parts.append(part)
            if len({x.udh.sequence for x in parts if x.udh}) < part.udh.total:
                return None
            del self._pending[key]
            parts.sort(key=lambda x: x.udh.sequence if x.udh else 0)
            message = ReceivedMessage(
                part.destination,
                part.source,
                "".join(x.text for x in parts),
                part.data_coding,
                [x.message_id for x in parts],
            )
        self.messages.append(message)
        return message

    def _schedule_receipt(self, part: ReceivedPart) -> None:
        now = dt.datetime.now(tz=dt.UTC)
        stamp = f"{now:%y%m%d%H%M}"
        state = self.receipt_states.get(part.destination, "DELIVRD")
        receipt = p.Receipt(
            message_id=part.message_id,
            state=state,
            error="000" if state == "DELIVRD" else "001",
            submit_date=stamp,
            done_date=stamp,
            text=part.text,
        )
        pdu = p.Pdu(
            command_id=p.DELIVER_SM,
            sequence=0,
            fields={
                "service_type": "",
                "source_addr_ton": part.dest_ton,
                "source_addr_npi": part.dest_npi,
                "source_addr": part.destination,
                "dest_addr_ton": part.source_ton,
                "dest_addr_npi": part.source_npi,
                "destination_addr": part.source,
                "esm_class": p.ESM_DELIVERY_RECEIPT,
                "protocol_id": 0,
                "priority_flag": 0,
                "schedule_delivery_time": "",
                "validity_period": "",
                "registered_delivery": 0,
                "replace_if_present_flag": 0,
                "data_coding": p.DC_DEFAULT,
                "sm_default_msg_id": 0,
                "short_message": p.gsm_encode(
                    "".join(ch if p.gsm_encodable(ch) else "?" for ch in p.receipt_text(receipt))
                ),
            },
            tlvs={
                p.TLV_RECEIPTED_MESSAGE_ID: part.message_id.encode("ascii") + b"\x00",
                p.TLV_MESSAGE_STATE: bytes((p.MESSAGE_STATE_CODES.get(state, 7),)),
            },
        )

        def deliver() -> None:
            with self._lock:
                self._waiting_receipts.setdefault(part.system_id, []).append(pdu)
                sessions = [s for s in self._sessions if s.receives and s.system_id == part.system_id]
            for session in sessions:
                if self._flush_receipts(session):
                    return

        if self.receipt_delay > 0:
            timer = threading.Timer(self.receipt_delay, deliver)
            timer.daemon = True
            timer.start()
        else:
            deliver()

    def _flush_receipts(self, session: _Session) -> bool:
        with self._lock:
            waiting = self._waiting_receipts.pop(session.system_id, [])
        for index, pdu in enumerate(waiting):
            pdu.sequence = session.next_sequence()
            message_id = pdu.tlvs[p.TLV_RECEIPTED_MESSAGE_ID].rstrip(b"\x00").decode("ascii")
            with self._changed:
                self._receipt_seq[(id(session), pdu.sequence)] = message_id
            if not session.write(pdu):
                with self._lock:
                    self._waiting_receipts.setdefault(session.system_id, [])[:0] = waiting[index:]
                return False
            with self._changed:
                self.receipts_sent.append(message_id)
                self._changed.notify_all()
        return True
