"""What Asterisk's app_queue did, written into Okno: the actions of the AMI client.

When Asterisk routes the calls (the FastAGI server hands a call over with ``EXEC Queue <code>``), the
decisions are Asterisk's; these functions record them in the same shape as the engine records its own
(:mod:`okno.contact_center.engine`): the ``Call`` row (queue, times, agent, outcome), one ``CallEvent`` per
queue_log event with queue_log's data fields, the agents' states and, when a call ends unanswered, the
line in the customer's contact history. The wallboard and the statistics then read Asterisk's calls like
the engine's.

Calls are found by the channel's ``Uniqueid`` (or ``Linkedid``), which the FastAGI server stored as
``Call.telephony_id``; a call that reached a queue without our IVR gets a row of its own. Such calls are
marked ``ivr_state["routed_by"] = "asterisk"``. Agents are found by the member's interface:
``PJSIP/101`` (also ``SIP/``, ``IAX2/``, ``Local/101@…``) by ``Agent.extension``, ``Agent/<login>`` by the
user name.

Each function takes one AMI event (a dict of its fields) and returns a short note of what it changed, or
``None`` when there was nothing to do; :func:`apply` picks the function by the event's name.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from okno.contact_center import engine
from okno.contact_center.choices import AgentState, CallOutcome, Direction
from okno.contact_center.flows import DEFAULT_QUEUE
from okno.contact_center.models import Agent, Call, CallEvent, Queue
from okno.customers.numbers import normalize_phone

log = logging.getLogger(__name__)

Event = dict[str, str]
BUSY = (AgentState.ON_CALL, AgentState.WRAP_UP)


def default_queue_code() -> str:
    """The queue a call goes to when nothing better is known: the one marked default, else ``general``."""
    code = Queue.objects.filter(is_default=True).order_by("pk").values_list("code", flat=True).first()
    return code or DEFAULT_QUEUE


def note_transfer(call_id: int, queue: str) -> None:
    """The FastAGI server handed the call to Asterisk's queue ``queue``: remembered on the call (the queue
    events that follow come from the AMI)."""
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(pk=call_id).first()
        if call is None:
            return
        call.ivr_state["routed_by"] = "asterisk"
        call.ivr_state["transfer"] = {"queue": queue, "at": timezone.now().isoformat(timespec="seconds")}
        Call.objects.filter(pk=call.pk).update(ivr_state=call.ivr_state)


# --------------------------------------------------------------------------------------------------- helpers


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def event_time(event: Event) -> dt.datetime:
    """The event's ``Timestamp`` (``timestampevents = yes`` in manager.conf), else now."""
    stamp = event.get("Timestamp", "")
    try:
        return dt.datetime.fromtimestamp(float(stamp), tz=dt.UTC) if stamp else timezone.now()
    except (ValueError, OverflowError, OSError):
        return timezone.now()


def agent_for(interface: str) -> Agent | None:
    """The agent behind a queue member's interface (``PJSIP/101``, ``Local/101@agents``, ``Agent/ivanova``)."""
    tech, _sep, rest = (interface or "").partition("/")
    ident = rest.split("@", 1)[0].split("/", 1)[0].strip()
    if not ident:
        return None
    if tech.lower() == "agent":
        return Agent.objects.select_related("user").filter(user__username=ident).first()
    return Agent.objects.select_related("user").filter(extension=ident).first()


def _locked_call(event: Event, *, create: bool = False) -> Call | None:
    ids = [i for i in (event.get("Uniqueid", ""), event.get("Linkedid", "")) if i]
    call = None
    if ids:
        call = (
            Call.objects.select_for_update()
            .filter(telephony_id__in=ids, direction=Direction.INBOUND)
            .order_by("-started_at", "-pk")
            .first()
        )
    if call is None and create and ids:
        caller = event.get("CallerIDNum", "")
        caller = "" if caller.lower() in ("", "unknown", "<unknown>") else caller
        call = Call.objects.create(
            direction=Direction.INBOUND,
            caller=(normalize_phone(caller) or caller)[:32],
            telephony_id=ids[0][:64],
            started_at=event_time(event),
            outcome=CallOutcome.IN_IVR,
            ivr_state={"routed_by": "asterisk"},
        )
        call = Call.objects.select_for_update().get(pk=call.pk)
    return call


