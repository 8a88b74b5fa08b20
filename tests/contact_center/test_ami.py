"""The AMI client against a loopback Asterisk Manager: a server that greets with the banner, answers
``Action: Login`` (and ``Ping``) and emits app_queue's events; events in, ``Call``/``CallEvent`` rows and
agent states out. The client writes from its own thread, hence ``transaction=True``."""

from __future__ import annotations

import asyncio
import time

import pytest

from okno.contact_center import engine
from okno.contact_center.flows import ensure_defaults
from okno.contact_center.models import Agent, Call, CallEvent, Queue, Skill
from okno.contact_center.telephony import ami, mirror
from okno.contact_center.telephony.ami import AmiAuthError, AmiBrokenMessage, AmiClient, AmiProtocolError
from okno.customers.models import ContactEvent

IVANOV_PHONE = "+79123456789"
USER, SECRET = "okno", "s3cret"


def block(**fields: object) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n").encode()


class FakeManager:
    """A loopback AMI server. ``batches[i]`` are the raw messages sent on the i-th connection after a
    successful login; ``close_after`` drops each connection after its batch (except the last)."""

    def __init__(
        self,
        batches: list[list[bytes]],
        *,
        banner: str = "Asterisk Call Manager/9.0.0",
        close_after: bool = False,
    ):
        self.batches = batches
        self.banner = banner
        self.close_after = close_after
        self.logins: list[dict[str, str]] = []
        self.actions: list[str] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _read(self, reader: asyncio.StreamReader) -> dict[str, str]:
        message: dict[str, str] = {}
        while True:
            line = (await reader.readline()).decode()
            if not line:
                raise ConnectionResetError
            line = line.rstrip("\r\n")
            if not line:
                return message
            key, _sep, value = line.partition(": ")
            message[key] = value

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = len(self.logins)
        try:
            writer.write(f"{self.banner}\r\n".encode())
            login = await self._read(reader)
            self.logins.append(login)
            if login.get("Username") != USER or login.get("Secret") != SECRET:
                writer.write(
                    block(
                        Response="Error", ActionID=login.get("ActionID", ""), Message="Authentication failed"
                    )
                )
                await writer.drain()
                return
            writer.write(
                block(
                    Response="Success", ActionID=login.get("ActionID", ""), Message="Authentication accepted"
                )
            )
            writer.write(block(Event="FullyBooted", Privilege="system,all", Status="Fully Booted"))
            for message in (
                self.batches[min(connection, len(self.batches) - 1)] if connection < len(self.batches) else []
            ):
                writer.write(message)
            await writer.drain()
            if self.close_after and connection < len(self.batches) - 1:
                return
            while True:
                action = await self._read(reader)
                self.actions.append(action.get("Action", ""))
                if action.get("Action") == "Ping":
                    writer.write(block(Response="Success", ActionID=action.get("ActionID", ""), Ping="Pong"))
                elif action.get("Action") == "Logoff":
                    writer.write(block(Response="Goodbye", ActionID=action.get("ActionID", "")))
                    await writer.drain()
                    return
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


def run_client(manager: FakeManager, until, *, secret: str = SECRET, timeout_s: float = 20.0, **options):
    """Run the client against ``manager`` until ``until(client)`` holds, then stop it; the client."""

    async def scenario():
        port = await manager.start()
        client = AmiClient(
            "127.0.0.1", port, username=USER, secret=secret, timeout_s=5, min_backoff_s=0.05, **options
        )
        task = asyncio.create_task(client.run())
        deadline = time.monotonic() + timeout_s
        try:
            while not until(client) and time.monotonic() < deadline and not task.done():
                await asyncio.sleep(0.02)
            if task.done():
                task.result()  # re-raise the client's error
        finally:
            client.stop()
            await asyncio.wait_for(asyncio.shield(task), 10) if not task.done() else None
            await manager.close()
        return client

    return asyncio.run(scenario())


@pytest.fixture
def cc(transactional_db, org):
    ensure_defaults()
    queues = {q.code: q for q in Queue.objects.all()}
    alice = Agent.objects.create(user=org.cc_operator, extension="101")
    Skill.objects.create(agent=alice, queue=queues["general"], penalty=0)
    return type("CC", (), {"alice": alice, "queues": queues})


# --------------------------------------------------------------------------------------------------- parsing


def test_parse_message_and_format_action():
    assert ami.parse_message(["Event: QueueCallerJoin", "Queue: general", "Position: 1"]) == {
        "Event": "QueueCallerJoin",
        "Queue": "general",
        "Position": "1",
    }
    assert ami.parse_message(["Message: a: b"]) == {"Message": "a: b"}
    with pytest.raises(AmiBrokenMessage):
        ami.parse_message(["Event: X", "this line has no colon"])
    assert (
        ami.format_action("Login", {"Username": "u", "Secret": "p"})
        == b"Action: Login\r\nUsername: u\r\nSecret: p\r\n\r\n"
    )
    with pytest.raises(ValueError):
        ami.format_action("Login", {"Secret": "p\r\nAction: Originate"})


