"""SMPP 3.4 protocol data units: encode and decode, text encodings and message splitting.

Written from the public SMPP v3.4 specification (Issue 1.2, 1999) so that the client
(:mod:`okno.notify.transports.smpp`) and the test/demo peer (:mod:`okno.notify.smpp_server`) share one
codec and cannot drift apart. Only what a notification sender needs is covered: the bind family,
``submit_sm``/``deliver_sm`` (same body layout), ``enquire_link``, ``unbind``, ``generic_nack`` and TLVs
kept as raw bytes.

Texts: GSM 03.38 default alphabet (``data_coding`` 0x00, one septet per octet, unpacked, which is what
SMSCs expect over SMPP) when every character has a GSM code, otherwise UCS-2 (``data_coding`` 0x08,
UTF-16BE). Long texts are split with a concatenation UDH (``05 00 03 ref total seq``, ``esm_class`` bit
0x40): 153 septets per part for GSM, 67 UTF-16 code units for UCS-2, never cutting an escape sequence or a
surrogate pair in two.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field

HEADER = struct.Struct(">IIII")
MAX_PDU_LENGTH = 64 * 1024  # larger than any PDU this codec builds; a bigger length means a broken stream

# Command ids (SMPP 3.4 §5.1.2.1). A response is the request id with bit 31 set.
GENERIC_NACK = 0x80000000
BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
BIND_TRANSCEIVER = 0x00000009
ENQUIRE_LINK = 0x00000015
RESPONSE_BIT = 0x80000000

BIND_COMMANDS = {BIND_RECEIVER, BIND_TRANSMITTER, BIND_TRANSCEIVER}

COMMAND_NAMES = {
    GENERIC_NACK: "generic_nack",
    BIND_RECEIVER: "bind_receiver",
    BIND_TRANSMITTER: "bind_transmitter",
    SUBMIT_SM: "submit_sm",
    DELIVER_SM: "deliver_sm",
    UNBIND: "unbind",
    BIND_TRANSCEIVER: "bind_transceiver",
    ENQUIRE_LINK: "enquire_link",
}

# Command status codes (SMPP 3.4 §5.1.3) that this code names.
ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RALYBND = 0x05
ESME_RSYSERR = 0x08
ESME_RINVSRCADR = 0x0A
ESME_RINVDSTADR = 0x0B
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RINVESMCLASS = 0x43
ESME_RSUBMITFAIL = 0x45
ESME_RINVSRCTON = 0x48
ESME_RINVSRCNPI = 0x49
ESME_RINVDSTTON = 0x50
ESME_RINVDSTNPI = 0x51
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64
ESME_RX_P_APPN = 0x65
ESME_RX_R_APPN = 0x66
ESME_RDELIVERYFAILURE = 0xFE
ESME_RUNKNOWNERR = 0xFF

STATUS_NAMES = {
    ESME_ROK: "ESME_ROK",
    ESME_RINVMSGLEN: "ESME_RINVMSGLEN",
    ESME_RINVCMDLEN: "ESME_RINVCMDLEN",
    ESME_RINVCMDID: "ESME_RINVCMDID",
    ESME_RINVBNDSTS: "ESME_RINVBNDSTS",
    ESME_RALYBND: "ESME_RALYBND",
    ESME_RSYSERR: "ESME_RSYSERR",
    ESME_RINVSRCADR: "ESME_RINVSRCADR",
    ESME_RINVDSTADR: "ESME_RINVDSTADR",
    ESME_RBINDFAIL: "ESME_RBINDFAIL",
    ESME_RINVPASWD: "ESME_RINVPASWD",
    ESME_RINVSYSID: "ESME_RINVSYSID",
    ESME_RMSGQFUL: "ESME_RMSGQFUL",
    ESME_RINVESMCLASS: "ESME_RINVESMCLASS",
    ESME_RSUBMITFAIL: "ESME_RSUBMITFAIL",
    ESME_RINVSRCTON: "ESME_RINVSRCTON",
    ESME_RINVSRCNPI: "ESME_RINVSRCNPI",
    ESME_RINVDSTTON: "ESME_RINVDSTTON",
    ESME_RINVDSTNPI: "ESME_RINVDSTNPI",
    ESME_RTHROTTLED: "ESME_RTHROTTLED",
    ESME_RX_T_APPN: "ESME_RX_T_APPN",
    ESME_RX_P_APPN: "ESME_RX_P_APPN",
    ESME_RX_R_APPN: "ESME_RX_R_APPN",
    ESME_RDELIVERYFAILURE: "ESME_RDELIVERYFAILURE",
    ESME_RUNKNOWNERR: "ESME_RUNKNOWNERR",
}

# Statuses that say "this message to this number will never go through": the notice fails for good.
# Everything else (throttling, system errors, queue full, unknown) is worth another try later.
PERMANENT_STATUSES = frozenset(
    {
        ESME_RINVMSGLEN,
        ESME_RINVDSTADR,
        ESME_RINVDSTTON,
        ESME_RINVDSTNPI,
        ESME_RINVESMCLASS,
        ESME_RX_P_APPN,
        ESME_RX_R_APPN,
    }
)

# esm_class bits (§5.2.12)
ESM_UDHI = 0x40
ESM_DELIVERY_RECEIPT = 0x04
# data_coding values (§5.2.19)
DC_DEFAULT = 0x00
DC_UCS2 = 0x08
# TON / NPI (§5.2.5, §5.2.6)
TON_UNKNOWN, TON_INTERNATIONAL, TON_NATIONAL, TON_NETWORK, TON_SUBSCRIBER, TON_ALPHANUMERIC = 0, 1, 2, 3, 4, 5
NPI_UNKNOWN, NPI_ISDN = 0, 1
# TLV tags (§5.3.2)
TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_MESSAGE_STATE = 0x0427
TLV_SC_INTERFACE_VERSION = 0x0210
MESSAGE_STATES = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
MESSAGE_STATE_CODES = {name: code for code, name in MESSAGE_STATES.items()}

INTERFACE_VERSION = 0x34


class PduError(ValueError):
    """The bytes are not a well-formed SMPP PDU; the peer answers generic_nack or drops the link."""


def status_name(status: int) -> str:
    return STATUS_NAMES.get(status, f"0x{status:08X}")


def is_permanent(status: int) -> bool:
    return status in PERMANENT_STATUSES


# ---------------------------------------------------------------------------------------------------------
# PDUs


@dataclass
class Pdu:
    """One PDU: the header fields, the mandatory body fields by name, and optional TLVs as raw bytes."""

    command_id: int
    sequence: int
    status: int = ESME_ROK
    fields: dict[str, int | str | bytes] = field(default_factory=dict)
    tlvs: dict[int, bytes] = field(default_factory=dict)

    @property
    def name(self) -> str:
        base = self.command_id & ~RESPONSE_BIT if self.command_id != GENERIC_NACK else GENERIC_NACK
        name = COMMAND_NAMES.get(base, f"0x{self.command_id:08X}")
        return name + "_resp" if self.is_response and self.command_id != GENERIC_NACK else name

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & RESPONSE_BIT)

    def str_field(self, name: str) -> str:
        value = self.fields.get(name, "")
        return value if isinstance(value, str) else str(value)

    def int_field(self, name: str) -> int:
        value = self.fields.get(name, 0)
        return value if isinstance(value, int) else int(value)

    def bytes_field(self, name: str) -> bytes:
        value = self.fields.get(name, b"")
        return value if isinstance(value, bytes) else str(value).encode("latin-1")


# Body layouts: (name, kind, max octets incl. NUL for C strings). "c" C-Octet string, "1" one-octet int,
# "sm" the short_message preceded by sm_length.
_BIND = [
    ("system_id", "c", 16),
    ("password", "c", 9),
    ("system_type", "c", 13),
    ("interface_version", "1", 1),
    ("addr_ton", "1", 1),
    ("addr_npi", "1", 1),
    ("address_range", "c", 41),
]
_SM = [
    ("service_type", "c", 6),
    ("source_addr_ton", "1", 1),
    ("source_addr_npi", "1", 1),
    ("source_addr", "c", 21),
    ("dest_addr_ton", "1", 1),
    ("dest_addr_npi", "1", 1),
    ("destination_addr", "c", 21),
    ("esm_class", "1", 1),
    ("protocol_id", "1", 1),
    ("priority_flag", "1", 1),
    ("schedule_delivery_time", "c", 17),
    ("validity_period", "c", 17),
    ("registered_delivery", "1", 1),
    ("replace_if_present_flag", "1", 1),
    ("data_coding", "1", 1),
    ("sm_default_msg_id", "1", 1),
    ("short_message", "sm", 254),
]
_MESSAGE_ID = [("message_id", "c", 65)]
_SYSTEM_ID = [("system_id", "c", 16)]

LAYOUTS: dict[int, list[tuple[str, str, int]]] = {
    BIND_RECEIVER: _BIND,
    BIND_TRANSMITTER: _BIND,
    BIND_TRANSCEIVER: _BIND,
    BIND_RECEIVER | RESPONSE_BIT: _SYSTEM_ID,
    BIND_TRANSMITTER | RESPONSE_BIT: _SYSTEM_ID,
    BIND_TRANSCEIVER | RESPONSE_BIT: _SYSTEM_ID,
    SUBMIT_SM: _SM,
    DELIVER_SM: _SM,
    SUBMIT_SM | RESPONSE_BIT: _MESSAGE_ID,
    DELIVER_SM | RESPONSE_BIT: _MESSAGE_ID,
}


def encode(pdu: Pdu) -> bytes:
    """The PDU's bytes, header included. A response with a non-zero status carries no body (§3.3.1)."""
    body = bytearray()
    layout = LAYOUTS.get(pdu.command_id, [])
    if pdu.is_response and pdu.status != ESME_ROK:
        layout = []
    for name, kind, size in layout:
        value = pdu.fields.get(name, 0 if kind == "1" else b"" if kind == "sm" else "")
        if kind == "1":
            if not isinstance(value, int) or not 0 <= value <= 255:
                raise PduError(f"{name}: one octet expected, got {value!r}")
            body.append(value)
        elif kind == "c":
            raw = value.encode("ascii") if isinstance(value, str) else bytes(value)  # type: ignore[arg-type]
            if b"\x00" in raw or len(raw) + 1 > size:
                raise PduError(f"{name}: at most {size - 1} octets without NUL, got {raw!r}")
            body += raw + b"\x00"
        else:
            raw = value if isinstance(value, bytes) else str(value).encode("latin-1")
            if len(raw) > size:
                raise PduError(f"short_message: at most {size} octets, got {len(raw)}")
            body.append(len(raw))
            body += raw
    for tag, value in pdu.tlvs.items():
        body += struct.pack(">HH", tag, len(value)) + value
    return HEADER.pack(HEADER.size + len(body), pdu.command_id, pdu.status, pdu.sequence) + bytes(body)