def _event(
    call: Call | None, name: str, at: dt.datetime, queue: str, agent: str = "", data: list[Any] | None = None
) -> None:
    CallEvent.objects.create(
        call=call,
        at=at,
        queue=queue or "NONE",
        agent=agent or "NONE",
        event=name,
        data=[str(d) for d in (data or [])],
    )


def _set_state(agent: Agent, state: str, at: dt.datetime, *, keep_busy: bool = True) -> bool:
    """Race-safe: only a row still in another state (and, with ``keep_busy``, not on a call or its wrap-up)
    is changed."""
    rows = Agent.objects.filter(pk=agent.pk).exclude(state=state)
    if keep_busy:
        rows = rows.exclude(state__in=BUSY)
    return bool(rows.update(state=state, state_since=at))


def _record(call: Call) -> None:
    record = getattr(engine, "record_contact", None) or engine._record_contact
    record(call)


# --------------------------------------------------------------------------------------------------- callers


def caller_join(event: Event) -> str | None:
    """QueueCallerJoin (Join before Asterisk 12): the call waits in ``Queue`` at ``Position``."""
    at = event_time(event)
    code = event.get("Queue", "")
    with transaction.atomic():
        call = _locked_call(event, create=True)
        if call is None or call.answered_at is not None or call.ended_at is not None:
            return None
        queue = Queue.objects.filter(code=code).first()
        if call.outcome == CallOutcome.QUEUED and call.queue_id == (queue.pk if queue else None):
            return None  # the same join seen twice (a reconnect replays nothing, but be safe)
        position = _int(event.get("Position"), 1)
        call.queue = queue
        call.enqueued_at = call.enqueued_at or at
        call.queue_entered_at = at
        call.entry_position = position
        call.outcome = CallOutcome.QUEUED
        if queue is not None:
            call.topic = call.topic or queue.topic
        call.ivr_state["routed_by"] = "asterisk"
        call.save(
            update_fields=[
                "queue",
                "enqueued_at",
                "queue_entered_at",
                "entry_position",
                "outcome",
                "topic",
                "ivr_state",
            ]
        )
        _event(call, "ENTERQUEUE", at, code, data=["", call.caller, position])
    return f"call {call.pk} waits in {code} at {position}"


def caller_abandon(event: Event) -> str | None:
    """QueueCallerAbandon: the caller hung up while waiting."""
    at = event_time(event)
    with transaction.atomic():
        call = _locked_call(event)
        if call is None or call.answered_at is not None or call.ended_at is not None:
            return None
        call.outcome = CallOutcome.ABANDONED
        call.ended_at = at
        call.save(update_fields=["outcome", "ended_at"])
        _event(
            call,
            "ABANDON",
            at,
            event.get("Queue", ""),
            data=[
                _int(event.get("Position")),
                _int(event.get("OriginalPosition"), call.entry_position),
                _int(event.get("HoldTime")),
            ],
        )
        _record(call)
    return f"call {call.pk} abandoned"


def caller_leave(event: Event) -> str | None:
    """QueueCallerLeave: the caller left the queue — answered, abandoned or timed out; the events that say
    which (AgentConnect, QueueCallerAbandon) change the call, this one changes nothing."""
    return None


# --------------------------------------------------------------------------------------------------- agents on calls


