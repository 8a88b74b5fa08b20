"""SMS over SMPP against the SMPP server peer on loopback, started by the test (issue 4 part 9)."""

from __future__ import annotations

import socket
import time

import pytest

from okno.notify.smpp_server import SmppServer
from okno.notify.transports import smpp_pdu as p
from okno.notify.transports.base import Message
from okno.notify.transports.registry import get_transport
from okno.notify.transports.smpp import SmppBindError, SmppClient, SmppConfig, SmppTransport, _ReceiptFold
from tests.notify.conftest_transports import SMPP_PASSWORD, SMPP_SYSTEM_ID, smpp_peer  # noqa: F401

PHONE = "+79161234567"


def sms(text: str, notice_id: int = 1, to: str = PHONE) -> Message:
    return Message(notice_id=notice_id, channel="sms", recipient=to, subject="", body=text)


@pytest.fixture
def receipts():
    return []


@pytest.fixture
def transport(smpp_peer, receipts):  # noqa: F811 (the fixture imported above)
    config = SmppConfig(
        host="127.0.0.1", port=smpp_peer.port, system_id=SMPP_SYSTEM_ID, password=SMPP_PASSWORD, timeout=5.0
    )
    t = SmppTransport(config, on_receipt=lambda *args: receipts.append(args))
    yield t
    t.close()


def test_bind_with_the_right_password_is_accepted_and_unbind_closes(smpp_peer):  # noqa: F811
    client = SmppClient(
        SmppConfig(host="127.0.0.1", port=smpp_peer.port, system_id="okno", password=SMPP_PASSWORD)
    )
    client.connect()
    assert client.bound
    assert smpp_peer.binds == [("okno", "bind_transceiver", p.ESME_ROK)]
    client.enquire_link()
    client.close()
    assert not client.bound
    assert smpp_peer.wait_for(lambda s: s.session_count == 0)


def test_bind_with_a_wrong_password_is_refused_and_a_send_stays_retryable(smpp_peer):  # noqa: F811
    config = SmppConfig(host="127.0.0.1", port=smpp_peer.port, system_id="okno", password="wrong")
    with pytest.raises(SmppBindError) as err:
        SmppClient(config).connect()
    assert err.value.status == p.ESME_RINVPASWD
    transport = SmppTransport(config)
    result = transport.send(sms("Test"))
    assert (result.ok, result.retryable) == (False, True)
    assert "ESME_RINVPASWD" in result.error
    assert smpp_peer.parts == []


def test_cyrillic_text_round_trips_as_ucs2_to_the_smsc(transport, smpp_peer):  # noqa: F811
    text = "Отключение электроэнергии: ул. Ленина, 5. Восстановим до 18:00 24.11"
    result = transport.send(sms(text))
    assert result.ok and result.provider_id
    (part,) = smpp_peer.parts
    assert part.text == text
    assert (part.data_coding, part.esm_class, part.registered_delivery) == (0x08, 0x00, 1)
    assert (part.dest_ton, part.dest_npi, part.destination) == (1, 1, "79161234567")
    assert (part.source_ton, part.source, part.system_id) == (5, "Okno", "okno")
    assert part.message_id == result.provider_id


def test_plain_latin_goes_as_gsm_7bit(transport, smpp_peer):  # noqa: F811
    assert transport.send(sms("Power restored at 18:05. Okno")).ok
    assert smpp_peer.parts[0].data_coding == 0x00
    assert smpp_peer.messages[0].text == "Power restored at 18:05. Okno"


def test_a_long_message_goes_as_concatenated_parts_and_is_reassembled(transport, smpp_peer):  # noqa: F811
    text = ("Плановое отключение 25.11 с 09:00 до 17:00, ул. Садовая 1-15. " * 4).strip()
    assert len(text) == 247  # 67 + 67 + 67 + 46 → four UCS-2 parts
    result = transport.send(sms(text))
    assert result.ok
    assert [len(x.text) for x in smpp_peer.parts] == [67, 67, 67, 46]
    refs = {x.udh.reference for x in smpp_peer.parts}
    assert len(refs) == 1
    assert [(x.udh.total, x.udh.sequence) for x in smpp_peer.parts] == [(4, 1), (4, 2), (4, 3), (4, 4)]
    assert all(x.esm_class & 0x40 for x in smpp_peer.parts)
    (message,) = smpp_peer.messages
    assert message.text == text
    assert result.provider_id == message.message_ids[0]