def decode(data: bytes) -> Pdu:
    """One PDU from exactly its bytes (header included)."""
    if len(data) < HEADER.size:
        raise PduError("shorter than a PDU header")
    length, command_id, status, sequence = HEADER.unpack_from(data)
    if length != len(data):
        raise PduError(f"command_length {length} but {len(data)} octets")
    pdu = Pdu(command_id=command_id, sequence=sequence, status=status)
    pos = HEADER.size
    layout = LAYOUTS.get(command_id, [])
    if pdu.is_response and status != ESME_ROK and pos == length:
        layout = []
    for name, kind, size in layout:
        if kind == "1":
            if pos >= length:
                raise PduError(f"{name}: body ends early")
            pdu.fields[name] = data[pos]
            pos += 1
        elif kind == "c":
            end = data.find(b"\x00", pos, min(length, pos + size))
            if end < 0:
                if pos == length and pdu.is_response:  # some SMSCs omit an empty message_id entirely
                    pdu.fields[name] = ""
                    continue
                raise PduError(f"{name}: no NUL within {size} octets")
            pdu.fields[name] = data[pos:end].decode("latin-1")
            pos = end + 1
        else:
            if pos >= length:
                raise PduError("sm_length missing")
            sm_length = data[pos]
            pos += 1
            if pos + sm_length > length:
                raise PduError("short_message runs past the PDU")
            pdu.fields[name] = data[pos : pos + sm_length]
            pos += sm_length
    while pos < length:
        if pos + 4 > length:
            raise PduError("truncated TLV header")
        tag, size = struct.unpack_from(">HH", data, pos)
        pos += 4
        if pos + size > length:
            raise PduError(f"TLV 0x{tag:04X} runs past the PDU")
        pdu.tlvs[tag] = data[pos : pos + size]
        pos += size
    return pdu


