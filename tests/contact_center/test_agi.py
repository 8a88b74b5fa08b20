"""The FastAGI server against a loopback Asterisk: a client that connects like Asterisk does, sends the
``agi_*`` header and answers each command as Asterisk would (``200 result=…``, ``HANGUP`` on hangup).

The server writes to the database from its own thread, hence ``transaction=True``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from okno.contact_center import engine
from okno.contact_center.flows import ensure_defaults
from okno.contact_center.ivr import Expect
from okno.contact_center.models import Call
from okno.contact_center.telephony import agi
from okno.contact_center.telephony.agi import AgiConfig, AgiProtocolError, AgiServer

IVANOV_PHONE = "+79123456789"
STEP_S = 10  # the most any one read in these tests may wait


# --------------------------------------------------------------------------------------------------- parsers


def test_parse_response_reads_results_data_and_extras():
    r = agi.parse_response("200 result=0 endpos=1234")
    assert (r.code, r.result, r.extra) == (200, "0", {"endpos": "1234"})
    r = agi.parse_response("200 result=12 (timeout)")
    assert (r.result, r.data) == ("12", "timeout")
    r = agi.parse_response("200 result= (timeout)")
    assert (r.result, r.data) == ("", "timeout")
    r = agi.parse_response("200 result=1 (some value)")
    assert r.data == "some value"
    assert agi.parse_response("510 Invalid or unknown command").code == 510
    with pytest.raises(AgiProtocolError):
        agi.parse_response("hello there")
    with pytest.raises(AgiProtocolError):
        agi.parse_response("200 endpos=1")


def test_parse_env_and_flow_code():
    env = agi.parse_env(["agi_network: yes", "agi_network_script: main", "agi_callerid: 89123456789"])
    assert env["agi_callerid"] == "89123456789"
    with pytest.raises(AgiProtocolError):
        agi.parse_env(["GET / HTTP/1.1"])
    with pytest.raises(AgiProtocolError):
        agi.parse_env(["agi_callerid: 1"])  # no agi_request / agi_network / agi_channel
    assert agi.flow_code("main") == "main"
    assert agi.flow_code("/ivr/emergency?x=1") == "emergency"
    assert agi.flow_code("") == "main"
    assert agi.flow_code("../../etc passwd") == "main"


def test_quote_makes_one_argument_that_survives_agi_and_application_parsing():
    assert agi.quote('Привет, "мир"\nещё') == "\"Привет\\\\, 'мир' ещё\""
    assert "\n" not in agi.quote("a\r\nb")


# --------------------------------------------------------------------------------------------------- the loopback Asterisk


def header(*, caller: str, uniqueid: str, script: str = "main", dnid: str = "88000000000") -> bytes:
    lines = [
        "agi_network: yes",
        f"agi_network_script: {script}",
        f"agi_request: agi://127.0.0.1/{script}",
        "agi_channel: PJSIP/trunk-00000001",
        "agi_language: ru",
        "agi_type: PJSIP",
        f"agi_uniqueid: {uniqueid}",
        "agi_version: 20.5.0",
        f"agi_callerid: {caller}",
        "agi_calleridname: unknown",
        f"agi_dnid: {dnid}",
        "agi_context: from-trunk",
        "agi_extension: 88000000000",
        "agi_priority: 2",
        "agi_enhanced: 0.0",
        "agi_threadid: 140000000000000",
    ]
    return ("\n".join(lines) + "\n\n").encode()


@dataclass
class Phone:
    """One caller on the loopback Asterisk: ``keys`` answer the GET DATA commands in turn (``None``:
    silence, ``"HANGUP"``: the caller hangs up); ``reply`` may override any answer."""

    caller: str
    uniqueid: str
    keys: list[str | None] = field(default_factory=list)
    script: str = "main"
    raw_header: bytes | None = None
    reply: Callable[[str], bytes | None] | None = None
    commands: list[str] = field(default_factory=list)

    def answer(self, command: str) -> bytes | None:
        if self.reply is not None:
            custom = self.reply(command)
            if custom is not None:
                return custom
        if command.startswith("GET DATA"):
            key = self.keys.pop(0) if self.keys else "HANGUP"
            if key == "HANGUP":
                return b"HANGUP\n200 result=-1\n"
            if key is None:
                return b"200 result= (timeout)\n"
            return f"200 result={key}\n".encode()
        if command.startswith("STREAM FILE"):
            return b"200 result=0 endpos=16000\n"
        if command.startswith(("SET VARIABLE", "HANGUP")):
            return b"200 result=1\n"
        if command.startswith("EXEC"):
            return b"200 result=0\n"
        return b"510 Invalid or unknown command\n"

    async def call(self, port: int) -> list[str]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                self.raw_header
                if self.raw_header is not None
                else header(caller=self.caller, uniqueid=self.uniqueid, script=self.script)
            )
            await writer.drain()
            while True:
                line = await asyncio.wait_for(reader.readline(), STEP_S)
                if not line:
                    return self.commands
                command = line.decode().rstrip("\n")
                self.commands.append(command)
                answer = self.answer(command)
                if answer is None:
                    return self.commands
                writer.write(answer)
                await writer.drain()
                if answer.startswith(b"HANGUP"):
                    # Asterisk answers what comes after a hangup with 511 until the script ends.
                    self.reply = lambda _c: (
                        b"511 Command Not Permitted on a dead channel or intercept routine\n"
                    )
        finally:
            writer.close()


def run_calls(
    phones: list[Phone], config: AgiConfig | None = None, extra: Callable[[int], object] | None = None
):
    """Start a server on a free port, run the phones at once, close the server; (server, command lists)."""

    async def scenario():
        server = AgiServer(config or AgiConfig(db_threads=1))
        _host, port = await server.start("127.0.0.1", 0)
        try:
            if extra is not None:
                await extra(port)
            results = await asyncio.wait_for(asyncio.gather(*(p.call(port) for p in phones)), 60)
        finally:
            await server.close()
        return server, results

    return asyncio.run(scenario())


@pytest.fixture
def cc(transactional_db, org):
    ensure_defaults()


def _festival(commands):
    return [c for c in commands if c.startswith("EXEC Festival")]


# --------------------------------------------------------------------------------------------------- calls


def test_caller_hears_the_menu_and_reaches_the_operator_queue(cc, customers):
    phone = Phone(IVANOV_PHONE, "1700000000.1", keys=["0"])
    server, [commands] = run_calls([phone])
    call = Call.objects.get(telephony_id="1700000000.1")
    assert call.caller == IVANOV_PHONE and call.customer_id == customers.ivanov.pk
    assert call.called == "88000000000"
    assert _festival(commands)[0].startswith(
        'EXEC Festival "Hello! You have called the electric grid company."'
    )
    assert any("press 1" in c for c in _festival(commands))
    assert "GET DATA silence/1 6000 1" in commands
    assert commands[-3:] == [
        "SET VARIABLE OKNO_QUEUE general",
        f"SET VARIABLE OKNO_CALL {call.uid}",
        "EXEC Queue general",
    ]
    assert call.ivr_path[-2:] == ["0", "operator"]
    assert call.ivr_state["routed_by"] == "asterisk" and call.ivr_state["transfer"]["queue"] == "general"
    assert call.outcome == "in_ivr"  # the queue part comes from the AMI
    assert (server.served, server.failed) == (1, 0)


def test_self_service_balance_then_goodbye_hangs_up(cc, customers):
    phone = Phone(IVANOV_PHONE, "1700000000.2", keys=["3", "2", "9"])
    _server, [commands] = run_calls([phone])
    assert any("no debt" in c for c in _festival(commands))
    assert commands[-1] == "HANGUP"
    assert any("Goodbye" in c for c in _festival(commands))
    call = Call.objects.get(telephony_id="1700000000.2")
    assert call.outcome == "self_service" and call.ended_at is not None


def test_account_number_is_collected_with_up_to_20_digits(cc, customers):
    number = customers.acc_ivanov.number
    phone = Phone("+79990000001", "1700000000.3", keys=["3", number, "2", "9"])
    _server, [commands] = run_calls([phone])
    assert "GET DATA silence/1 10000 20" in commands
    call = Call.objects.get(telephony_id="1700000000.3")
    assert call.account_id == customers.acc_ivanov.pk


def test_recorded_prompts_are_streamed_and_the_last_one_plays_inside_get_data(cc, customers):
    config = AgiConfig(
        db_threads=1, recordings=frozenset({"greeting", "main_menu"}), recording_path="okno/{language}/{key}"
    )
    phone = Phone(IVANOV_PHONE, "1700000000.4", keys=["0"])
    _server, [commands] = run_calls([phone], config)
    assert commands[0] == 'STREAM FILE okno/ru/greeting ""'
    assert "GET DATA okno/ru/main_menu 6000 1" in commands
    assert not any("press 1" in c for c in _festival(commands))  # the menu was not spoken by TTS as well


def test_tts_command_is_a_setting(cc, customers, settings):
    settings.CC_AGI_TTS_COMMAND = "EXEC MRCPSynth {text}"
    phone = Phone(IVANOV_PHONE, "1700000000.5", keys=["0"])
    _server, [commands] = run_calls([phone], AgiConfig.from_settings())
    assert commands[0].startswith('EXEC MRCPSynth "Hello!')


def test_silence_is_re_prompted_then_the_operator(cc, customers):
    phone = Phone(IVANOV_PHONE, "1700000000.6", keys=[None, None, None])
    _server, [commands] = run_calls([phone])
    assert sum(c.startswith("GET DATA") for c in commands) == 3
    assert any("not recognised" in c for c in _festival(commands))
    assert commands[-1] == "EXEC Queue general"


def test_caller_hanging_up_in_the_ivr_abandons_the_call(cc, customers):
    phone = Phone(IVANOV_PHONE, "1700000000.7", keys=["HANGUP"])
    server, [commands] = run_calls([phone])
    assert commands[-1].startswith("GET DATA")  # nothing is sent after the hangup
    call = Call.objects.get(telephony_id="1700000000.7")
    assert call.outcome == "abandoned" and call.ended_at is not None
    assert server.failed == 0


def test_hangup_line_during_a_prompt_ends_the_call(cc, customers):
    def reply(command):
        return b"HANGUP\n200 result=-1\n" if command.startswith("EXEC Festival") else None

    phone = Phone(IVANOV_PHONE, "1700000000.8", reply=reply)
    _server, [commands] = run_calls([phone])
    assert len(commands) == 1
    assert Call.objects.get(telephony_id="1700000000.8").outcome == "abandoned"


def test_a_refused_tts_command_does_not_stop_the_call(cc, customers):
    def reply(command):
        if command.startswith("EXEC Festival"):
            return b"520-Invalid command syntax.  Proper usage follows:\nUsage: EXEC <application> <options>\n520 End of proper usage.\n"
        return None

    phone = Phone(IVANOV_PHONE, "1700000000.9", keys=["0"], reply=reply)
    _server, [commands] = run_calls([phone])
    assert commands[-1] == "EXEC Queue general"


# --------------------------------------------------------------------------------------------------- robustness


def test_garbage_instead_of_a_header_sends_the_call_to_the_default_queue_and_the_server_goes_on(
    cc, customers
):
    garbage = Phone("", "", raw_header=b"\x00\xff\xfe GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    good = Phone(IVANOV_PHONE, "1700000000.10", keys=["0"])
    server, (bad_commands, good_commands) = run_calls([garbage, good])
    assert bad_commands == ["SET VARIABLE OKNO_QUEUE general", "EXEC Queue general"]
    assert good_commands[-1] == "EXEC Queue general"
    assert Call.objects.count() == 1
    assert server.failed == 1 and server.served == 1


def test_a_half_header_and_a_closed_socket_do_not_stop_the_server(cc, customers):
    async def half(port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"agi_network: yes\nagi_network_script: main\nagi_callerid: 891")
        await writer.drain()
        writer.close()
        reader2, writer2 = await asyncio.open_connection("127.0.0.1", port)
        writer2.close()  # connects and leaves at once
        await asyncio.sleep(0.2)

    phone = Phone(IVANOV_PHONE, "1700000000.11", keys=["0"])
    server, [commands] = run_calls([phone], extra=half)
    assert commands[-1] == "EXEC Queue general"
    assert Call.objects.count() == 1
    assert server.served == 1


def test_a_header_that_never_ends_times_out_to_the_default_queue(cc):
    phone = Phone("", "", raw_header=b"agi_network: yes\nagi_network_script: main\n")
    config = AgiConfig(db_threads=1, header_timeout_s=0.5)
    server, [commands] = run_calls([phone], config)
    assert commands == ["SET VARIABLE OKNO_QUEUE general", "EXEC Queue general"]
    assert server.failed == 1


def test_a_malformed_answer_mid_call_sends_that_call_to_the_default_queue(cc, customers):
    def reply(command):
        return b"\x01\x02 what is this\n" if command.startswith("GET DATA") else None

    phone = Phone(IVANOV_PHONE, "1700000000.12", reply=reply)
    server, [commands] = run_calls([phone])
    call = Call.objects.get(telephony_id="1700000000.12")
    assert commands[-3:] == [
        "SET VARIABLE OKNO_QUEUE general",
        f"SET VARIABLE OKNO_CALL {call.uid}",
        "EXEC Queue general",
    ]
    assert call.ivr_state["transfer"]["queue"] == "general"
    assert server.failed == 1


def test_an_engine_failure_sends_the_call_to_the_configured_default_queue(cc, customers, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(engine, "incoming_call", broken)
    phone = Phone(IVANOV_PHONE, "1700000000.13")
    _server, [commands] = run_calls([phone], AgiConfig(db_threads=1, default_queue="emergency"))
    assert commands == ["SET VARIABLE OKNO_QUEUE emergency", "EXEC Queue emergency"]


def test_return_to_dialplan_instead_of_exec_queue(cc, customers):
    phone = Phone(IVANOV_PHONE, "1700000000.14", keys=["1", "1"])  # power status, then report to the operator
    _server, [commands] = run_calls([phone], AgiConfig(db_threads=1, exec_queue=False))
    assert commands[-2] == "SET VARIABLE OKNO_QUEUE outage"
    assert not any(c.startswith("EXEC Queue") for c in commands)


def test_twenty_calls_at_once(cc, customers):
    phones = [Phone(f"+7999000{i:04d}", f"1700000100.{i}", keys=["0"]) for i in range(20)]
    server, results = run_calls(phones, AgiConfig(db_threads=4))
    assert all(commands[-1] == "EXEC Queue general" for commands in results)
    assert Call.objects.filter(telephony_id__startswith="1700000100.").count() == 20
    assert len({c.caller for c in Call.objects.all()}) == 20
    assert (server.served, server.failed) == (20, 0)


def test_get_data_parses_digits_silence_and_hangup():
    async def scenario():
        answers = iter(
            [
                b"200 result=12*3\n",
                b"200 result=45 (timeout)\n",
                b"200 result= (timeout)\n",
                b"200 result=\n",
                b"200 result=-1\n",
            ]
        )

        async def peer(reader, writer):
            while await reader.readline():
                writer.write(next(answers))
                await writer.drain()
            writer.close()

        server = await asyncio.start_server(peer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        channel = agi.AgiChannel(reader, writer, timeout_s=STEP_S)
        expect = Expect(max_digits=12, timeout_s=5, terminator="#")
        got = [await channel.get_data("silence/1", expect) for _ in range(4)]
        with pytest.raises(agi.AgiHangup):
            await channel.get_data("silence/1", expect)
        await channel.close()
        server.close()
        await server.wait_closed()
        return got, channel.sent

    got, sent = asyncio.run(scenario())
    assert got == ["12*3", "45", None, ""]
    assert sent[0] == "GET DATA silence/1 5000 12"
