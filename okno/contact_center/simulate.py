"""A discrete-event simulation of the contact centre through the real routing engine.

Calls arrive as a Poisson process whose rate is constant within each interval of an arrival pattern
(a normal day, a storm); handling times are exponential (Erlang's assumption) or log-normal; callers
give up after an exponential patience (or never). Agents log on and off at interval boundaries as the
staffing plan says; one who should leave finishes their call first. Every decision — who answers,
which waiting call a free agent takes, overflow — is :class:`okno.contact_center.acd.Router`'s.

The KPIs are those of :mod:`okno.contact_center` statistics: service level "answered within T /
(offered − short abandons)", ASA over answered calls, abandonment rate, AHT and occupancy (busy time,
talk and wrap-up, over staffed time).
"""

from __future__ import annotations

import gc
import heapq
import math
import random
from dataclasses import dataclass, field
from typing import Any

from okno.contact_center.acd import Agent, AgentState, Call, QueueSpec, Router
from okno.contact_center.stats import SHORT_ABANDON_S, service_level

_ARRIVAL, _END, _ABANDON, _OVERFLOW, _SHIFT = range(5)


@dataclass(frozen=True)
class Interval:
    """``calls`` expected per queue over ``length_s`` seconds, with ``agents`` logged on."""

    length_s: float
    calls: dict[str, float]
    agents: int


@dataclass
class Figures:
    offered: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    short_abandons: int = 0
    wait_answered_s: float = 0.0
    talk_s: float = 0.0
    busy_s: float = 0.0
    staffed_s: float = 0.0
    max_wait_s: float = 0.0
    by_queue: dict[str, list[int]] = field(default_factory=dict)  # offered, answered, within, abandoned
    events: int = 0  # events played (arrivals, ends of talk + wrap-up, abandons, overflows, shift changes)

    def as_dict(self) -> dict[str, float | int]:
        level = service_level(self.answered_within, self.offered, self.short_abandons)
        return {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "short_abandons": self.short_abandons,
            "service_level": level if level is not None else 1.0,
            "asa_s": self.wait_answered_s / self.answered if self.answered else 0.0,
            "abandon_rate": self.abandoned / self.offered if self.offered else 0.0,
            "aht_s": self.talk_s / self.answered if self.answered else 0.0,
            "occupancy": self.busy_s / self.staffed_s if self.staffed_s else 0.0,
            "max_wait_s": self.max_wait_s,
        }


def simulate(
    pattern: list[Interval],
    queues: list[QueueSpec],
    agents: list[Agent],
    *,
    aht_s: float,
    target_s: float = 20.0,
    patience_s: float | None = None,
    short_abandon_s: float = SHORT_ABANDON_S,
    service: str = "exponential",
    seed: int = 1,
) -> Figures:
    """Play ``pattern`` through a router of ``queues`` and ``agents``; ``agents[:interval.agents]`` are
    logged on in each interval."""
    # The run allocates millions of short-lived objects and makes no reference cycles that outlive a
    # call: the cyclic collector would only cost time (about a fifth), so it is paused for the run.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run(
            pattern,
            queues,
            agents,
            aht_s=aht_s,
            target_s=target_s,
            patience_s=patience_s,
            short_abandon_s=short_abandon_s,
            service=service,
            seed=seed,
        )
    finally:
        if collecting:
            gc.enable()


