"""The SMPP 3.4 codec: PDU bytes checked by hand against the specification, alphabets and splitting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okno.notify.transports import smpp_pdu as p


def test_enquire_link_is_a_bare_sixteen_octet_header():
    assert p.encode(p.Pdu(command_id=p.ENQUIRE_LINK, sequence=1)).hex() == "00000010000000150000000000000001"


def test_bind_transceiver_bytes_follow_section_4_1():
    pdu = p.Pdu(
        command_id=p.BIND_TRANSCEIVER,
        sequence=7,
        fields={"system_id": "okno", "password": "s3cret", "interface_version": 0x34},
    )
    # 16 header + "okno\0" 5 + "s3cret\0" 7 + system_type "\0" 1 + version, ton, npi 3 + address_range "\0" 1
    expected = (
        "00000021000000090000000000000007" + b"okno\x00".hex() + b"s3cret\x00".hex() + "00" + "340000" + "00"
    )
    assert p.encode(pdu).hex() == expected
    assert p.decode(bytes.fromhex(expected)).fields["password"] == "s3cret"


def test_cyrillic_submit_sm_to_a_russian_mobile_is_ucs2_with_international_ton_npi():
    (pdu,) = p.submit_sm_pdus(
        source="Okno", destination="+79161234567", text="Привет", reference=1, first_sequence=3
    )
    raw = p.encode(pdu)
    # body: service_type 1 + src ton/npi 2 + "Okno\0" 5 + dst ton/npi 2 + "79161234567\0" 12 + esm, pid,
    # priority 3 + schedule, validity 2 + registered, replace, coding, default id 4 + sm_length 1 + 12 octets
    assert len(raw) == 16 + 44
    assert raw[:16].hex() == "0000003c000000040000000000000003"
    body = raw[16:]
    assert body[0:3] == b"\x00\x05\x00"  # empty service_type, alphanumeric sender: TON 5, NPI 0
    assert body[3:8] == b"Okno\x00"
    assert body[8:10] == b"\x01\x01"  # +7…: TON international, NPI ISDN (E.164)
    assert body[10:22] == b"79161234567\x00"
    esm, pid, prio, sched, valid, regd, repl, coding, dflt, length = body[22:32]
    assert (esm, regd, coding, length) == (0x00, 0x01, 0x08, 12)
    assert body[32:].hex() == "041f04400438043204350442"


def test_plain_latin_goes_as_gsm_default_alphabet_with_escapes():
    assert p.gsm_encode("Hi @ 5€ {x}") == bytes.fromhex("4869200020351b65201b28781b29")
    assert p.gsm_decode(bytes.fromhex("4869200020351b65201b28781b29")) == "Hi @ 5€ {x}"
    assert p.encode_text("Power is back at 18:00").data_coding == p.DC_DEFAULT
    assert p.encode_text("Свет дадут в 18:00").data_coding == p.DC_UCS2
    assert p.encode_text("Back at 18:00 ✓").data_coding == p.DC_UCS2  # ✓ has no GSM code


@pytest.mark.parametrize(
    ("text", "parts", "lengths"),
    [
        ("a" * 160, 1, [160]),
        ("a" * 161, 2, [153, 8]),
        ("a" * 306, 2, [153, 153]),
        ("a" * 307, 3, [153, 153, 1]),
        # € takes two septets: 159 + 2 = 161 > 160 → two parts
        ("a" * 159 + "€", 2, [153, 8]),
        # an escape pair is never cut: 152 + 2 would be 154 > 153, so € opens part 2
        ("a" * 152 + "€" + "b" * 10, 2, [152, 12]),
        ("ж" * 70, 1, [140]),
        ("ж" * 71, 2, [134, 8]),
        ("ж" * 134, 2, [134, 134]),
        ("ж" * 135, 3, [134, 134, 2]),
    ],
)
def test_long_texts_split_at_153_septets_or_67_ucs2_characters(text, parts, lengths):
    encoded = p.encode_text(text)
    assert len(encoded.parts) == parts
    assert [len(x) for x in encoded.parts] == lengths
    assert encoded.concatenated == (parts > 1)


def test_concatenated_parts_carry_udh_05_00_03_and_the_udhi_bit():
    pdus = p.submit_sm_pdus(
        source="Okno", destination="+79161234567", text="ж" * 100, reference=0x2A, first_sequence=10
    )
    assert [x.sequence for x in pdus] == [10, 11]
    for index, pdu in enumerate(pdus, start=1):
        assert pdu.fields["esm_class"] == p.ESM_UDHI
        assert pdu.fields["short_message"][:6] == bytes((0x05, 0x00, 0x03, 0x2A, 2, index))
        assert len(pdu.fields["short_message"]) <= 140
    assert "".join(p.message_text(p.decode(p.encode(x)))[1] for x in pdus) == "ж" * 100


def test_a_character_outside_the_bmp_is_never_cut_between_parts():
    text = "ж" * 66 + "😀" + "ж" * 10  # the emoji is two UTF-16 units: 66 + 2 > 67
    parts = p.encode_text(text).parts
    assert len(parts[0]) == 132
    assert parts[1].decode("utf-16-be").startswith("😀")


@given(
    st.text(
        alphabet=st.sampled_from(list("abcXYZ09 .,:@€{}[]\\^~|\nжЖёЁ✓😀")),
        min_size=1,
        max_size=700,
    ).filter(str.strip)
)
def test_any_text_survives_split_and_reassembly(text):
    pdus = p.submit_sm_pdus(
        source="Okno", destination="+79161234567", text=text, reference=5, first_sequence=1
    )
    texts = []
    for pdu in pdus:
        decoded = p.decode(p.encode(pdu))
        assert len(decoded.bytes_field("short_message")) <= 140
        udh, part = p.message_text(decoded)
        if len(pdus) > 1:
            assert udh is not None and udh.total == len(pdus)
        texts.append(part)
    assert "".join(texts) == text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+79161234567", (1, 1, "79161234567")),
        ("79161234567", (1, 1, "79161234567")),
        ("0611", (3, 0, "0611")),
        ("Okno", (5, 0, "Okno")),
    ],
)
def test_addresses_get_ton_and_npi(value, expected):
    assert p.address(value) == expected


def test_a_destination_that_is_not_a_number_is_refused_before_sending():
    with pytest.raises(ValueError):
        p.submit_sm_pdus(source="Okno", destination="ivanov", text="x", reference=1, first_sequence=1)
    with pytest.raises(ValueError):
        p.address("Окно-Энерго")
    with pytest.raises(ValueError, match="empty text"):
        p.submit_sm_pdus(source="Okno", destination="+79161234567", text=" ", reference=1, first_sequence=1)


def test_receipt_text_is_parsed_and_tlvs_take_precedence():
    text = "id:0000a1b2 sub:001 dlvrd:001 submit date:2611231015 done date:2611231016 stat:DELIVRD err:000 text:Svet"
    pdu = p.Pdu(
        command_id=p.DELIVER_SM,
        sequence=1,
        fields={"esm_class": p.ESM_DELIVERY_RECEIPT, "data_coding": 0, "short_message": p.gsm_encode(text)},
    )
    receipt = p.parse_receipt(p.decode(p.encode(pdu)))
    assert receipt == p.Receipt("0000a1b2", "DELIVRD", "000", "2611231015", "2611231016", "Svet")
    pdu.tlvs = {p.TLV_RECEIPTED_MESSAGE_ID: b"0000ffff\x00", p.TLV_MESSAGE_STATE: bytes((5,))}
    receipt = p.parse_receipt(p.decode(p.encode(pdu)))
    assert (receipt.message_id, receipt.state) == ("0000ffff", "UNDELIV")
    pdu.fields["esm_class"] = 0  # an ordinary mobile-originated message is not a receipt
    assert p.parse_receipt(pdu) is None


def test_broken_streams_are_refused():
    with pytest.raises(p.PduError):
        p.split_stream(bytearray(b"\x00\x00\x00\x08abcd"))  # command_length below the header size
    buf = bytearray(p.encode(p.Pdu(command_id=p.ENQUIRE_LINK, sequence=9)))
    partial = bytearray(buf[:10])
    assert p.split_stream(partial) is None
    assert p.split_stream(buf).sequence == 9
    assert buf == bytearray()
    with pytest.raises(p.PduError):
        p.decode(bytes.fromhex("00000014000000040000000000000001") + b"\x00\x01\x01\x41")


def test_unknown_commands_get_generic_nack_with_invalid_command_id():
    resp = p.response_to(p.Pdu(command_id=0x00000103, sequence=4))
    assert (resp.command_id, resp.status, resp.sequence) == (p.GENERIC_NACK, p.ESME_RINVCMDID, 4)
    assert p.response_to(p.Pdu(command_id=p.SUBMIT_SM, sequence=5)).command_id == 0x80000004


def test_status_classification():
    assert not p.is_permanent(p.ESME_RTHROTTLED)
    assert not p.is_permanent(p.ESME_RSYSERR)
    assert p.is_permanent(p.ESME_RINVDSTADR)
    assert p.status_name(0x58) == "ESME_RTHROTTLED"