def split_stream(buffer: bytearray) -> Pdu | None:
    """Take one complete PDU off the front of ``buffer`` (consumed in place), or None if incomplete."""
    if len(buffer) < 4:
        return None
    (length,) = struct.unpack_from(">I", buffer)
    if not HEADER.size <= length <= MAX_PDU_LENGTH:
        raise PduError(f"command_length {length} out of range")
    if len(buffer) < length:
        return None
    data = bytes(buffer[:length])
    del buffer[:length]
    return decode(data)


def response_to(request: Pdu, status: int = ESME_ROK, **fields: int | str | bytes) -> Pdu:
    """The response to ``request``; generic_nack when the command is not one this codec knows."""
    known = request.command_id in COMMAND_NAMES and not request.is_response
    command_id = request.command_id | RESPONSE_BIT if known else GENERIC_NACK
    if not known and status == ESME_ROK:
        status = ESME_RINVCMDID
    return Pdu(command_id=command_id, sequence=request.sequence, status=status, fields=dict(fields))


# ---------------------------------------------------------------------------------------------------------
# Addresses


_DIGITS = re.compile(r"^\+?\d{3,20}$")


def address(value: str) -> tuple[int, int, str]:
    """(TON, NPI, digits) for an address: ``+7…`` → international/ISDN, letters → alphanumeric.

    A short all-digit number (up to 8 digits) is a short code: network-specific TON, unknown NPI.
    """
    value = value.strip().replace(" ", "").replace("-", "")
    if _DIGITS.match(value):
        digits = value.lstrip("+")
        if value.startswith("+") or len(digits) > 8:
            return TON_INTERNATIONAL, NPI_ISDN, digits
        return TON_NETWORK, NPI_UNKNOWN, digits
    if not value or len(value) > 11 or not value.isascii():
        raise ValueError(
            f"not a phone number or an alphanumeric sender id (≤ 11 Latin characters): {value!r}"
        )
    return TON_ALPHANUMERIC, NPI_UNKNOWN, value