def test_receipts_come_back_as_deliver_sm_and_reach_the_callback(transport, smpp_peer, receipts):  # noqa: F811
    first = transport.send(sms("Свет включён", notice_id=1))
    second = transport.send(sms("Свет включён", notice_id=2, to="+79031112233"))
    assert smpp_peer.wait_for(lambda s: len(s.receipts_sent) == 2)
    deadline = time.monotonic() + 5
    while len(receipts) < 2 and time.monotonic() < deadline:
        transport.poll(0.2)
    assert receipts == [(first.provider_id, "DELIVRD", "000"), (second.provider_id, "DELIVRD", "000")]
    assert smpp_peer.wait_for(lambda s: len(s.receipts_acked) == 2)
    assert all(status == p.ESME_ROK for _, status in smpp_peer.receipts_acked)


def test_the_parts_receipts_of_a_long_message_fold_into_one(transport, smpp_peer, receipts):  # noqa: F811
    smpp_peer.receipt_states["79031112233"] = "UNDELIV"
    ok = transport.send(sms("ж" * 100, notice_id=1))
    bad = transport.send(sms("ж" * 100, notice_id=2, to="+79031112233"))
    assert smpp_peer.wait_for(lambda s: len(s.receipts_sent) == 4)
    deadline = time.monotonic() + 5
    while len(smpp_peer.receipts_acked) < 4 and time.monotonic() < deadline:
        transport.poll(0.2)
    # Four part receipts (some arrived while later parts were still being submitted), two notices' receipts.
    assert sorted(receipts) == sorted(
        [(ok.provider_id, "DELIVRD", "000"), (bad.provider_id, "UNDELIV", "001")]
    )


def test_a_late_delivered_part_does_not_undo_a_failed_one():
    got = []
    fold = _ReceiptFold(lambda *a: got.append(a))
    fold.hold()
    fold("p1", "DELIVRD", "000")  # arrives while p2 and p3 are still being submitted
    fold.release(["p1", "p2", "p3"])
    assert got == []
    fold("p2", "ENROUTE", "000")  # not final: ignored
    fold("p3", "UNDELIV", "011")
    assert got == [("p1", "UNDELIV", "011")]
    fold("p2", "DELIVRD", "000")
    assert got == [("p1", "UNDELIV", "011")]  # reported once; the group is then forgotten
    fold("q1", "DELIVRD", "000")  # a single-part message's receipt passes straight through
    assert got[-1] == ("q1", "DELIVRD", "000")


def test_a_failing_receipt_handler_makes_the_smsc_redeliver_later(smpp_peer):  # noqa: F811
    def broken(*args):
        raise RuntimeError("database is down")

    config = SmppConfig(host="127.0.0.1", port=smpp_peer.port, system_id="okno", password=SMPP_PASSWORD)
    transport = SmppTransport(config, on_receipt=broken)
    assert transport.send(sms("x")).ok
    assert smpp_peer.wait_for(lambda s: len(s.receipts_sent) == 1)
    transport.poll(0.5)
    assert smpp_peer.wait_for(lambda s: len(s.receipts_acked) == 1)
    assert smpp_peer.receipts_acked[0][1] == p.ESME_RX_T_APPN
    transport.close()


def test_throttling_and_system_errors_are_retryable(transport, smpp_peer):  # noqa: F811
    smpp_peer.fail_next("throttle")
    smpp_peer.fail_next("system_error")
    throttled = transport.send(sms("a"))
    failed = transport.send(sms("b"))
    assert (throttled.ok, throttled.retryable, throttled.error) == (False, True, "submit_sm: ESME_RTHROTTLED")
    assert (failed.ok, failed.retryable, failed.error) == (False, True, "submit_sm: ESME_RSYSERR")
    assert transport.send(sms("c")).ok  # the session survives provider errors
    assert [m.text for m in smpp_peer.messages] == ["c"]
    assert len(smpp_peer.binds) == 1


def test_an_invalid_destination_is_a_permanent_failure(transport, smpp_peer):  # noqa: F811
    smpp_peer.invalid_destinations.add("79990000000")
    result = transport.send(sms("x", to="+79990000000"))
    assert (result.ok, result.retryable, result.error) == (False, False, "submit_sm: ESME_RINVDSTADR")
    smpp_peer.fail_next("invalid_dest")
    assert transport.send(sms("y")).retryable is False


def test_a_recipient_that_is_no_phone_number_fails_for_good_without_reaching_the_smsc(transport, smpp_peer):  # noqa: F811
    result = transport.send(sms("x", to="ivanov@example.ru"))
    assert (result.ok, result.retryable) == (False, False)
    assert smpp_peer.binds == []


def test_a_connection_dropped_mid_submit_is_retryable_and_the_next_send_reconnects(transport, smpp_peer):  # noqa: F811
    assert transport.send(sms("one")).ok
    smpp_peer.fail_next("drop")
    dropped = transport.send(sms("two"))
    assert (dropped.ok, dropped.retryable) == (False, True)
    assert transport.send(sms("three")).ok
    assert [m.text for m in smpp_peer.messages] == ["one", "three"]
    assert [b[2] for b in smpp_peer.binds] == [0, 0]  # bound again on a new connection