def test_agent_interface_finds_the_agent(cc):
    assert mirror.agent_for("PJSIP/101") == cc.alice
    assert mirror.agent_for("Local/101@agents/n") == cc.alice
    assert mirror.agent_for(f"Agent/{cc.alice.user.username}") == cc.alice
    assert mirror.agent_for("PJSIP/999") is None
    assert mirror.agent_for("") is None


# --------------------------------------------------------------------------------------------------- events in, rows out


def test_queue_events_become_calls_events_and_agent_states(cc, org, customers):
    call, _turn = engine.incoming_call(caller=IVANOV_PHONE, telephony_id="1700000000.5")
    mirror.note_transfer(call.pk, "general")
    stamp = time.time()
    batch = [
        block(
            Event="QueueMemberAdded",
            Queue="general",
            MemberName="Кузнецова",
            Interface="PJSIP/101",
            Status="1",
            Paused="0",
        ),
        block(
            Event="QueueCallerJoin",
            Channel="PJSIP/trunk-00000005",
            CallerIDNum="89123456789",
            Uniqueid="1700000000.5",
            Linkedid="1700000000.5",
            Queue="general",
            Position="1",
            Count="1",
        ),
        block(
            Event="AgentCalled",
            Queue="general",
            Uniqueid="1700000000.5",
            Interface="PJSIP/101",
            DestChannel="PJSIP/101-01",
        ),
        b"this is not a header line\r\nEvent: Garbage\r\n\r\n",
        block(
            Event="AgentConnect",
            Queue="general",
            Uniqueid="1700000000.5",
            Linkedid="1700000000.5",
            Interface="PJSIP/101",
            MemberName="Кузнецова",
            HoldTime="12",
            RingTime="3",
            DestUniqueid="1700000000.6",
            Timestamp=f"{stamp:.6f}",
        ),
        block(
            Event="AgentComplete",
            Queue="general",
            Uniqueid="1700000000.5",
            Interface="PJSIP/101",
            HoldTime="12",
            TalkTime="95",
            Reason="caller",
        ),
        # A call that reached the queue without Okno's IVR, and gave up.
        block(
            Event="QueueCallerJoin",
            CallerIDNum="89990001122",
            Uniqueid="1700000000.9",
            Queue="general",
            Position="1",
            Count="1",
        ),
        block(Event="QueueCallerLeave", Uniqueid="1700000000.9", Queue="general", Position="1", Count="0"),
        block(
            Event="QueueCallerAbandon",
            Uniqueid="1700000000.9",
            Queue="general",
            Position="1",
            OriginalPosition="1",
            HoldTime="40",
        ),
        block(
            Event="QueueMemberPause", Queue="general", Interface="PJSIP/101", Paused="1", PausedReason="lunch"
        ),
        block(Event="Newchannel", Channel="PJSIP/x", Uniqueid="1700000001.1"),
    ]
    client = run_client(FakeManager([batch]), lambda c: c.received >= 11)
    assert client.skipped == 1 and client.errors == 0

    call.refresh_from_db()
    cc.alice.refresh_from_db()
    assert call.outcome == "answered" and call.agent_id == cc.alice.pk
    assert call.queue.code == "general" and call.ended_at is not None
    assert abs(call.answered_at.timestamp() - stamp) < 0.01  # the event's own time
    events = [(e.event, e.queue, e.agent, e.data) for e in CallEvent.objects.filter(call=call).order_by("id")]
    assert events == [
        ("ENTERQUEUE", "general", "NONE", ["", IVANOV_PHONE, "1"]),
        ("CONNECT", "general", "PJSIP/101", ["12", "1700000000.6", "3"]),
        ("COMPLETECALLER", "general", "PJSIP/101", ["12", "95", "1"]),
    ]
    # The agent waits in wrap-up… until the pause that came later: a pause during wrap-up keeps wrap-up.
    assert cc.alice.state == "wrap_up"
    assert list(CallEvent.objects.filter(call=None).values_list("event", "agent", "data")) == [
        ("ADDMEMBER", "PJSIP/101", []),
        ("PAUSE", "PJSIP/101", ["lunch"]),
    ]

    other = Call.objects.get(telephony_id="1700000000.9")
    assert (
        other.outcome == "abandoned"
        and other.caller == "+79990001122"
        and other.ivr_state["routed_by"] == "asterisk"
    )
    assert list(other.events.values_list("event", "data")) == [
        ("ENTERQUEUE", ["", "+79990001122", "1"]),
        ("ABANDON", ["1", "1", "40"]),
    ]

    board = engine.wallboard()["general"]
    assert (board["offered"], board["answered"], board["abandoned"]) == (2, 1, 1)

    # The agent wraps up on the desk as for any call: the customer's history gets the call.
    engine.wrap_up(call, code="resolved", actor=org.cc_operator)
    cc.alice.refresh_from_db()
    assert cc.alice.state == "available"
    assert ContactEvent.objects.filter(customer=customers.ivanov, kind="call").count() == 1