# ---------------------------------------------------------------------------------------------------------
# Text: GSM 03.38 default alphabet and UCS-2

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C, "~": 0x3D, "]": 0x3E}
GSM_EXTENSION.update({"|": 0x40, "€": 0x65})
assert len(GSM_BASIC) == 128  # noqa: S101 (a table typo would corrupt every Latin SMS)
_GSM_ENCODE = {ch: i for i, ch in enumerate(GSM_BASIC) if ch != "\x1b"}
_GSM_DECODE = dict(enumerate(GSM_BASIC))
_GSM_EXT_DECODE = {code: ch for ch, code in GSM_EXTENSION.items()}
ESCAPE = 0x1B

GSM_SINGLE, GSM_PART = 160, 153  # septets
UCS2_SINGLE, UCS2_PART = 70, 67  # UTF-16 code units
MAX_PARTS = 255


def gsm_encodable(text: str) -> bool:
    return all(ch in _GSM_ENCODE or ch in GSM_EXTENSION for ch in text)


def gsm_encode(text: str) -> bytes:
    """Unpacked GSM 03.38 septets, one per octet; extension characters take two (ESC + code)."""
    out = bytearray()
    for ch in text:
        if ch in _GSM_ENCODE:
            out.append(_GSM_ENCODE[ch])
        elif ch in GSM_EXTENSION:
            out += bytes((ESCAPE, GSM_EXTENSION[ch]))
        else:
            raise ValueError(f"{ch!r} is not in the GSM 03.38 default alphabet")
    return bytes(out)