def test_a_connection_closed_while_idle_is_reopened_transparently(transport, smpp_peer):  # noqa: F811
    assert transport.send(sms("one")).ok
    smpp_peer.drop_connections()
    assert smpp_peer.wait_for(lambda s: s.session_count == 0)
    assert transport.send(sms("two")).ok  # nothing of "two" had gone out, so no failure is reported
    assert [m.text for m in smpp_peer.messages] == ["one", "two"]
    assert len(smpp_peer.binds) == 2


def test_an_smsc_that_is_down_gives_a_retryable_failure():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    transport = SmppTransport(SmppConfig(host="127.0.0.1", port=port, system_id="x", password="y", timeout=1))
    result = transport.send(sms("x"))
    assert (result.ok, result.retryable) == (False, True)
    assert "cannot connect" in result.error


def test_an_idle_session_is_probed_with_enquire_link(smpp_peer):  # noqa: F811
    config = SmppConfig(
        host="127.0.0.1",
        port=smpp_peer.port,
        system_id="okno",
        password=SMPP_PASSWORD,
        enquire_link_interval=0,
    )
    transport = SmppTransport(config)
    assert transport.send(sms("one")).ok
    assert transport.send(sms("two")).ok
    assert len(smpp_peer.binds) == 1
    transport.close()


def test_settings_the_protocol_cannot_carry_are_a_retryable_configuration_error(smpp_peer):  # noqa: F811
    config = SmppConfig(host="127.0.0.1", port=smpp_peer.port, system_id="a-system-id-too-long", password="x")
    result = SmppTransport(config).send(sms("x"))
    assert (result.ok, result.retryable) == (False, True)
    assert result.error.startswith("SMPP settings: system_id")
    assert not SmppTransport(config).client.bound
    assert smpp_peer.binds == []


def test_sequence_numbers_increase_per_pdu(smpp_peer):  # noqa: F811
    client = SmppClient(
        SmppConfig(host="127.0.0.1", port=smpp_peer.port, system_id="okno", password=SMPP_PASSWORD)
    )
    client.connect()  # sequence 1
    pdus = p.submit_sm_pdus(source="Okno", destination=PHONE, text="x", reference=1, first_sequence=1)
    resp = client.submit(pdus[0])
    assert (resp.sequence, resp.command_id, resp.status) == (2, 0x80000004, 0)
    client.close()


def test_the_registry_builds_the_smpp_transport_from_settings(smpp_peer, receipts):  # noqa: F811
    transport = get_transport("sms", on_receipt=lambda *a: receipts.append(a))
    assert isinstance(transport, SmppTransport)
    result = transport.send(sms("Свет"))
    transport.poll(1.0)
    transport.close()
    assert receipts == [(result.provider_id, "DELIVRD", "000")]


def test_a_transmitter_bind_gets_its_receipts_on_a_separate_receiver_session(smpp_peer):  # noqa: F811
    got = []
    receiver = SmppClient(
        SmppConfig(
            host="127.0.0.1", port=smpp_peer.port, system_id="okno", password=SMPP_PASSWORD, bind="receiver"
        ),
        on_receipt=lambda *a: got.append(a),
    )
    receiver.connect()
    sender = SmppTransport(
        SmppConfig(
            host="127.0.0.1",
            port=smpp_peer.port,
            system_id="okno",
            password=SMPP_PASSWORD,
            bind="transmitter",
        )
    )
    result = sender.send(sms("x"))
    receiver.poll(1.0)
    assert got == [(result.provider_id, "DELIVRD", "000")]
    sender.close()
    receiver.close()


def test_the_server_answers_unknown_commands_with_generic_nack_and_refuses_unbound_submits():
    server = SmppServer().start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=2) as s:
            s.sendall(p.encode(p.Pdu(command_id=0x00000103, sequence=1)))
            s.sendall(
                p.encode(
                    p.submit_sm_pdus(source="A", destination=PHONE, text="x", reference=1, first_sequence=2)[
                        0
                    ]
                )
            )
            buf = bytearray()
            pdus = []
            while len(pdus) < 2:
                buf += s.recv(4096)
                while (pdu := p.split_stream(buf)) is not None:
                    pdus.append(pdu)
        assert (pdus[0].command_id, pdus[0].status) == (p.GENERIC_NACK, p.ESME_RINVCMDID)
        assert (pdus[1].command_id, pdus[1].status) == (0x80000004, p.ESME_RINVBNDSTS)
    finally:
        server.stop()