def _run(
    pattern: list[Interval],
    queues: list[QueueSpec],
    agents: list[Agent],
    *,
    aht_s: float,
    target_s: float = 20.0,
    patience_s: float | None = None,
    short_abandon_s: float = SHORT_ABANDON_S,
    service: str = "exponential",
    seed: int = 1,
) -> Figures:
    rng = random.Random(seed)
    router = Router(queues, agents, seed=seed)
    by_queue: dict[str, list[int]] = {q.name: [0, 0, 0, 0] for q in queues}
    figures = Figures(by_queue=by_queue)
    # The hot loop keeps its counters in local variables (written to ``figures`` at the end), draws
    # exponentials inline and generates each interval's arrivals when the interval starts (merged with
    # the event heap instead of pushed into it): a year of millions of calls stays in seconds.
    events: list[tuple[float, int, int, Any]] = []
    seq = 0
    push = heapq.heappush
    pop = heapq.heappop
    rand = rng.random
    log = math.log
    available = AgentState.AVAILABLE
    if service == "lognormal":  # same mean, coefficient of variation 1
        sigma = math.sqrt(math.log(2))
        mu_log = math.log(aht_s) - sigma * sigma / 2

        def handle_time() -> float:
            return rng.lognormvariate(mu_log, sigma)
    else:

        def handle_time() -> float:
            return -log(1.0 - rand()) * aht_s

    patience = float(patience_s) if patience_s else 0.0
    wrapups = {q.name: q.wrapup_s for q in queues}
    overflows = {q.name: q.overflow_after_s for q in queues if q.overflow_to and q.overflow_after_s > 0}
    leaving: set[str] = set()
    logged_on: list[Agent] = []
    on_since: dict[str, float] = {}
    busy_since: dict[str, float] = {}
    become = router._become  # noqa: SLF001

    offered = answered = within = abandoned = short_abandons = 0
    wait_answered = talk_total = busy_total = staffed_total = max_wait = 0.0
    n_events = 0

    starts: list[float] = []
    t = 0.0
    for interval in pattern:
        starts.append(t)
        t += interval.length_s
    horizon = t
    if pattern:
        push(events, (0.0, -1, _SHIFT, 0))

    def arrivals_of(i: int) -> list[tuple[float, str]]:
        """One Poisson stream per queue over interval ``i``, merged in time order."""
        interval = pattern[i]
        begin = starts[i]
        end = begin + interval.length_s
        out: list[tuple[float, str]] = []
        for queue, calls in interval.calls.items():
            if calls <= 0:
                continue
            mean = interval.length_s / calls
            t = begin - log(1.0 - rand()) * mean
            while t < end:
                out.append((t, queue))
                t -= log(1.0 - rand()) * mean
        out.sort()
        return out

    def connected(call: Call, now: float) -> None:
        nonlocal seq, answered, wait_answered, max_wait, within, talk_total
        wait = now - call.arrived_at
        answered += 1
        wait_answered += wait
        if wait > max_wait:
            max_wait = wait
        row = by_queue[call.data["q0"]]
        row[1] += 1
        if wait <= target_s:
            within += 1
            row[2] += 1
        talk = handle_time()
        talk_total += talk
        agent = call.agent
        assert agent is not None
        if agent.id not in busy_since:
            busy_since[agent.id] = now
        seq += 1
        # One event for the talk and the wrap-up: nothing the router decides looks at whether a busy
        # agent is still talking or already wrapping up, so the agent is freed when both are over.
        push(events, (now + talk + wrapups[call.queue], seq, _END, agent))

    def free(agent: Agent, now: float) -> None:
        """After the call and its wrap-up: leave if the plan says so, else take the next call."""
        nonlocal busy_total, staffed_total
        started = busy_since.pop(agent.id, None)
        if started is not None:
            busy_total += now - started
        if agent.id in leaving:
            leaving.discard(agent.id)
            staffed_total += now - on_since.pop(agent.id, now)
            agent.state = AgentState.OFFLINE
            agent.call = None
            return
        call = become(agent, available, now)
        if call is not None:
            connected(call, now)

    now = 0.0
    arrivals: list[tuple[float, str]] = []
    ai = na = 0
    while True:
        if events and (ai >= na or events[0][0] <= arrivals[ai][0]):
            now, _seq, kind, payload = pop(events)
        elif ai < na:
            now, queue = arrivals[ai]
            ai += 1
            kind = _ARRIVAL
        else:
            break
        n_events += 1
        if kind == _ARRIVAL:
            offered += 1
            by_queue[queue][0] += 1
            seq += 1
            call = Call(id=seq, queue=queue, arrived_at=now)
            call.data["q0"] = queue
            if router.offer(call, now) is not None:
                connected(call, now)
            else:
                if patience:
                    push(events, (now - log(1.0 - rand()) * patience, seq, _ABANDON, call))
                after = overflows.get(queue)
                if after is not None:
                    seq += 1
                    push(events, (now + after, seq, _OVERFLOW, call))
        elif kind == _END:
            free(payload, now)
        elif kind == _ABANDON:
            call = payload
            if call.answered_at is None and router.abandon(call):
                wait = now - call.arrived_at
                if wait < short_abandon_s:
                    short_abandons += 1
                else:
                    abandoned += 1
                    by_queue[call.data["q0"]][3] += 1
        elif kind == _OVERFLOW:
            call = payload
            if call.answered_at is None and router.overflow(call, now) is not None:
                connected(call, now)
        else:  # a shift boundary: this interval's arrivals; log agents on or mark them to leave
            i = payload
            arrivals = arrivals_of(i)
            ai, na = 0, len(arrivals)
            if i + 1 < len(pattern):
                push(events, (starts[i + 1], -1, _SHIFT, i + 1))
            want = pattern[i].agents
            while len(logged_on) < want:
                agent = agents[len(logged_on)]
                logged_on.append(agent)
                if agent.id in leaving:  # was due to leave after a call: stays instead
                    leaving.discard(agent.id)
                    continue
                on_since[agent.id] = now
                taken = become(agent, available, now)
                if taken is not None:
                    connected(taken, now)
            while len(logged_on) > want:
                agent = logged_on.pop()
                if agent.state == available:
                    staffed_total += now - on_since.pop(agent.id, now)
                    agent.state = AgentState.OFFLINE
                else:
                    leaving.add(agent.id)
    end = max(horizon, now)
    for agent_id in list(on_since):
        staffed_total += end - on_since.pop(agent_id)
    figures.offered, figures.answered, figures.answered_within = offered, answered, within
    figures.abandoned, figures.short_abandons = abandoned, short_abandons
    figures.wait_answered_s, figures.talk_s, figures.max_wait_s = wait_answered, talk_total, max_wait
    figures.busy_s, figures.staffed_s = busy_total, staffed_total
    figures.events = n_events
    return figures


def single_queue(agents: int, **spec: Any) -> tuple[list[QueueSpec], list[Agent]]:
    """One queue ``main`` and ``agents`` identical agents: Erlang's set-up."""
    queue = QueueSpec(name="main", **spec)
    return [queue], [Agent(id=f"a{i}", skills={"main": 0}) for i in range(agents)]