def gsm_decode(data: bytes) -> str:
    out: list[str] = []
    escaped = False
    for octet in data:
        if escaped:
            out.append(
                _GSM_EXT_DECODE.get(octet, " ")
            )  # an unknown extension reads as space (03.38 §6.2.1.1)
            escaped = False
        elif octet == ESCAPE:
            escaped = True
        else:
            out.append(_GSM_DECODE.get(octet & 0x7F, "?"))
    return "".join(out)


def decode_text(data: bytes, data_coding: int) -> str:
    """The text of a short message (UDH already removed) in the given data_coding."""
    if data_coding == DC_UCS2:
        return data.decode("utf-16-be", errors="replace")
    if data_coding == 0x03:  # Latin-1
        return data.decode("latin-1")
    return gsm_decode(data)


def _chunks(units: list[bytes], limit: int) -> list[bytes]:
    """Group encoded characters (each kept whole) into parts of at most ``limit`` octets."""
    parts: list[bytes] = []
    current = bytearray()
    for unit in units:
        if len(current) + len(unit) > limit:
            parts.append(bytes(current))
            current = bytearray()
        current += unit
    if current or not parts:
        parts.append(bytes(current))
    return parts


@dataclass(frozen=True)
class EncodedText:
    data_coding: int
    parts: list[bytes]  # payloads without UDH
    concatenated: bool


def encode_text(text: str) -> EncodedText:
    """Choose the alphabet and split into parts: GSM 160/153 septets, UCS-2 70/67 characters."""
    if gsm_encodable(text):
        units = [gsm_encode(ch) for ch in text]
        single, per_part, coding = GSM_SINGLE, GSM_PART, DC_DEFAULT
    else:
        # One unit per UTF-16 code unit pair group: a character outside the BMP stays whole (4 octets).
        units = [ch.encode("utf-16-be") for ch in text]
        single, per_part, coding = UCS2_SINGLE * 2, UCS2_PART * 2, DC_UCS2
    total = sum(len(u) for u in units)
    if total <= single:
        return EncodedText(coding, [b"".join(units)], concatenated=False)
    parts = _chunks(units, per_part)
    if len(parts) > MAX_PARTS:
        raise ValueError(f"text needs {len(parts)} parts, more than {MAX_PARTS}")
    return EncodedText(coding, parts, concatenated=True)


def concat_udh(reference: int, total: int, sequence: int) -> bytes:
    """8-bit-reference concatenation UDH (3GPP TS 23.040 §9.2.3.24.1): 05 00 03 ref total seq."""
    return bytes((0x05, 0x00, 0x03, reference & 0xFF, total, sequence))


@dataclass(frozen=True)
class Udh:
    reference: int
    total: int
    sequence: int


def split_udh(short_message: bytes) -> tuple[Udh | None, bytes]:
    """(concatenation info or None, payload) from a short_message whose esm_class has UDHI set."""
    if not short_message:
        return None, short_message
    udhl = short_message[0]
    header, payload = short_message[1 : 1 + udhl], short_message[1 + udhl :]
    pos, info = 0, None
    while pos + 2 <= len(header):
        iei, iel = header[pos], header[pos + 1]
        value = header[pos + 2 : pos + 2 + iel]
        if iei == 0x00 and iel == 3:
            info = Udh(value[0], value[1], value[2])
        elif iei == 0x08 and iel == 4:  # 16-bit reference variant
            info = Udh((value[0] << 8) | value[1], value[2], value[3])
        pos += 2 + iel
    return info, payload


