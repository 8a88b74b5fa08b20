"""The Asterisk queue_log export: lines exactly as app_queue writes them, from events the engine stored."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from io import StringIO

import pytest
from django.core.management import call_command

from okno.contact_center import engine, queue_log
from okno.contact_center.flows import ensure_defaults
from okno.contact_center.models import Agent, Call, CallEvent, Queue, Skill

pytestmark = pytest.mark.django_db

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 1772431200


def _ev(seconds, event, *, call=None, queue="general", agent="NONE", data=()):
    return CallEvent.objects.create(
        call=call,
        at=T0 + dt.timedelta(seconds=seconds),
        queue=queue,
        agent=agent,
        event=event,
        data=list(data),
    )


def test_lines_in_asterisk_format(org):
    queue = Queue.objects.create(code="general", name="General")
    call = Call.objects.create(
        caller="+79123456789", queue=queue, started_at=T0, telephony_id="1772431195.42"
    )
    own = Call.objects.create(caller="+79990000001", queue=queue, started_at=T0)
    _ev(0, "ADDMEMBER", agent="PJSIP/101")
    _ev(1, "ENTERQUEUE", call=call, data=["", "+79123456789", "1"])
    _ev(9, "CONNECT", call=call, agent="PJSIP/101", data=["8", "1772431204.43", "2"])
    _ev(189, "COMPLETECALLER", call=call, agent="PJSIP/101", data=["8", "180", "1"])
    _ev(200, "ENTERQUEUE", call=own, data=["", "+799900|00001\n", "1"])
    _ev(230, "ABANDON", call=own, data=["1", "1", "30"])
    _ev(240, "PAUSE", agent="PJSIP/101", data=["break"])
    _ev(250, "UNPAUSE", agent="PJSIP/101", data=[""])
    _ev(260, "REMOVEMEMBER", agent="PJSIP/101")
    _ev(3600, "ENTERQUEUE", call=call, data=["", "x", "1"])  # outside the period
    lines = list(queue_log.lines(T0, T0 + dt.timedelta(hours=1)))
    assert lines == [
        "1772431200|NONE|general|PJSIP/101|ADDMEMBER|",
        "1772431201|1772431195.42|general|NONE|ENTERQUEUE||+79123456789|1",
        "1772431209|1772431195.42|general|PJSIP/101|CONNECT|8|1772431204.43|2",
        "1772431389|1772431195.42|general|PJSIP/101|COMPLETECALLER|8|180|1",
        f"1772431400|1772431200.{own.pk}|general|NONE|ENTERQUEUE||+799900_00001 |1",
        f"1772431430|1772431200.{own.pk}|general|NONE|ABANDON|1|1|30",
        "1772431440|NONE|general|PJSIP/101|PAUSE|break",
        "1772431450|NONE|general|PJSIP/101|UNPAUSE|",
        "1772431460|NONE|general|PJSIP/101|REMOVEMEMBER|",
    ]
    assert list(queue_log.lines(T0, T0 + dt.timedelta(hours=1), queue="billing")) == []


LINE = re.compile(r"^(\d{10})\|([^|]+)\|([^|]+)\|([^|]+)\|([A-Z]+)\|(.*)$")
DATA_FIELDS = {
    "ENTERQUEUE": r"\|[^|]*\|\d+",  # url|callerid|position
    "CONNECT": r"\d+\|[^|]+\|\d+",  # holdtime|bridgedchanneluniqueid|ringtime
    "COMPLETECALLER": r"\d+\|\d+\|\d+",  # holdtime|calltime|origposition
    "COMPLETEAGENT": r"\d+\|\d+\|\d+",
    "ABANDON": r"\d+\|\d+\|\d+",  # position|origposition|waittime
    "EXITWITHKEY": r"\d+\|\d+\|\d+\|\d+",  # key|position|origposition|waittime
    "RINGNOANSWER": r"\d+",  # ringtime, ms
    "ADDMEMBER": r"",
    "REMOVEMEMBER": r"",
    "PAUSE": r"[^|]*",
    "UNPAUSE": r"[^|]*",
}


def test_a_day_through_the_engine_exports_every_event_in_its_format(org, customers):
    ensure_defaults()
    alice = Agent.objects.create(user=org.cc_operator, extension="101")
    Skill.objects.create(agent=alice, queue=Queue.objects.get(code="general"))
    start = dt.datetime.now(tz=UTC) - dt.timedelta(minutes=1)
    engine.set_agent_state(alice, "available", actor=org.cc_operator)  # ADDMEMBER
    answered, _ = engine.incoming_call(caller="+79123456789", telephony_id="1772431195.7")
    engine.enqueue(answered, "general")  # ENTERQUEUE, CONNECT
    waiting, _ = engine.incoming_call(caller="+79990000002")
    engine.enqueue(waiting, "general")
    leaving, _ = engine.incoming_call(caller="+79990000003")
    engine.enqueue(leaving, "general")
    engine.request_callback(leaving)  # EXITWITHKEY
    engine.hangup(waiting)  # ABANDON
    engine.hangup(answered, by="caller")  # COMPLETECALLER
    out = engine.wrap_up(answered, code="resolved", actor=org.cc_operator)  # the callback is dialled
    assert out.pk == answered.pk
    dialled = engine.current_call(alice)
    assert dialled is not None and dialled.direction == "outbound"
    engine.hangup(dialled, by="no_answer")  # RINGNOANSWER
    engine.set_agent_state(alice, "break", actor=org.cc_operator)  # PAUSE
    engine.set_agent_state(alice, "available", actor=org.cc_operator)  # UNPAUSE
    engine.set_agent_state(alice, "offline", actor=org.cc_operator)  # REMOVEMEMBER
    end = dt.datetime.now(tz=UTC) + dt.timedelta(minutes=1)

    out_io = StringIO()
    call_command("cc_stats", "queue-log", "--from", start.isoformat(), "--to", end.isoformat(), stdout=out_io)
    lines = out_io.getvalue().splitlines()
    seen = []
    for text in lines:
        m = LINE.match(text)
        assert m, text
        epoch, uid, queue, agent, event, data = m.groups()
        assert int(start.timestamp()) <= int(epoch) <= int(end.timestamp())
        assert queue == "general"
        assert re.fullmatch(DATA_FIELDS[event], data), text
        seen.append((event, uid, agent))
    events = [e for e, _u, _a in seen]
    for name in (
        "ADDMEMBER",
        "ENTERQUEUE",
        "CONNECT",
        "EXITWITHKEY",
        "ABANDON",
        "COMPLETECALLER",
        "RINGNOANSWER",
        "PAUSE",
        "UNPAUSE",
        "REMOVEMEMBER",
    ):
        assert name in events, name
    assert events.index("ADDMEMBER") < events.index("CONNECT") < events.index("COMPLETECALLER")
    # the answered call carries the adapter's uniqueid; the agent events none
    assert ("ENTERQUEUE", "1772431195.7", "NONE") in seen
    assert ("CONNECT", "1772431195.7", "PJSIP/101") in seen
    # CONNECT's bridged channel is the agent's interface; the callback enters its queue first
    connects = [t for t in lines if "|CONNECT|" in t]
    assert connects and all(t.split("|")[6] == "PJSIP/101" for t in connects)
    dialled_uid = f"{int(dialled.started_at.timestamp())}.{dialled.pk}"
    dialled_events = [e for e, u, _a in seen if u == dialled_uid]
    assert dialled_events[:2] == ["ENTERQUEUE", "CONNECT"], dialled_events
    assert all(u == "NONE" for e, u, _a in seen if e in ("ADDMEMBER", "PAUSE", "UNPAUSE", "REMOVEMEMBER"))
    waiting.refresh_from_db()
    assert (
        "ABANDON",
        f"{int(waiting.started_at.timestamp())}.{waiting.pk}",
        "NONE",
    ) in seen


def test_time_zone_of_dates_given_without_offset(org):
    Queue.objects.create(code="general", name="General")
    _ev(0, "ADDMEMBER", agent="PJSIP/101")  # 06:00 UTC = 09:00 Moscow = 11:00 Yekaterinburg
    out = StringIO()
    call_command(
        "cc_stats", "queue-log", "--from", "2026-03-02T09:00", "--to", "2026-03-02T09:01", stdout=out
    )
    assert out.getvalue().startswith("1772431200|NONE|general|PJSIP/101|ADDMEMBER|")
    out = StringIO()
    call_command(
        "cc_stats",
        "queue-log",
        "--from",
        "2026-03-02T09:00",
        "--to",
        "2026-03-02T09:01",
        "--tz",
        "Asia/Yekaterinburg",
        stdout=out,
    )
    assert out.getvalue() == ""
    assert zoneinfo.ZoneInfo("Asia/Yekaterinburg")
