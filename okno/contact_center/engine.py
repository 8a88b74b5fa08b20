"""The live call engine: what the FastAGI adapter, the simulated line and the agents' desk call.

Each function is one decision in one transaction. The routing state is not kept in a process: it is
rebuilt from the database (queues, agents and their states, the waiting calls and the pending callbacks,
in order of first entry) into an :class:`okno.contact_center.acd.Router` under a lock on the queue rows
(``select_for_update`` of every queue, in primary-key order, so two decisions never interleave and never
deadlock), the router decides, and the outcome is written back. Several web and adapter processes
therefore agree on who is next.

* **IVR**: :func:`incoming_call` starts the flow's :class:`~okno.contact_center.ivr.Session`;
  :func:`ivr_input` plays the next turn. The session (step, retries, digits collected, the account
  identified) lives in ``Call.ivr_state`` with the transcript, and the flow version is pinned for the
  call: publishing a new version does not change a call in progress.
* **Queues**: :func:`enqueue` offers the call (an agent takes it, or it waits with a position and an
  expected wait, and a callback is offered above the queue's threshold); :func:`request_callback` lets the
  caller leave and keep their place (the :class:`~okno.contact_center.models.Callback` row holds it; when
  the callback reaches the front and an agent frees, an outbound call to the customer is put through to
  that agent); :func:`hangup` abandons a waiting call (its wait recorded) or ends a conversation.
* **Overflow** is checked on every decision and by :func:`tick` (a job every few seconds): a call waiting
  longer than its queue's ``overflow_after_s`` moves to the overflow queue, keeping its place by first
  entry.
* **Agents**: :func:`set_agent_state` (available, break, offline — an agent who becomes available may take
  a waiting call at once), :func:`wrap_up` (the code, the appeal if one was registered; then available
  again, possibly with the next call), :func:`current_call`.
* **History**: every queue and agent event is a :class:`~okno.contact_center.models.CallEvent` with
  Asterisk's queue_log name and data fields; every call with a known customer ends as one line of the
  customer's contact history (``okno.customers.actions.record_contact``).

``Queue.wrapup_s`` is the norm shown to the agent: the agent stays in wrap-up until they give the code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from okno.contact_center import acd
from okno.contact_center.choices import AgentState, CallbackStatus, CallOutcome, Direction
from okno.contact_center.flows import DEFAULT_QUEUE, MAIN_FLOW
from okno.contact_center.ivr import AccountRef, Session, Turn
from okno.contact_center.ivr_services import OknoServices
from okno.contact_center.models import (
    Agent,
    Call,
    Callback,
    CallEvent,
    IvrFlow,
    IvrFlowVersion,
    Queue,
    Skill,
    WrapUpCode,
)
from okno.customers.models import Account
from okno.customers.numbers import normalize_phone

logger = logging.getLogger(__name__)

#: How long the transcript kept on the call may grow (turns).
LOG_LIMIT = 200
#: A callback that rang out is tried again after this long, up to :data:`CALLBACK_ATTEMPTS` times.
CALLBACK_RETRY = dt.timedelta(minutes=15)
CALLBACK_ATTEMPTS = 3
AGENT_STATES = {AgentState.AVAILABLE, AgentState.BREAK, AgentState.OFFLINE}


class EngineError(ValueError):
    """A request the call's or the agent's state does not allow (wrap up a call not answered …)."""


@dataclass
class Placement:
    """Where an enqueued call stands: taken by ``agent``, or waiting at ``position`` for about
    ``expected_wait_s`` (``inf`` with nobody staffed), with a callback offered or not."""

    agent: Agent | None
    position: int
    expected_wait_s: float
    callback_offered: bool


# --------------------------------------------------------------------------------------------------- naming


def agent_name(agent: Agent) -> str:
    """The member's interface as queue_log writes it: ``PJSIP/<extension>``, or ``Agent/<login>``."""
    if agent.extension:
        return f"PJSIP/{agent.extension}"
    return f"Agent/{agent.user.get_username()}"


def _secs(delta: dt.timedelta | None) -> int:
    return max(0, round(delta.total_seconds())) if delta is not None else 0


def _event(
    call: Call | None,
    event: str,
    *,
    at: dt.datetime,
    queue: str = "",
    agent: str = "",
    data: Iterable[Any] = (),
) -> CallEvent:
    return CallEvent.objects.create(
        call=call,
        at=at,
        queue=queue or "NONE",
        agent=agent or "NONE",
        event=event,
        data=[str(d) for d in data],
    )


# --------------------------------------------------------------------------------------------------- routing state