def agent_connect(event: Event) -> str | None:
    """AgentConnect: a member answered; the call is theirs."""
    at = event_time(event)
    agent = agent_for(event.get("Interface", ""))
    with transaction.atomic():
        call = _locked_call(event, create=True)
        if call is None or call.ended_at is not None:
            return None
        if call.enqueued_at is None:
            call.enqueued_at = call.queue_entered_at = at - dt.timedelta(seconds=_int(event.get("HoldTime")))
        if call.queue_id is None:
            call.queue = Queue.objects.filter(code=event.get("Queue", "")).first()
        call.agent = agent
        call.answered_at = at
        call.outcome = CallOutcome.ANSWERED
        call.ivr_state["routed_by"] = "asterisk"
        call.save(
            update_fields=[
                "enqueued_at",
                "queue_entered_at",
                "queue",
                "agent",
                "answered_at",
                "outcome",
                "ivr_state",
            ]
        )
        name = engine.agent_name(agent) if agent is not None else event.get("Interface", "")
        _event(
            call,
            "CONNECT",
            at,
            event.get("Queue", ""),
            name,
            data=[_int(event.get("HoldTime")), event.get("DestUniqueid", ""), _int(event.get("RingTime"))],
        )
        if agent is not None:
            _set_state(agent, AgentState.ON_CALL, at, keep_busy=False)
    return f"call {call.pk} answered by {name}"


def agent_complete(event: Event) -> str | None:
    """AgentComplete: the conversation ended (``Reason``: caller, agent or transfer); the agent goes to
    wrap-up and gives the wrap-up code on the desk (``engine.wrap_up``)."""
    at = event_time(event)
    agent = agent_for(event.get("Interface", ""))
    with transaction.atomic():
        call = _locked_call(event)
        if call is None or call.ended_at is not None:
            return None
        call.ended_at = at
        call.save(update_fields=["ended_at"])
        reason = event.get("Reason", "").lower()
        name = engine.agent_name(agent) if agent is not None else event.get("Interface", "")
        hold, talk = _int(event.get("HoldTime")), _int(event.get("TalkTime"))
        if reason == "transfer":
            _event(
                call,
                "TRANSFER",
                at,
                event.get("Queue", ""),
                name,
                data=["", "", hold, talk, call.entry_position],
            )
        else:
            kind = "COMPLETEAGENT" if reason == "agent" else "COMPLETECALLER"
            _event(call, kind, at, event.get("Queue", ""), name, data=[hold, talk, call.entry_position])
        if agent is not None:
            Agent.objects.filter(pk=agent.pk, state=AgentState.ON_CALL).update(
                state=AgentState.WRAP_UP, state_since=at
            )
    return f"call {call.pk} ended ({reason or 'caller'})"


def agent_ring_no_answer(event: Event) -> str | None:
    """AgentRingNoAnswer: a member was rung and did not answer (``RingTime`` seconds)."""
    at = event_time(event)
    agent = agent_for(event.get("Interface", ""))
    with transaction.atomic():
        call = _locked_call(event)
        name = engine.agent_name(agent) if agent is not None else event.get("Interface", "")
        _event(
            call, "RINGNOANSWER", at, event.get("Queue", ""), name, data=[_int(event.get("RingTime")) * 1000]
        )
    return f"{name} did not answer"


def agent_called(event: Event) -> str | None:
    """AgentCalled: a member's phone rings; queue_log records nothing for it, neither do we."""
    return None


# --------------------------------------------------------------------------------------------------- members


def _member_state(paused: str, status: str) -> str | None:
    if status in ("4", "5"):  # AST_DEVICE_INVALID, AST_DEVICE_UNAVAILABLE
        return AgentState.OFFLINE
    if paused == "1":
        return AgentState.BREAK
    if status in ("1", ""):  # AST_DEVICE_NOT_INUSE
        return AgentState.AVAILABLE
    return None  # in use, busy, ringing, on hold: AgentConnect/AgentComplete tell


