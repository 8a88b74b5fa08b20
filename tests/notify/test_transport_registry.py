"""get_transport: real providers when configured, simulated ones (same build path, recorded) otherwise."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from okno.notify.transports import smpp_pdu as p
from okno.notify.transports.base import Message
from okno.notify.transports.registry import (
    DisabledTransport,
    SimulatedTransport,
    available_channels,
    get_transport,
    transport_for,
)
from tests.notify.conftest_transports import smpp_peer  # noqa: F401


@pytest.fixture(autouse=True)
def _unconfigured(settings, tmp_path):
    settings.NOTIFY_SMPP_HOST = ""
    settings.NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY = ""
    settings.NOTIFY_MESSENGER_ADAPTER = "webhook"
    settings.NOTIFY_MESSENGER_WEBHOOK_URL = ""
    settings.NOTIFY_SIMULATE_UNCONFIGURED = True
    settings.NOTIFY_OUTBOX_DIR = str(tmp_path / "outbox")
    SimulatedTransport.outbox.clear()
    yield
    SimulatedTransport.outbox.clear()


def test_unconfigured_sms_is_simulated_through_the_real_pdu_encoder(settings, tmp_path):
    receipts = []
    transport = get_transport("sms", on_receipt=lambda *a: receipts.append(a))
    assert isinstance(transport, SimulatedTransport)
    result = transport.send(Message(1, "sms", "+79161234567", "", "ж" * 100))
    assert result.ok and result.provider_id.startswith("sim-sms-")
    (record,) = SimulatedTransport.outbox
    assert record.wire["parts"] == 2 and record.wire["data_coding"] == 8
    first = p.decode(bytes.fromhex(record.wire["pdus"][0]))
    assert first.str_field("destination_addr") == "79161234567"
    line = json.loads((tmp_path / "outbox" / "sms.jsonl").read_text(encoding="utf-8"))
    assert line["provider_id"] == result.provider_id
    assert transport.poll() == 1
    assert receipts == [(result.provider_id, "DELIVRD", "000")]


def test_a_simulated_send_fails_the_same_way_the_real_one_would():
    result = get_transport("sms").send(Message(1, "sms", "not a phone", "", "x"))
    assert (result.ok, result.retryable) == (False, False)
    push = get_transport("push").send(Message(1, "push", '{"endpoint": 1}', "", "x"))
    assert (push.ok, push.retryable) == (False, False)
    assert SimulatedTransport.outbox == []


def test_simulated_push_is_encrypted_and_signed_and_messenger_is_signed():
    from cryptography.hazmat.primitives.asymmetric import ec

    from okno.notify.transports import webpush as wp

    key = ec.generate_private_key(ec.SECP256R1())
    sub = {
        "endpoint": "https://push.example/x",
        "keys": {
            "p256dh": wp.b64url_encode(wp.public_key_bytes(key.public_key())),
            "auth": wp.b64url_encode(b"a" * 16),
        },
    }
    assert get_transport("push").send(Message(1, "push", json.dumps(sub), "T", "B")).ok
    assert get_transport("messenger").send(Message(2, "messenger", "55", "", "hello")).ok
    push, messenger = SimulatedTransport.outbox
    assert push.wire["headers"]["Content-Encoding"] == "aes128gcm"
    assert push.wire["headers"]["Authorization"].startswith("vapid t=")
    assert messenger.wire["headers"]["X-Okno-Signature"].startswith("sha256=")
    assert json.loads(messenger.wire["body"]) == {"chat_id": "55", "text": "hello", "notice_id": 2}


def test_in_production_an_unconfigured_channel_fails_notices_for_good(settings):
    settings.NOTIFY_SIMULATE_UNCONFIGURED = False
    transport = get_transport("sms")
    assert isinstance(transport, DisabledTransport)
    result = transport.send(Message(1, "sms", "+79161234567", "", "x"))
    assert (result.ok, result.retryable, result.error) == (False, False, "channel sms is not configured")
    assert available_channels() == ["email"]


def test_a_configured_smsc_is_used_and_closed_by_the_context_manager(smpp_peer):  # noqa: F811
    with transport_for("sms", on_receipt=None) as transport:
        assert transport.send(Message(1, "sms", "+79161234567", "", "Hello")).ok
    assert smpp_peer.messages[0].text == "Hello"
    assert smpp_peer.wait_for(lambda s: s.session_count == 0)


def test_unknown_channels_are_refused():
    with pytest.raises(ValueError):
        get_transport("pigeon")


def test_transports_and_send_test_commands(capsys, smpp_peer):  # noqa: F811
    call_command("notify", "transports")
    out = capsys.readouterr().out
    assert f"sms        SMPP 127.0.0.1:{smpp_peer.port} as okno" in out
    assert "push       simulated" in out
    call_command("notify", "send-test", "sms", "+79161234567", "--text", "Проверка", "--wait-receipt", "1")
    out = capsys.readouterr().out
    assert '"ok": true' in out and "DELIVRD" in out
    assert smpp_peer.messages[-1].text == "Проверка"
    smpp_peer.invalid_destinations.add("79990000000")
    with pytest.raises(CommandError, match="ESME_RINVDSTADR"):
        call_command("notify", "send-test", "sms", "+79990000000")


def test_the_smpp_server_command_serves_the_demo(tmp_path):
    """``okno notify smpp-server`` as its own process: bind, submit, receipt, and a clean stop."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from okno.notify.transports.smpp import SmppConfig, SmppTransport
    from tests.notify.conftest_transports import free_port

    port = free_port()
    env = {
        **os.environ,
        "OKNO_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "okno.settings",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "okno.cli",
        "notify",
        "smpp-server",
        "--port",
        str(port),
        "--receipt-delay",
        "0",
    ]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    try:
        assert any("listening on 127.0.0.1:" in line for line in server.stdout)
        receipts = []
        transport = SmppTransport(
            SmppConfig(host="127.0.0.1", port=port, system_id="any", password="any"),
            on_receipt=lambda *a: receipts.append(a),
        )
        result = transport.send(Message(1, "sms", "+79161234567", "", "Свет дали"))
        deadline = time.monotonic() + 5
        while not receipts and time.monotonic() < deadline:
            transport.poll(0.5)
        transport.close()
        assert result.ok
        assert receipts == [(result.provider_id, "DELIVRD", "000")]
        line = next(json.loads(x) for x in server.stdout if x.startswith("{"))  # log lines are mixed in
        assert line == {"to": "79161234567", "from": "Okno", "text": "Свет дали", "ids": [result.provider_id]}
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=10)
    assert server.returncode == 0
    assert "stopped after 1 message(s)" in out