def submit_sm_pdus(
    *,
    source: str,
    destination: str,
    text: str,
    reference: int,
    first_sequence: int,
    registered_delivery: int = 1,
    service_type: str = "",
) -> list[Pdu]:
    """The submit_sm PDUs for one text: one, or several with a concatenation UDH.

    Raises ValueError for an address or text that can never be sent (the caller fails the notice for good).
    """
    src_ton, src_npi, src = address(source)
    dst_ton, dst_npi, dst = address(destination)
    if dst_ton == TON_ALPHANUMERIC:
        raise ValueError(f"destination is not a phone number: {destination!r}")
    if not text.strip():
        raise ValueError("empty text")
    encoded = encode_text(text)
    pdus: list[Pdu] = []
    total = len(encoded.parts)
    for index, payload in enumerate(encoded.parts, start=1):
        esm_class = 0
        if encoded.concatenated:
            payload = concat_udh(reference, total, index) + payload
            esm_class |= ESM_UDHI
        pdus.append(
            Pdu(
                command_id=SUBMIT_SM,
                sequence=first_sequence + index - 1,
                fields={
                    "service_type": service_type,
                    "source_addr_ton": src_ton,
                    "source_addr_npi": src_npi,
                    "source_addr": src,
                    "dest_addr_ton": dst_ton,
                    "dest_addr_npi": dst_npi,
                    "destination_addr": dst,
                    "esm_class": esm_class,
                    "protocol_id": 0,
                    "priority_flag": 0,
                    "schedule_delivery_time": "",
                    "validity_period": "",
                    "registered_delivery": registered_delivery,
                    "replace_if_present_flag": 0,
                    "data_coding": encoded.data_coding,
                    "sm_default_msg_id": 0,
                    "short_message": payload,
                },
            )
        )
    return pdus


def message_text(pdu: Pdu) -> tuple[Udh | None, str]:
    """(concatenation info, decoded text) of a submit_sm/deliver_sm."""
    raw = pdu.bytes_field("short_message")
    udh = None
    if pdu.int_field("esm_class") & ESM_UDHI:
        udh, raw = split_udh(raw)
    return udh, decode_text(raw, pdu.int_field("data_coding"))


# ---------------------------------------------------------------------------------------------------------
# Delivery receipts (SMPP 3.4 Appendix B)

_RECEIPT = re.compile(
    r"id:(?P<id>\S+)\s+sub:(?P<sub>\S+)\s+dlvrd:(?P<dlvrd>\S+)\s+submit date:(?P<submit>\d*)\s+"
    r"done date:(?P<done>\d*)\s+stat:(?P<stat>\w+)\s+err:(?P<err>\w+)(?:\s+text:(?P<text>.*))?",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class Receipt:
    message_id: str
    state: str  # DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, ACCEPTD, ENROUTE, UNKNOWN
    error: str  # the receipt's err: field, e.g. "000"
    submit_date: str = ""
    done_date: str = ""
    text: str = ""


def receipt_text(receipt: Receipt) -> str:
    return (
        f"id:{receipt.message_id} sub:001 dlvrd:{'001' if receipt.state == 'DELIVRD' else '000'} "
        f"submit date:{receipt.submit_date} done date:{receipt.done_date} stat:{receipt.state} "
        f"err:{receipt.error} text:{receipt.text[:20]}"
    )


def parse_receipt(pdu: Pdu) -> Receipt | None:
    """The receipt a deliver_sm carries, or None if it is an ordinary mobile-originated message.

    TLVs ``receipted_message_id``/``message_state`` win over the text, which SMSCs format loosely.
    """
    if not pdu.int_field("esm_class") & ESM_DELIVERY_RECEIPT:
        return None
    text = decode_text(pdu.bytes_field("short_message"), pdu.int_field("data_coding"))
    match = _RECEIPT.search(text)
    message_id = match.group("id") if match else ""
    state = match.group("stat").upper() if match else "UNKNOWN"
    error = match.group("err") if match else ""
    if TLV_RECEIPTED_MESSAGE_ID in pdu.tlvs:
        message_id = pdu.tlvs[TLV_RECEIPTED_MESSAGE_ID].rstrip(b"\x00").decode("latin-1")
    if TLV_MESSAGE_STATE in pdu.tlvs and pdu.tlvs[TLV_MESSAGE_STATE]:
        state = MESSAGE_STATES.get(pdu.tlvs[TLV_MESSAGE_STATE][0], state)
    if not message_id:
        return None
    return Receipt(
        message_id=message_id,
        state=state,
        error=error,
        submit_date=match.group("submit") if match else "",
        done_date=match.group("done") if match else "",
        text=(match.group("text") or "") if match else "",
    )
