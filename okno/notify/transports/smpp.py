"""SMS over SMPP 3.4: a synchronous client session and the ``sms`` transport built on it.

Why synchronous with a window of one: the delivery loop sends one notice at a time and must know each
notice's outcome before it records it (a notice is marked sent in the same transaction as its attempt), so
pipelining would only add bookkeeping. On loopback this still moves thousands of messages a second.

The session is kept open across sends (one connection per transport instance). Before each send the client
drains what the SMSC has sent meanwhile (delivery receipts, ``enquire_link``, ``unbind``) without blocking;
a connection found closed there is re-opened and bound transparently, because nothing of the new message
has gone out yet. A connection that breaks *during* a submit makes that send a retryable failure (the SMSC
may or may not have taken the message: the delivery loop decides) and the next send reconnects.

Receipts (``deliver_sm`` with ``esm_class`` 0x04) call ``on_receipt(provider_message_id, state, error)``
with the SMPP receipt state (``DELIVRD``, ``UNDELIV``, ``EXPIRED``, ``REJECTD``…). A long text goes out as
several parts, each with its own message id; the transport returns the first part's id as
``provider_id`` and folds the parts' receipts into one: ``DELIVRD`` once every part is delivered, otherwise
the first final non-delivered state. (After a worker restart the fold is forgotten; the first part's receipt
still arrives under the notice's ``provider_id``.) The callback runs before ``deliver_sm_resp``; if it
raises, the client answers ``ESME_RX_T_APPN`` so that the SMSC delivers the receipt again later.
"""

from __future__ import annotations

import contextlib
import logging
import random
import select
import socket
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from okno.notify.transports import smpp_pdu as p
from okno.notify.transports.base import Message, SendResult, TransportError

log = logging.getLogger(__name__)

ReceiptCallback = Callable[[str, str, str], None]
MessageCallback = Callable[[str, str, str], None]  # (source_addr, destination_addr, text) of an MO message

FINAL_STATES = frozenset({"DELIVRD", "UNDELIV", "EXPIRED", "REJECTD", "DELETED", "UNKNOWN"})