def member_pause(event: Event) -> str | None:
    """QueueMemberPause (QueueMemberPaused before 13): ``Paused`` 1 or 0, with ``PausedReason``."""
    at = event_time(event)
    agent = agent_for(event.get("Interface", ""))
    paused = event.get("Paused", "") == "1"
    reason = event.get("PausedReason", "") or event.get("Reason", "")
    with transaction.atomic():
        name = engine.agent_name(agent) if agent is not None else event.get("Interface", "")
        _event(None, "PAUSE" if paused else "UNPAUSE", at, event.get("Queue", ""), name, data=[reason])
        if agent is not None:
            _set_state(agent, AgentState.BREAK if paused else AgentState.AVAILABLE, at)
    return f"{name} {'paused' if paused else 'unpaused'}"


def member_status(event: Event) -> str | None:
    """QueueMemberStatus: the member's device state (``Status``: 1 not in use, 2 in use, 5 unavailable …)
    and ``Paused``; an agent on a call or in wrap-up stays so (the call's events end that)."""
    agent = agent_for(event.get("Interface", ""))
    state = _member_state(event.get("Paused", ""), event.get("Status", ""))
    if agent is None or state is None:
        return None
    with transaction.atomic():
        changed = _set_state(agent, state, event_time(event))
    return f"{agent} {state}" if changed else None


def member_added(event: Event) -> str | None:
    """QueueMemberAdded: the agent logged in to a queue."""
    at = event_time(event)
    agent = agent_for(event.get("Interface", ""))
    with transaction.atomic():
        name = engine.agent_name(agent) if agent is not None else event.get("Interface", "")
        _event(None, "ADDMEMBER", at, event.get("Queue", ""), name)
        if agent is not None:
            state = _member_state(event.get("Paused", ""), event.get("Status", "")) or AgentState.AVAILABLE
            _set_state(agent, state, at)
    return f"{name} joined {event.get('Queue', '')}"


def member_removed(event: Event) -> str | None:
    """QueueMemberRemoved: the agent logged out of a queue (offline when it was their last one is not
    known here: each removal sets offline, a later status event corrects it)."""
    at = event_time(event)
    agent = agent_for(event.get("Interface", ""))
    with transaction.atomic():
        name = engine.agent_name(agent) if agent is not None else event.get("Interface", "")
        _event(None, "REMOVEMEMBER", at, event.get("Queue", ""), name)
        if agent is not None:
            _set_state(agent, AgentState.OFFLINE, at)
    return f"{name} left {event.get('Queue', '')}"


def device_state(event: Event) -> str | None:
    """DeviceStateChange: an agent's phone became UNAVAILABLE (unplugged, unregistered): offline. Other
    states say nothing about queue membership and are left to the queue events."""
    if event.get("State", "").upper() not in ("UNAVAILABLE", "INVALID"):
        return None
    agent = agent_for(event.get("Device", ""))
    if agent is None:
        return None
    with transaction.atomic():
        changed = _set_state(agent, AgentState.OFFLINE, event_time(event))
    return f"{agent} offline" if changed else None


HANDLERS: dict[str, Callable[[Event], str | None]] = {
    "QueueCallerJoin": caller_join,
    "Join": caller_join,
    "QueueCallerLeave": caller_leave,
    "Leave": caller_leave,
    "QueueCallerAbandon": caller_abandon,
    "AgentCalled": agent_called,
    "AgentConnect": agent_connect,
    "AgentComplete": agent_complete,
    "AgentRingNoAnswer": agent_ring_no_answer,
    "QueueMemberPause": member_pause,
    "QueueMemberPaused": member_pause,
    "QueueMemberStatus": member_status,
    "QueueMemberAdded": member_added,
    "QueueMemberRemoved": member_removed,
    "DeviceStateChange": device_state,
}


def apply(event: Event) -> str | None:
    """Mirror one AMI event (ignored when no handler knows its name)."""
    handler = HANDLERS.get(event.get("Event", ""))
    if handler is None:
        return None
    return handler(event)


__all__ = ["HANDLERS", "agent_for", "apply", "default_queue_code", "event_time", "note_transfer"]