def test_member_status_and_device_state_move_the_agent(cc):
    batch = [
        block(Event="QueueMemberStatus", Queue="general", Interface="PJSIP/101", Status="1", Paused="0"),
        block(Event="DeviceStateChange", Device="PJSIP/101", State="NOT_INUSE"),  # says nothing about queues
        block(Event="DeviceStateChange", Device="PJSIP/101", State="UNAVAILABLE"),
    ]
    client = run_client(FakeManager([batch]), lambda c: c.received >= 4)
    assert client.handled == 2  # available, then offline
    cc.alice.refresh_from_db()
    assert cc.alice.state == "offline"
    assert mirror.member_status({"Interface": "PJSIP/101", "Status": "1", "Paused": "1"}) is not None
    cc.alice.refresh_from_db()
    assert cc.alice.state == "break"


def test_bad_credentials_are_a_clear_error_and_not_retried(cc):
    manager = FakeManager([[]])
    with pytest.raises(AmiAuthError, match="Authentication failed"):
        run_client(manager, lambda c: False, secret="wrong", timeout_s=5)
    assert len(manager.logins) == 1 and manager.logins[0]["Username"] == USER


def test_not_an_ami_server(cc):
    manager = FakeManager([[]], banner="SSH-2.0-OpenSSH_9.2")
    with pytest.raises(AmiProtocolError):
        run_client(manager, lambda c: False, timeout_s=5)


def test_reconnects_after_the_connection_drops(cc):
    first = [block(Event="QueueMemberAdded", Queue="general", Interface="PJSIP/101", Status="1", Paused="0")]
    second = [
        block(
            Event="QueueMemberPause", Queue="general", Interface="PJSIP/101", Paused="1", PausedReason="break"
        )
    ]
    manager = FakeManager([first, second], close_after=True)
    client = run_client(manager, lambda c: c.received >= 4)  # FullyBooted + one event, twice
    assert client.connections == 2 and len(manager.logins) == 2
    assert list(CallEvent.objects.values_list("event", flat=True)) == ["ADDMEMBER", "PAUSE"]
    cc.alice.refresh_from_db()
    assert cc.alice.state == "break"


def test_a_quiet_line_is_pinged(cc):
    manager = FakeManager([[]])
    run_client(manager, lambda c: "Ping" in manager.actions, idle_s=0.2, timeout_s=5)
    assert "Ping" in manager.actions


def test_unknown_server_is_retried_with_backoff(cc):
    async def scenario():
        client = AmiClient(
            "127.0.0.1", 9, username=USER, secret=SECRET, timeout_s=1, min_backoff_s=0.05, max_backoff_s=0.1
        )
        task = asyncio.create_task(client.run())
        await asyncio.sleep(0.5)
        client.stop()
        await asyncio.wait_for(task, 5)
        return client

    client = asyncio.run(scenario())
    assert client.connections == 0  # refused each time, never crashed


def test_command_reports_refused_login_with_status_2(cc, capsys):
    import threading

    from django.core.management import call_command

    manager = FakeManager([[]])
    loop = asyncio.new_event_loop()
    started = threading.Event()

    def serve():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(manager.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(5)
    try:
        with pytest.raises(SystemExit) as exit_info:
            call_command(
                "cc",
                "ami",
                "--host",
                "127.0.0.1",
                "--port",
                str(manager.port),
                "--user",
                USER,
                "--secret",
                "nope",
            )
        assert exit_info.value.code == 2
        assert "Authentication failed" in capsys.readouterr().err
    finally:
        asyncio.run_coroutine_threadsafe(manager.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_bind_option_is_parsed():
    from django.core.management.base import CommandError

    from okno.contact_center.management.commands.cc import parse_bind

    assert parse_bind("192.0.2.10:4573") == ("192.0.2.10", 4573)
    assert parse_bind("[::1]:4000") == ("::1", 4000)
    assert parse_bind("10.0.0.5") == ("10.0.0.5", 4573)
    with pytest.raises(CommandError):
        parse_bind("host:http")