class SmppError(TransportError):
    """The SMSC answered with a non-zero command_status (or generic_nack)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class SmppBindError(SmppError):
    """The bind was refused (wrong system_id/password, or the SMSC is not accepting binds)."""


class ConnectionLost(TransportError):
    """The TCP connection closed or broke, or the SMSC sent unbind."""


@dataclass(frozen=True)
class SmppConfig:
    host: str
    port: int = 2775
    system_id: str = ""
    password: str = ""
    system_type: str = ""
    source_addr: str = "Okno"
    service_type: str = ""
    bind: str = "transceiver"  # or "transmitter" when receipts come over a separate receiver bind
    timeout: float = 10.0  # seconds to wait for connect and for each response
    enquire_link_interval: float = 30.0  # probe an idle session before using it after this many seconds


BIND_IDS = {
    "transceiver": p.BIND_TRANSCEIVER,
    "transmitter": p.BIND_TRANSMITTER,
    "receiver": p.BIND_RECEIVER,
}


class SmppClient:
    """One TCP connection bound to an SMSC. Not thread-safe: one client per worker thread."""

    def __init__(
        self,
        config: SmppConfig,
        *,
        on_receipt: ReceiptCallback | None = None,
        on_message: MessageCallback | None = None,
    ) -> None:
        self.config = config
        self.on_receipt = on_receipt
        self.on_message = on_message
        self._sock: socket.socket | None = None
        self._buffer = bytearray()
        self._sequence = 0
        self._last_activity = 0.0

    # -- session ---------------------------------------------------------------------------------------

    @property
    def bound(self) -> bool:
        return self._sock is not None

    def connect(self) -> None:
        """Open the TCP connection and bind. Raises SmppBindError or ConnectionLost/OSError."""
        self.close()
        try:
            self._sock = socket.create_connection((self.config.host, self.config.port), self.config.timeout)
        except OSError as exc:
            raise ConnectionLost(f"cannot connect to {self.config.host}:{self.config.port}: {exc}") from exc
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer.clear()
        bind = p.Pdu(
            command_id=BIND_IDS[self.config.bind],
            sequence=0,
            fields={
                "system_id": self.config.system_id,
                "password": self.config.password,
                "system_type": self.config.system_type,
                "interface_version": p.INTERFACE_VERSION,
                "addr_ton": 0,
                "addr_npi": 0,
                "address_range": "",
            },
        )
        try:
            resp = self._request(bind)
        except Exception:
            self._drop()  # never keep a connection that is not bound
            raise
        if resp.status != p.ESME_ROK:
            self._drop()
            raise SmppBindError(f"bind refused: {p.status_name(resp.status)}", resp.status)

    def close(self) -> None:
        """Unbind politely (waiting briefly for unbind_resp) and close the connection."""
        if self._sock is None:
            return
        with contextlib.suppress(TransportError, OSError):
            self._request(p.Pdu(command_id=p.UNBIND, sequence=0), timeout=min(self.config.timeout, 2.0))
        self._drop()

    def _drop(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
                self._buffer.clear()

    # -- operations ------------------------------------------------------------------------------------

    def submit(self, pdu: p.Pdu) -> p.Pdu:
        """Send a submit_sm and return its submit_sm_resp (or generic_nack); ConnectionLost if it broke."""
        return self._request(pdu)

    def enquire_link(self) -> None:
        resp = self._request(p.Pdu(command_id=p.ENQUIRE_LINK, sequence=0))
        if resp.status != p.ESME_ROK:
            raise SmppError(f"enquire_link: {p.status_name(resp.status)}", resp.status)

    def idle_for(self) -> float:
        return time.monotonic() - self._last_activity

    def poll(self, timeout: float = 0.0) -> int:
        """Wait up to ``timeout`` seconds for a PDU from the SMSC, then handle it and all that are already
        there; the number handled. ``timeout=0`` only drains. ConnectionLost if the SMSC closed the link.
        """
        if self._sock is None:
            raise ConnectionLost("not connected")
        handled = 0
        deadline = time.monotonic() + timeout
        while True:
            pdu = self._read(deadline)
            if pdu is None:
                return handled
            self._handle_incoming(pdu)
            handled += 1
            deadline = 0.0  # after the first PDU, only drain what has already arrived

    def check_alive(self) -> bool:
        """Drain pending PDUs without blocking; False (and the connection dropped) if it has closed."""
        if self._sock is None:
            return False
        try:
            self.poll(0.0)
        except (TransportError, OSError):
            self._drop()
            return False
        return True

    # -- plumbing --------------------------------------------------------------------------------------

    def _next_sequence(self) -> int:
        self._sequence = self._sequence % 0x7FFFFFFF + 1  # 1 … 2^31-1 (§5.1.4), then wraps
        return self._sequence

    def _send(self, pdu: p.Pdu) -> None:
        if self._sock is None:
            raise ConnectionLost("not connected")
        try:
            self._sock.sendall(p.encode(pdu))
        except OSError as exc:
            self._drop()
            raise ConnectionLost(f"send failed: {exc}") from exc
        self._last_activity = time.monotonic()

    def _read(self, deadline: float) -> p.Pdu | None:
        """The next PDU, or None if none is complete by ``deadline``."""
        while True:
            try:
                pdu = p.split_stream(self._buffer)
            except p.PduError as exc:
                self._drop()
                raise ConnectionLost(f"protocol error: {exc}") from exc
            if pdu is not None:
                self._last_activity = time.monotonic()
                return pdu
            if self._sock is None:
                raise ConnectionLost("not connected")
            remaining = max(0.0, deadline - time.monotonic())
            try:
                ready, _, _ = select.select([self._sock], [], [], remaining)
                if not ready:
                    return None
                chunk = self._sock.recv(65536)
            except OSError as exc:
                self._drop()
                raise ConnectionLost(f"receive failed: {exc}") from exc
            if not chunk:
                self._drop()
                raise ConnectionLost("connection closed by the SMSC")
            self._buffer += chunk

    def _request(self, pdu: p.Pdu, timeout: float | None = None) -> p.Pdu:
        pdu.sequence = self._next_sequence()
        self._send(pdu)
        deadline = time.monotonic() + (self.config.timeout if timeout is None else timeout)
        while True:
            incoming = self._read(deadline)
            if incoming is None:
                self._drop()  # a late response would be mistaken for the next one's: start afresh
                raise ConnectionLost(f"no response to {pdu.name} within the timeout")
            if incoming.sequence == pdu.sequence and (
                incoming.command_id == pdu.command_id | p.RESPONSE_BIT
                or incoming.command_id == p.GENERIC_NACK
            ):
                if pdu.command_id == p.UNBIND:
                    self._drop()
                return incoming
            self._handle_incoming(incoming)

    def _handle_incoming(self, pdu: p.Pdu) -> None:
        if pdu.is_response:
            log.debug("SMPP: unexpected %s seq %s ignored", pdu.name, pdu.sequence)
            return
        if pdu.command_id == p.ENQUIRE_LINK:
            self._send(p.response_to(pdu))
        elif pdu.command_id == p.UNBIND:
            self._send(p.response_to(pdu))
            self._drop()
            raise ConnectionLost("the SMSC unbound the session")
        elif pdu.command_id == p.DELIVER_SM:
            status = p.ESME_ROK
            try:
                self._deliver(pdu)
            except Exception:
                log.exception("SMPP: handling deliver_sm failed; asking the SMSC to redeliver it")
                status = p.ESME_RX_T_APPN
            self._send(p.response_to(pdu, status, message_id=""))
        else:
            self._send(p.response_to(pdu, p.ESME_RINVCMDID))

    def _deliver(self, pdu: p.Pdu) -> None:
        receipt = p.parse_receipt(pdu)
        if receipt is not None:
            if self.on_receipt is not None:
                self.on_receipt(receipt.message_id, receipt.state, receipt.error)
            return
        if self.on_message is not None:
            _udh, text = p.message_text(pdu)
            self.on_message(pdu.str_field("source_addr"), pdu.str_field("destination_addr"), text)


class _ReceiptFold:
    """Folds the receipts of a multi-part message into one receipt under the first part's id.

    The fold reports once: at the first part that fails (its state), or when every part is delivered
    (DELIVRD); later receipts of the same message are swallowed, so a late DELIVRD for part 1 cannot undo
    an UNDELIV for part 2. While a multi-part message is being submitted, receipts for parts already
    accepted may arrive before the message's part ids are all known: they are held and replayed.
    """

    def __init__(self, forward: ReceiptCallback, capacity: int = 100_000) -> None:
        self.forward = forward
        self.capacity = capacity
        self._part_of: OrderedDict[str, str] = OrderedDict()  # part id → first part id
        self._states: dict[str, dict[str, tuple[str, str]]] = {}  # first id → part id → (state, error)
        self._parts: dict[str, int] = {}
        self._reported: set[str] = set()
        self._held: list[tuple[str, str, str]] | None = None

    def hold(self) -> None:
        self._held = []

    def release(self, ids: list[str]) -> None:
        """Register the part ids of the message just sent (if several) and replay held receipts."""
        held, self._held = self._held or [], None
        if len(ids) >= 2:
            first = ids[0]
            for part in ids:
                self._part_of[part] = first
            self._states[first] = {}
            self._parts[first] = len(ids)
            while len(self._part_of) > self.capacity:
                _old, primary = self._part_of.popitem(last=False)
                self._forget(primary)
        for receipt in held:
            self(*receipt)

    def _forget(self, first: str) -> None:
        self._states.pop(first, None)
        self._parts.pop(first, None)
        self._reported.discard(first)
        for part in [k for k, v in self._part_of.items() if v == first]:
            del self._part_of[part]

    def __call__(self, message_id: str, state: str, error: str) -> None:
        if self._held is not None:
            self._held.append((message_id, state, error))
            return
        first = self._part_of.get(message_id)
        if first is None or first not in self._states:
            self.forward(message_id, state, error)
            return
        if state not in FINAL_STATES:
            return
        states = self._states[first]
        states[message_id] = (state, error)
        complete = len(states) == self._parts[first]
        if first not in self._reported:
            if state != "DELIVRD":
                self.forward(first, state, error)
                self._reported.add(first)
            elif complete:
                self.forward(first, "DELIVRD", error)
        if complete:
            self._forget(first)


class SmppTransport:
    """The ``sms`` transport: one SMPP session per instance, opened on first use."""

    channel = "sms"

    def __init__(self, config: SmppConfig, *, on_receipt: ReceiptCallback | None = None) -> None:
        self.config = config
        self._fold = _ReceiptFold(on_receipt) if on_receipt is not None else None
        self.client = SmppClient(config, on_receipt=self._fold)
        self._reference = random.randrange(256)

    def build(self, message: Message) -> list[p.Pdu]:
        """The submit_sm PDUs for a message (ValueError: it can never be sent)."""
        self._reference = (self._reference + 1) % 256
        return p.submit_sm_pdus(
            source=str(message.extra.get("source_addr") or self.config.source_addr),
            destination=message.recipient,
            text=message.body,
            reference=self._reference,
            first_sequence=1,
            registered_delivery=1,
            service_type=self.config.service_type,
        )

    def _ensure_session(self) -> None:
        if self.client.bound and self.client.check_alive():
            if self.client.idle_for() < self.config.enquire_link_interval:
                return
            try:
                self.client.enquire_link()
                return
            except (TransportError, OSError):
                log.info("SMPP: idle session did not answer enquire_link; reconnecting")
        self.client.connect()

    def send(self, message: Message) -> SendResult:
        try:
            pdus = self.build(message)
        except ValueError as exc:
            return SendResult(ok=False, retryable=False, error=str(exc))
        try:
            self._ensure_session()
        except p.PduError as exc:  # a system_id or password longer than SMPP allows: fix the settings
            return SendResult(ok=False, retryable=True, error=f"SMPP settings: {exc}")
        except (TransportError, OSError) as exc:
            return SendResult(ok=False, retryable=True, error=str(exc))
        ids: list[str] = []
        if self._fold is not None and len(pdus) > 1:
            self._fold.hold()
        try:
            for pdu in pdus:
                try:
                    resp = self.client.submit(pdu)
                except (TransportError, OSError) as exc:
                    sent = f" after {len(ids)} of {len(pdus)} parts" if ids else ""
                    return SendResult(ok=False, retryable=True, error=f"{exc}{sent}")
                if resp.status != p.ESME_ROK:
                    error = f"submit_sm: {p.status_name(resp.status)}"
                    if ids:
                        error += f" after {len(ids)} of {len(pdus)} parts"
                    return SendResult(ok=False, retryable=not p.is_permanent(resp.status), error=error)
                ids.append(resp.str_field("message_id"))
        finally:
            if self._fold is not None and len(pdus) > 1:
                self._fold.release(ids if len(ids) == len(pdus) else [])
        return SendResult(ok=True, provider_id=ids[0])

    def poll(self, timeout: float = 0.0) -> int:
        """Wait up to ``timeout`` seconds for receipts (and keep-alives), handle what came; how many PDUs."""
        if not self.client.bound:
            try:
                self.client.connect()
            except (TransportError, OSError) as exc:
                log.warning("SMPP: cannot connect to read receipts: %s", exc)
                return 0
        try:
            return self.client.poll(timeout)
        except (TransportError, OSError) as exc:
            log.info("SMPP: session lost while reading receipts: %s", exc)
            return 0

    def close(self) -> None:
        self.client.close()