@dataclass
class _Ctx:
    now: dt.datetime
    router: acd.Router
    queues: dict[str, Queue]  # by code
    queue_codes: dict[int, str]  # by id
    agents: dict[str, Agent]  # by str(pk)
    calls: dict[int, acd.Call] = field(default_factory=dict)  # by Call pk: the waiting and the new
    db_calls: dict[int, Call] = field(default_factory=dict)
    callbacks: dict[int, Callback] = field(default_factory=dict)  # by the original call's pk
    connected: list[Call] = field(default_factory=list)

    @property
    def ts(self) -> float:
        return self.now.timestamp()

    def acd_agent(self, agent: Agent) -> acd.Agent:
        return self.router.agents[str(agent.pk)]


def _start_of_day(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _load(now: dt.datetime) -> _Ctx:
    """Lock the queues and rebuild the router: queues, agents with their skills and states, the waiting
    calls and the due callbacks in order of first entry."""
    queues = list(Queue.objects.select_for_update().order_by("pk"))
    codes = {q.pk: q.code for q in queues}
    specs = [
        acd.QueueSpec(
            name=q.code,
            strategy=acd.Strategy(q.strategy),
            wrapup_s=float(q.wrapup_s),
            target_answer_s=float(q.target_answer_s),
            overflow_to=codes.get(q.overflow_to_id, "") if q.overflow_to_id else "",
            overflow_after_s=float(q.overflow_after_s),
            callback_threshold_s=float(q.callback_threshold_s),
            aht_s=float(q.aht_s or 180),
        )
        for q in queues
    ]
    agents = list(Agent.objects.select_related("user").order_by("pk"))
    skills: dict[int, dict[str, int]] = {a.pk: {} for a in agents}
    for agent_id, queue_id, penalty in Skill.objects.values_list("agent_id", "queue_id", "penalty"):
        if agent_id in skills and queue_id in codes:
            skills[agent_id][codes[queue_id]] = penalty
    taken = dict(
        Call.objects.filter(answered_at__gte=_start_of_day(now), agent__isnull=False)
        .values("agent_id")
        .annotate(n=Count("id"))
        .values_list("agent_id", "n")
    )
    router = acd.Router(
        specs,
        [
            acd.Agent(
                id=str(a.pk),
                skills=skills[a.pk],
                state=acd.AgentState(a.state),
                idle_since=a.state_since.timestamp(),
                calls_taken=taken.get(a.pk, 0),
            )
            for a in agents
        ],
        seed=int(now.timestamp()),
    )
    ctx = _Ctx(
        now=now,
        router=router,
        queues={q.code: q for q in queues},
        queue_codes=codes,
        agents={str(a.pk): a for a in agents},
    )
    # Round robin remembers the member after the last one who took a call in the queue.
    for q in queues:
        if q.strategy != acd.Strategy.ROUND_ROBIN:
            continue
        last = (
            Call.objects.filter(queue=q, agent__isnull=False, answered_at__isnull=False)
            .order_by("-answered_at")
            .values_list("agent_id", flat=True)
            .first()
        )
        members = router._queue(q.code).members
        for i, member in enumerate(members):
            if member.id == str(last):
                router._queue(q.code).rr_next = (i + 1) % len(members)
    waiting: list[tuple[dt.datetime, int, Call, bool]] = []
    # Calls that Asterisk's own app_queue routes (mirrored from AMI) are not ours to connect.
    for call in Call.objects.filter(
        outcome=CallOutcome.QUEUED, answered_at__isnull=True, ended_at__isnull=True, queue__isnull=False
    ).filter(Q(ivr_state__routed_by__isnull=True) | ~Q(ivr_state__routed_by="asterisk")):
        waiting.append((call.enqueued_at or call.started_at, call.pk, call, False))
    for cb in Callback.objects.filter(status=CallbackStatus.PENDING, next_attempt_at__lte=now).select_related(
        "call"
    ):
        ctx.callbacks[cb.call_id] = cb
        cb.call.queue_id = cb.queue_id
        waiting.append((cb.call.enqueued_at or cb.requested_at, cb.call_id, cb.call, True))
    waiting.sort(key=lambda row: (row[0], row[1]))
    for first, _pk, call, is_callback in waiting:
        code = codes.get(call.queue_id or 0)
        if code is None:
            continue
        entered = call.queue_entered_at or first
        acall = acd.Call(
            id=call.pk,
            queue=code,
            arrived_at=first.timestamp(),
            enqueued_at=entered.timestamp(),
            caller=call.caller,
            callback=is_callback,
        )
        # The router's own queue: the rebuilt calls go in as they stood (``offer`` would re-route them).
        router._queue(code).waiting.append(acall)
        ctx.calls[call.pk] = acall
        ctx.db_calls[call.pk] = call
    return ctx


def _settle(ctx: _Ctx) -> None:
    """Overflow the calls waiting too long, let free agents take waiting calls, write the result."""
    router = ctx.router
    for acall in list(ctx.calls.values()):
        if acall.callback or acall.answered_at is not None:
            continue
        spec = router.spec(acall.queue)
        if not spec.overflow_to or spec.overflow_after_s <= 0:
            continue
        if ctx.ts - acall.enqueued_at < spec.overflow_after_s:
            continue
        call = ctx.db_calls[acall.id]
        old = acall.queue
        position = router.position(acall)
        router.overflow(acall, ctx.ts)
        _event(
            call,
            "EXITWITHTIMEOUT",
            at=ctx.now,
            queue=old,
            data=[position, call.entry_position, _secs(ctx.now - (call.queue_entered_at or ctx.now))],
        )
        call.queue = ctx.queues[acall.queue]
        call.queue_entered_at = ctx.now
        acall.enqueued_at = ctx.ts
        call.entry_position = router.position(acall) or 1
        call.save(update_fields=["queue", "queue_entered_at", "entry_position"])
        _event(call, "ENTERQUEUE", at=ctx.now, queue=acall.queue, data=["", call.caller, call.entry_position])
    for agent in sorted(router.agents.values(), key=lambda a: a.idle_since):
        if agent.state != acd.AgentState.AVAILABLE:
            continue
        if not any(router.waiting(q) for q in agent.skills):
            continue
        idle = agent.idle_since
        if router.set_state(agent, acd.AgentState.AVAILABLE, ctx.ts) is None:
            agent.idle_since = idle
    _apply(ctx)


def _apply(ctx: _Ctx) -> None:
    """Write the connections the router made: the call answered, the agent on the call."""
    for acall in ctx.calls.values():
        if acall.agent is None:
            continue
        call = ctx.db_calls[acall.id]
        if call.pk in ctx.callbacks:
            if ctx.callbacks[call.pk].status != CallbackStatus.PENDING:
                continue
            ctx.connected.append(_dial_callback(ctx, ctx.callbacks[call.pk], ctx.agents[acall.agent.id]))
            continue
        if call.answered_at is not None:
            continue
        agent = ctx.agents[acall.agent.id]
        call.agent = agent
        call.answered_at = ctx.now
        call.outcome = CallOutcome.ANSWERED
        call.save(update_fields=["agent", "answered_at", "outcome"])
        _set_agent(agent, AgentState.ON_CALL, ctx.now)
        queue = ctx.queue_codes.get(call.queue_id or 0, "")
        _event(
            call,
            "CONNECT",
            at=ctx.now,
            queue=queue,
            agent=agent_name(agent),
            # bridged channel: the agent's interface, the channel the caller is bridged to
            data=[_secs(ctx.now - (call.enqueued_at or ctx.now)), agent_name(agent), 0],
        )
        ctx.connected.append(call)


def _dial_callback(ctx: _Ctx, callback: Callback, agent: Agent) -> Call:
    """The callback is at the front and ``agent`` is free: the outbound call to the customer is theirs."""
    original = callback.call
    callback.status = CallbackStatus.DIALLING
    callback.attempts += 1
    callback.save(update_fields=["status", "attempts"])
    out = Call.objects.create(
        direction=Direction.OUTBOUND,
        caller=agent.extension,
        called=callback.number,
        customer_id=original.customer_id,
        account_id=original.account_id,
        queue_id=callback.queue_id,
        agent=agent,
        started_at=ctx.now,
        answered_at=ctx.now,
        outcome=CallOutcome.ANSWERED,
        topic=original.topic,
        ivr_state={"callback": callback.pk, "callback_of": str(original.uid)},
    )
    _set_agent(agent, AgentState.ON_CALL, ctx.now)
    queue = ctx.queue_codes.get(callback.queue_id, "")
    # queue_log: the callback enters its queue (at its kept place, the front) before it is connected
    _event(out, "ENTERQUEUE", at=ctx.now, queue=queue, data=["", callback.number, 1])
    _event(
        out,
        "CONNECT",
        at=ctx.now,
        queue=queue,
        agent=agent_name(agent),
        data=[_secs(ctx.now - (original.enqueued_at or callback.requested_at)), agent_name(agent), 0],
    )
    return out


def _set_agent(agent: Agent, state: str, now: dt.datetime) -> None:
    agent.state = state
    agent.state_since = now
    agent.save(update_fields=["state", "state_since"])


def _placement(ctx: _Ctx, call: Call) -> Placement:
    acall = ctx.calls.get(call.pk)
    if acall is None or acall.agent is not None:
        agent = (
            ctx.agents.get(acall.agent.id) if acall is not None and acall.agent is not None else call.agent
        )
        return Placement(agent=agent, position=0, expected_wait_s=0.0, callback_offered=False)
    router = ctx.router
    return Placement(
        agent=None,
        position=router.position(acall),
        expected_wait_s=router.expected_wait_s(acall),
        callback_offered=not acall.callback and router.offer_callback(acall),
    )


def _locked(call: Call, ctx: _Ctx | None = None) -> Call:
    fresh = Call.objects.select_for_update().get(pk=call.pk)
    if ctx is not None and call.pk in ctx.db_calls:
        ctx.db_calls[call.pk] = fresh
    return fresh


# --------------------------------------------------------------------------------------------------- the IVR


def _flow(code: str) -> tuple[dict, int | None]:
    flow = IvrFlow.objects.filter(code=code).first()
    version = flow.published() if flow is not None else None
    if version is None:
        return MAIN_FLOW, None
    return version.definition, version.pk


def _definition(call: Call) -> dict:
    version_id = call.ivr_state.get("version")
    if version_id:
        version = IvrFlowVersion.objects.filter(pk=version_id).first()
        if version is not None:
            return version.definition  # type: ignore[no-any-return]
    return MAIN_FLOW


_SESSION_FIELDS = (
    "path",
    "outcome",
    "_step",
    "_retries",
    "_stage",
    "_collected",
    "_after_identify",
    "_self_served",
    "_verified",
)


def _dump(session: Session) -> dict[str, Any]:
    data = {name: getattr(session, name) for name in _SESSION_FIELDS}
    data["account"] = dataclasses.asdict(session.account) if session.account is not None else None
    return data


def _session(call: Call, definition: dict) -> Session:
    services = OknoServices(caller=call.caller, prompts=definition.get("prompts"))
    session = Session(definition, services, caller=call.caller)
    data = call.ivr_state.get("session") or {}
    for name in _SESSION_FIELDS:
        if name in data:
            setattr(session, name, data[name])
    if data.get("account"):
        session.account = AccountRef(**data["account"])
    return session


def _store(call: Call, session: Session, turn: Turn, *, digits: str | None = None) -> None:
    state = call.ivr_state
    state["session"] = _dump(session)
    state["expect"] = dataclasses.asdict(turn.expect) if turn.expect is not None else None
    log = state.setdefault("log", [])
    entry: dict[str, Any] = {"at": timezone.now().isoformat(timespec="seconds"), "say": turn.text}
    if digits is not None:
        entry["in"] = digits
    if turn.transfer_to or session.outcome.startswith("queue:"):
        entry["transfer_to"] = turn.transfer_to
    log.append(entry)
    del log[:-LOG_LIMIT]
    call.ivr_path = list(session.path)
    fields = ["ivr_state", "ivr_path"]
    if session.account is not None and call.account_id != session.account.id:
        account = Account.objects.filter(pk=session.account.id).only("pk", "customer_id").first()
        if account is not None:
            call.account_id = account.pk
            call.customer_id = account.customer_id
            fields += ["account", "customer"]
    call.save(update_fields=fields)


def say(call: Call, text: str) -> None:
    """Add what the caller hears outside the IVR (position announcements) to the call's transcript."""
    log = call.ivr_state.setdefault("log", [])
    log.append({"at": timezone.now().isoformat(timespec="seconds"), "say": text})
    del log[:-LOG_LIMIT]
    Call.objects.filter(pk=call.pk).update(ivr_state=call.ivr_state)


def incoming_call(
    *, caller: str, called: str = "", telephony_id: str = "", flow: str = "main"
) -> tuple[Call, Turn]:
    """A call arrives: recorded, the caller identified by their number where it names one customer, and
    the flow's first turn played. Call :func:`enqueue` when the turn transfers (``transfer_to``; empty:
    the default queue)."""
    number = normalize_phone(caller) or caller.strip()
    definition, version_id = _flow(flow)
    services = OknoServices(caller=number, prompts=definition.get("prompts"))
    with transaction.atomic():
        call = Call.objects.create(
            direction=Direction.INBOUND,
            caller=number,
            called=called,
            telephony_id=telephony_id,
            outcome=CallOutcome.IN_IVR,
            ivr_state={"flow": flow, "version": version_id},
        )
        found = services.accounts_by_phone(number) if number else []
        if found:
            accounts = list(Account.objects.filter(pk__in=[a.id for a in found]).only("pk", "customer_id"))
            if len({a.customer_id for a in accounts}) == 1:
                call.customer_id = accounts[0].customer_id
                if len(accounts) == 1:
                    call.account_id = accounts[0].pk
                call.save(update_fields=["customer", "account"])
        session = Session(definition, services, caller=number)
        turn = session.start()
        _store(call, session, turn)
        if turn.hangup:
            _finish_ivr(call, session)
    return call, turn


def ivr_input(call: Call, digits: str | None) -> Turn:
    """The caller pressed ``digits`` (``None``: silence until the timeout); the next turn."""
    with transaction.atomic():
        call = _locked(call)
        if call.outcome != CallOutcome.IN_IVR:
            return Turn(hangup=call.ended_at is not None)
        session = _session(call, _definition(call))
        turn = session.digits(digits)
        _store(call, session, turn, digits=digits if digits is not None else "")
        if turn.hangup:
            _finish_ivr(call, session)
    return turn


def _finish_ivr(call: Call, session: Session | None) -> None:
    now = timezone.now()
    served = session is not None and session.outcome in ("self_service", "hangup")
    call.outcome = CallOutcome.SELF_SERVICE if served else CallOutcome.ABANDONED
    call.ended_at = now
    call.save(update_fields=["outcome", "ended_at"])
    _record_contact(call)


# --------------------------------------------------------------------------------------------------- queues


def _queue_code(ctx: _Ctx, queue: str) -> str:
    """The queue's code; a missing queue (a flow naming a queue since deleted) falls back to the default
    queue (``Queue.is_default``, else "general") with a logged warning."""
    if queue:
        if queue in ctx.queues:
            return queue
        logger.warning("The flow names a missing queue %r: the call goes to the default queue.", queue)
    for q in ctx.queues.values():
        if q.is_default:
            return q.code
    if DEFAULT_QUEUE in ctx.queues:
        return DEFAULT_QUEUE
    if not ctx.queues:
        raise EngineError(_("No queues are set up."))
    return next(iter(ctx.queues))


def enqueue(call: Call, queue: str) -> Placement:
    """Offer the call to ``queue`` (empty: the default queue): an agent takes it or it waits."""
    now = timezone.now()
    with transaction.atomic():
        ctx = _load(now)
        call = _locked(call, ctx)
        if call.pk in ctx.calls:  # already waiting: where it stands
            _settle(ctx)
            return _placement(ctx, call)
        if call.answered_at is not None or call.ended_at is not None:
            raise EngineError(_("The call is already answered or over."))
        code = _queue_code(ctx, queue)
        _settle(ctx)
        q = ctx.queues[code]
        acall = acd.Call(id=call.pk, queue=code, arrived_at=ctx.ts, caller=call.caller)
        call.queue = q
        call.enqueued_at = now
        call.queue_entered_at = now
        call.entry_position = len(ctx.router.waiting(code)) + 1
        call.outcome = CallOutcome.QUEUED
        call.topic = call.topic or q.topic
        call.save(
            update_fields=["queue", "enqueued_at", "queue_entered_at", "entry_position", "outcome", "topic"]
        )
        _event(call, "ENTERQUEUE", at=now, queue=code, data=["", call.caller, call.entry_position])
        ctx.calls[call.pk] = acall
        ctx.db_calls[call.pk] = call
        ctx.router.offer(acall, ctx.ts)
        _apply(ctx)
        return _placement(ctx, call)


def placement(call: Call) -> Placement:
    """Where a waiting call stands now (the adapter's periodic announcement; the line page's refresh).
    Overflow and free agents are settled first."""
    with transaction.atomic():
        ctx = _load(timezone.now())
        _settle(ctx)
        if call.pk in ctx.calls:
            return _placement(ctx, call)
        fresh = Call.objects.select_related("agent__user").get(pk=call.pk)
        return Placement(agent=fresh.agent, position=0, expected_wait_s=0.0, callback_offered=False)


def request_callback(call: Call) -> Callback:
    """The waiting caller asks to be called back: they leave the line and keep their place."""
    now = timezone.now()
    with transaction.atomic():
        ctx = _load(now)
        call = _locked(call, ctx)
        acall = ctx.calls.get(call.pk)
        if acall is None or call.outcome != CallOutcome.QUEUED:
            raise EngineError(_("Only a waiting call can ask for a callback."))
        assert call.queue is not None  # a waiting call has its queue
        position = ctx.router.position(acall)
        callback = Callback.objects.create(
            call=call,
            number=call.caller,
            queue=call.queue,
            requested_at=now,
            next_attempt_at=now,
        )
        call.outcome = CallOutcome.CALLBACK
        call.ended_at = now
        call.save(update_fields=["outcome", "ended_at"])
        _event(
            call,
            "EXITWITHKEY",
            at=now,
            queue=acall.queue,
            data=["1", position, call.entry_position, _secs(now - (call.queue_entered_at or now))],
        )
        _record_contact(call)
    return callback


def hangup(call: Call, *, by: str = "caller") -> Call:
    """A side hangs up (``by``: caller, agent, or no_answer for a callback that rang out). Waiting: the
    call is abandoned and its wait recorded; talking: the call ends and the agent goes to wrap-up."""
    now = timezone.now()
    with transaction.atomic():
        ctx = _load(now)
        call = _locked(call, ctx)
        queue = ctx.queue_codes.get(call.queue_id or 0, "")
        if call.outcome == CallOutcome.IN_IVR:
            definition = _definition(call)
            session = _session(call, definition)
            served = session._self_served
            call.outcome = CallOutcome.SELF_SERVICE if served else CallOutcome.ABANDONED
            call.ended_at = now
            call.save(update_fields=["outcome", "ended_at"])
            _record_contact(call)
        elif call.outcome == CallOutcome.QUEUED and call.answered_at is None:
            acall = ctx.calls.get(call.pk)
            position = ctx.router.position(acall) if acall is not None else 0
            if acall is not None:
                ctx.router.abandon(acall)
            call.outcome = CallOutcome.ABANDONED
            call.ended_at = now
            call.save(update_fields=["outcome", "ended_at"])
            _event(
                call,
                "ABANDON",
                at=now,
                queue=queue,
                data=[position, call.entry_position, _secs(now - (call.queue_entered_at or now))],
            )
            _record_contact(call)
        elif call.outcome == CallOutcome.ANSWERED and call.ended_at is None:
            agent = ctx.agents.get(str(call.agent_id))
            callback = _callback_of(call)
            if by == "no_answer" and callback is not None:
                call.outcome = CallOutcome.NO_ANSWER
                call.ended_at = now
                call.wrapup_ended_at = now
                call.save(update_fields=["outcome", "ended_at", "wrapup_ended_at"])
                _event(
                    call,
                    "RINGNOANSWER",
                    at=now,
                    queue=queue,
                    agent=_name(agent),
                    data=[_ms(now - call.started_at)],
                )
                if callback.attempts >= CALLBACK_ATTEMPTS:
                    callback.status = CallbackStatus.FAILED
                    callback.done_at = now
                else:
                    callback.status = CallbackStatus.PENDING
                    callback.next_attempt_at = now + CALLBACK_RETRY
                callback.save(update_fields=["status", "done_at", "next_attempt_at"])
                if agent is not None:
                    _agent_free(ctx, agent)
            else:
                call.ended_at = now
                call.save(update_fields=["ended_at"])
                _event(
                    call,
                    "COMPLETEAGENT" if by == "agent" else "COMPLETECALLER",
                    at=now,
                    queue=queue,
                    agent=_name(agent),
                    data=[
                        _secs(call.answered_at - (call.enqueued_at or call.answered_at))
                        if call.answered_at
                        else 0,
                        _secs(now - (call.answered_at or now)),
                        call.entry_position,
                    ],
                )
                if agent is not None and agent.state == AgentState.ON_CALL:
                    _set_agent(agent, AgentState.WRAP_UP, now)
    return call


def _name(agent: Agent | None) -> str:
    return agent_name(agent) if agent is not None else ""


def _ms(delta: dt.timedelta) -> int:
    return max(0, round(delta.total_seconds() * 1000))


def _callback_of(call: Call) -> Callback | None:
    callback_id = call.ivr_state.get("callback") if call.direction == Direction.OUTBOUND else None
    if not callback_id:
        return None
    return Callback.objects.select_for_update().filter(pk=callback_id).first()


def _agent_free(ctx: _Ctx, agent: Agent) -> None:
    """The agent is available again: in the database, then in the router (which may give them a call)."""
    _set_agent(agent, AgentState.AVAILABLE, ctx.now)
    member = ctx.acd_agent(agent)
    member.state = acd.AgentState.WRAP_UP
    ctx.router.wrapup_done(member, ctx.ts)
    _settle(ctx)


# --------------------------------------------------------------------------------------------------- agents


def set_agent_state(agent: Agent, state: str, *, actor: Any) -> Call | None:
    """The agent logs on (available), takes a break or logs off; not during a call or its wrap-up. An agent
    who becomes available may take a waiting call at once: that call (already theirs) is returned."""
    if state not in AGENT_STATES:
        raise EngineError(_("%(state)r is not a state an agent chooses.") % {"state": state})
    now = timezone.now()
    with transaction.atomic():
        ctx = _load(now)
        current = ctx.agents[str(agent.pk)]
        old = current.state
        if old in (AgentState.ON_CALL, AgentState.WRAP_UP):
            raise EngineError(_("Finish the call and its wrap-up first."))
        if old == state:
            return None
        _settle(ctx)
        name = agent_name(current)
        queues = sorted(ctx.acd_agent(current).skills)
        for queue in queues:
            if old == AgentState.OFFLINE:
                _event(None, "ADDMEMBER", at=now, queue=queue, agent=name)
            if old == AgentState.BREAK and state != AgentState.OFFLINE:
                _event(None, "UNPAUSE", at=now, queue=queue, agent=name, data=[""])
            if state == AgentState.BREAK:
                _event(None, "PAUSE", at=now, queue=queue, agent=name, data=["break"])
            if state == AgentState.OFFLINE:
                _event(None, "REMOVEMEMBER", at=now, queue=queue, agent=name)
        _set_agent(current, state, now)
        ctx.connected = []
        ctx.router.set_state(ctx.acd_agent(current), acd.AgentState(state), ctx.ts)
        _apply(ctx)
        agent.state, agent.state_since = current.state, current.state_since
        mine = [c for c in ctx.connected if c.agent_id == current.pk]
        return mine[0] if mine else None


def wrap_up(call: Call, *, code: str, actor: Any, appeal: Any = None) -> Call:
    """The agent gives the call its wrap-up code (and the appeal registered on it, if any) and is
    available again, possibly with the next waiting call (see :func:`current_call`)."""
    now = timezone.now()
    with transaction.atomic():
        ctx = _load(now)
        call = _locked(call, ctx)
        if call.agent_id is None or call.answered_at is None:
            raise EngineError(_("The call was not answered by an operator."))
        if call.wrapup_ended_at is not None:
            raise EngineError(_("The call is already wrapped up."))
        wrapup = WrapUpCode.objects.filter(code=code, is_active=True).first()
        if wrapup is None:
            raise EngineError(_("Unknown wrap-up code."))
        agent = ctx.agents[str(call.agent_id)]
        if call.ended_at is None:  # the agent ends the conversation and wraps up in one step
            call.ended_at = now
            _event(
                call,
                "COMPLETEAGENT",
                at=now,
                queue=ctx.queue_codes.get(call.queue_id or 0, ""),
                agent=agent_name(agent),
                data=[
                    _secs(call.answered_at - (call.enqueued_at or call.answered_at)),
                    _secs(now - call.answered_at),
                    call.entry_position,
                ],
            )
        call.wrapup_code = wrapup
        call.wrapup_ended_at = now
        fields = ["ended_at", "wrapup_code", "wrapup_ended_at"]
        if appeal is not None:
            call.appeal = appeal
            fields.append("appeal")
            if call.customer_id is None and getattr(appeal, "customer_id", None):
                call.customer_id = appeal.customer_id
                fields.append("customer")
        call.save(update_fields=fields)
        callback = _callback_of(call)
        if callback is not None:
            callback.status = CallbackStatus.DONE
            callback.done_at = now
            callback.save(update_fields=["status", "done_at"])
        _record_contact(call, actor=actor)
        if agent.state in (AgentState.ON_CALL, AgentState.WRAP_UP) and current_call(agent) is None:
            _agent_free(ctx, agent)
    return call


def current_call(agent: Agent) -> Call | None:
    """The call the agent is on or wrapping up (``None`` when free)."""
    return (
        Call.objects.filter(agent=agent, answered_at__isnull=False, wrapup_ended_at__isnull=True)
        .select_related("customer", "account", "queue")
        .order_by("-answered_at")
        .first()
    )


def tick() -> dict[str, int]:
    """The periodic job (every few seconds): overflow, due callbacks to free agents."""
    with transaction.atomic():
        ctx = _load(timezone.now())
        queues = {pk: ctx.db_calls[pk].queue_id for pk in ctx.db_calls}
        _settle(ctx)
        moved = sum(1 for pk, c in ctx.db_calls.items() if c.queue_id != queues.get(pk))
        return {"overflowed": moved, "connected": len(ctx.connected)}


# --------------------------------------------------------------------------------------------------- history


def _record_contact(call: Call, actor: Any = None) -> None:
    """One line of the customer's contact history per call (once)."""
    if call.customer_id is None or call.ivr_state.get("contact_recorded"):
        return
    from okno.customers.actions import record_contact

    with translation.override(settings.LANGUAGE_CODE):
        outcome = str(CallOutcome(call.outcome).label)
        if call.direction == Direction.OUTBOUND:
            summary = _("Call to %(number)s: %(outcome)s") % {"number": call.called, "outcome": outcome}
        else:
            summary = _("Call from %(number)s: %(outcome)s") % {
                "number": call.caller or "?",
                "outcome": outcome,
            }
        details = []
        if call.queue_id:
            details.append(
                str(Queue.objects.filter(pk=call.queue_id).values_list("name", flat=True).first() or "")
            )
        wait = call.wait_s
        if wait is not None and call.outcome in (
            CallOutcome.ABANDONED,
            CallOutcome.ANSWERED,
            CallOutcome.CALLBACK,
        ):
            details.append(_("waited %(s)s s") % {"s": round(wait)})
        if call.wrapup_code_id:
            details.append(str(call.wrapup_code))
        if call.outcome == CallOutcome.SELF_SERVICE and call.ivr_path:
            details.append(_("IVR: %(path)s") % {"path": " → ".join(str(p) for p in call.ivr_path[:12])})
        if details:
            summary = f"{summary} ({'; '.join(d for d in details if d)})"
    ref = ("contact_center.call", call.pk, str(call.uid)[:8])
    if call.appeal_id:
        ref = ("appeals.appeal", call.appeal_id, str(getattr(call.appeal, "number", "")))
    record_contact(
        call.customer_id,
        kind="call",
        summary=summary,
        channel="contact_center",
        ref=ref,
        actor=actor,
        occurred_at=call.started_at,
    )
    call.ivr_state["contact_recorded"] = True
    Call.objects.filter(pk=call.pk).update(ivr_state=call.ivr_state)


# --------------------------------------------------------------------------------------------------- wallboard


def wallboard() -> dict[str, dict[str, Any]]:
    """Per queue (by code): calls waiting, the longest wait (s), callbacks pending, the members by state,
    calls offered, answered and abandoned today and today's service level by the one definition of
    :func:`okno.contact_center.stats.service_level` (answered within the norm / (offered − short
    abandons); ``None`` before the first call)."""
    now = timezone.now()
    start = _start_of_day(now)
    out: dict[str, dict[str, Any]] = {}
    members: dict[int, dict[str, int]] = {}
    for queue_id, state, n in (
        Skill.objects.values("queue_id", "agent__state")
        .annotate(n=Count("id"))
        .values_list("queue_id", "agent__state", "n")
    ):
        members.setdefault(queue_id, {})[state] = n
    waiting = {
        row["queue_id"]: row
        for row in Call.objects.filter(
            outcome=CallOutcome.QUEUED, answered_at__isnull=True, ended_at__isnull=True
        )
        .values("queue_id")
        .annotate(n=Count("id"), first=Min("enqueued_at"))
    }
    callbacks = dict(
        Callback.objects.filter(status__in=[CallbackStatus.PENDING, CallbackStatus.DIALLING])
        .values("queue_id")
        .annotate(n=Count("id"))
        .values_list("queue_id", "n")
    )
    from okno.contact_center.stats import (
        SHORT_ABANDON_S,
        callback_connections,
        classify_call,
        service_level,
    )

    today_calls = list(
        Call.objects.filter(enqueued_at__gte=start, direction=Direction.INBOUND, queue__isnull=False).values(
            "pk", "queue_id", "enqueued_at", "answered_at", "ended_at", "outcome"
        )
    )
    connected = callback_connections(c["pk"] for c in today_calls if c["outcome"] == CallOutcome.CALLBACK)
    for q in Queue.objects.order_by("name"):
        figures = {"offered": 0, "answered": 0, "within": 0, "abandoned": 0, "short": 0}
        for c in today_calls:
            if c["queue_id"] != q.pk or c["enqueued_at"] is None:
                continue
            f = classify_call(
                enqueued_at=c["enqueued_at"],
                answered_at=c["answered_at"],
                ended_at=c["ended_at"],
                outcome=c["outcome"],
                target_s=float(q.target_answer_s),
                short_abandon_s=SHORT_ABANDON_S,
                callback_connected_at=connected.get(c["pk"]),
            )
            figures["offered"] += 1
            figures["answered"] += f.answered
            figures["within"] += f.within
            figures["abandoned"] += f.abandoned or f.short_abandon  # every abandon, the short included
            figures["short"] += f.short_abandon
        row = waiting.get(q.pk)
        longest = _secs(now - row["first"]) if row and row["first"] else 0
        agents = {state: members.get(q.pk, {}).get(state, 0) for state in AgentState.values}
        out[q.code] = {
            "name": q.name,
            "waiting": row["n"] if row else 0,
            "longest_wait_s": longest,
            "callbacks": callbacks.get(q.pk, 0),
            "agents": agents,
            "offered": figures["offered"],
            "answered": figures["answered"],
            "abandoned": figures["abandoned"],
            "answered_within": figures["within"],
            "short_abandons": figures["short"],
            "service_level": service_level(figures["within"], figures["offered"], figures["short"]),
            "target_answer_s": q.target_answer_s,
            "target_service_level": float(q.target_service_level),
        }
    return out


def wait_text(placement: Placement, services: OknoServices | None = None) -> str:
    """What a waiting caller hears: the place and the expected wait (and the callback offer)."""
    services = services or OknoServices()
    parts = []
    if placement.position:
        parts.append(services.prompt("position", position=placement.position))
    if math.isinf(placement.expected_wait_s):
        parts.append(services.prompt("expected_wait_unknown"))
    elif placement.expected_wait_s < 60:
        parts.append(services.prompt("expected_wait_short"))
    else:
        parts.append(services.prompt("expected_wait", minutes=math.ceil(placement.expected_wait_s / 60)))
    if placement.callback_offered:
        parts.append(services.prompt("callback_offer"))
    return " ".join(p for p in parts if p)


__all__ = [
    "EngineError",
    "Placement",
    "agent_name",
    "current_call",
    "enqueue",
    "hangup",
    "incoming_call",
    "ivr_input",
    "placement",
    "request_callback",
    "say",
    "set_agent_state",
    "tick",
    "wait_text",
    "wallboard",
    "wrap_up",
]
