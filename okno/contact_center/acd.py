"""Automatic call distribution: the routing engine, in memory, with no I/O and no clock of its own.

The same engine answers the telephony adapter in production and the discrete-event simulator
(:mod:`okno.contact_center.simulate`): every method takes the current time ``now`` (seconds, any
epoch) from its caller, so a simulated year and a live day run the same code.

* A :class:`QueueSpec` has a distribution strategy, a wrap-up time, a waiting-time norm, an overflow
  queue (after ``overflow_after_s`` of waiting) and a callback threshold (an expected wait above it
  offers a callback; the caller keeps their place).
* An :class:`Agent` has skills: queue → penalty (0 is the best; Asterisk's member penalty). States are
  available, on call, wrap-up, break and offline.
* Strategies: ``longest_idle``, ``round_robin`` (with memory: the next member after the last one
  offered a call), ``fewest_calls``, ``skills`` (the lowest penalty tier that has someone free, longest
  idle within it) and ``ring_all`` (everyone free rings; whoever answers first — modelled as a seeded
  random pick).
* When an agent becomes free, they take the waiting call they are best for: the lowest penalty among
  their queues, then the longest waiting.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from heapq import heapify, heappop, heappush, heapreplace


class Strategy(StrEnum):
    LONGEST_IDLE = "longest_idle"
    ROUND_ROBIN = "round_robin"
    FEWEST_CALLS = "fewest_calls"
    SKILLS = "skills"
    RING_ALL = "ring_all"


class AgentState(StrEnum):
    AVAILABLE = "available"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    BREAK = "break"
    OFFLINE = "offline"


class RoutingError(ValueError):
    pass


@dataclass
class QueueSpec:
    name: str
    strategy: Strategy = Strategy.LONGEST_IDLE
    wrapup_s: float = 0.0
    target_answer_s: float = 20.0  # the waiting-time norm
    overflow_to: str = ""
    overflow_after_s: float = 0.0
    callback_threshold_s: float = 0.0  # 0: never offer a callback
    aht_s: float = 180.0  # used for the expected wait until measured figures replace it


@dataclass(eq=False)
class Agent:
    id: str
    skills: dict[str, int]  # queue name → penalty (0 best)
    state: AgentState = AgentState.OFFLINE
    idle_since: float = 0.0
    calls_taken: int = 0
    call: Call | None = None
    # bumped each time the router lists the agent as free: older entries in the queues' heaps are stale
    epoch: int = field(default=0, repr=False)

    def __hash__(self) -> int:
        return hash(self.id)


@dataclass(eq=False)
class Call:
    id: int
    queue: str
    arrived_at: float
    enqueued_at: float = 0.0
    caller: str = ""
    callback: bool = False  # the caller asked to be called back and left the line
    answered_at: float | None = None
    agent: Agent | None = None
    overflowed: bool = False
    data: dict = field(default_factory=dict)

    def __hash__(self) -> int:
        return self.id


@dataclass
class _Queue:
    spec: QueueSpec
    members: list[Agent] = field(default_factory=list)
    waiting: deque[Call] = field(default_factory=deque)
    rr_next: int = 0
    # longest idle and skills: a heap of (penalty, idle since, member index, epoch, agent) of the members
    # listed as free, checked lazily when read (a decision is O(log n) instead of a scan of the members)
    free: list[tuple[int, float, int, int, Agent]] | None = None
    index: dict[str, int] = field(default_factory=dict)
    by_penalty: bool = False  # the heap's first key is the member's penalty (skills), else 0
    limit: int = 64  # past this many entries the stale ones are dropped


class Router:
    """Queues, agents and the waiting calls; decisions only (the caller plays the media)."""

    def __init__(self, queues: list[QueueSpec], agents: list[Agent], *, seed: int = 0) -> None:
        self._queues: dict[str, _Queue] = {}
        for spec in queues:
            if spec.name in self._queues:
                raise RoutingError(f"queue {spec.name!r} defined twice")
            heaped = spec.strategy in _HEAPED
            self._queues[spec.name] = _Queue(
                spec, free=[] if heaped else None, by_penalty=spec.strategy == Strategy.SKILLS
            )
        for spec in queues:
            if spec.overflow_to and spec.overflow_to not in self._queues:
                raise RoutingError(f"queue {spec.name!r} overflows to unknown queue {spec.overflow_to!r}")
        self.agents: dict[str, Agent] = {}
        for agent in agents:
            self.add_agent(agent)
        self._random = random.Random(seed)

    # ------------------------------------------------------------------ set-up and agent states

    def add_agent(self, agent: Agent) -> None:
        if agent.id in self.agents:
            raise RoutingError(f"agent {agent.id!r} added twice")
        for queue in agent.skills:
            if queue not in self._queues:
                raise RoutingError(f"agent {agent.id!r} has a skill in unknown queue {queue!r}")
        self.agents[agent.id] = agent
        for queue in agent.skills:
            q = self._queues[queue]
            q.index[agent.id] = len(q.members)
            q.members.append(agent)
            q.limit = 4 * len(q.members) + 64
        if agent.state == AgentState.AVAILABLE:
            self._list_free(agent)

    def refresh(self, agent: Agent) -> None:
        """Tell the router an agent's state, idle time or skills were changed directly (not through
        :meth:`set_state`, :meth:`end_call` or :meth:`wrapup_done`). Needed when a free agent's idle time
        or penalty was made earlier or lower, or a state was set to available directly; a later idle time
        or a higher penalty is noticed by itself."""
        if agent.state == AgentState.AVAILABLE:
            self._list_free(agent)

    def _list_free(self, agent: Agent) -> None:
        """File a free agent in the heaps of their queues (the entries they had become stale)."""
        agent.epoch = epoch = agent.epoch + 1
        idle = agent.idle_since
        aid = agent.id
        queues = self._queues
        for name, penalty in agent.skills.items():
            q = queues[name]
            free = q.free
            if free is None:
                continue
            if len(free) > q.limit:  # drop the stale entries now and then
                free[:] = [e for e in free if e[4].epoch == e[3] and e[4].state == _AVAILABLE]
                heapify(free)
            heappush(free, (penalty if q.by_penalty else 0, idle, q.index[aid], epoch, agent))

    def spec(self, queue: str) -> QueueSpec:
        return self._queue(queue).spec

    def _queue(self, name: str) -> _Queue:
        try:
            return self._queues[name]
        except KeyError:
            raise RoutingError(f"unknown queue {name!r}") from None

    def set_state(self, agent: Agent, state: AgentState, now: float) -> Call | None:
        """The agent changes their own state (available, break, offline); not during a call. An agent
        who becomes available takes a waiting call at once (returned, already answered by them)."""
        if agent.state == AgentState.ON_CALL or state in (AgentState.ON_CALL, AgentState.WRAP_UP):
            raise RoutingError(f"agent {agent.id!r}: {agent.state} → {state} is not an agent's choice")
        return self._become(agent, state, now)

    def _become(self, agent: Agent, state: AgentState, now: float) -> Call | None:
        was = agent.state
        agent.state = state
        agent.call = None
        if state == _AVAILABLE:
            agent.idle_since = now
            call = self._take_waiting(agent, now)
            # A free agent announced free again keeps their heap entries: filed under the earlier idle
            # time, they are filed again under the new one when they surface (an entry's key may be
            # earlier than the agent's, never later), and the live engine may put the old time back.
            if call is None and was != _AVAILABLE:
                self._list_free(agent)
            return call
        return None

    # ------------------------------------------------------------------ calls

    def offer(self, call: Call, now: float) -> Agent | None:
        """A call enters its queue: answered by the chosen agent, or left waiting (``None``)."""
        queue = self._queues.get(call.queue) or self._queue(call.queue)
        call.enqueued_at = now
        agent = self._choose(queue, now)
        if agent is not None:
            self._connect(agent, call, now)
            return agent
        queue.waiting.append(call)
        return None

    def abandon(self, call: Call) -> bool:
        """The caller hung up while waiting; false when they were no longer waiting."""
        queue = self._queues.get(call.queue)
        if queue is None or call.answered_at is not None:
            return False
        try:
            queue.waiting.remove(call)
        except ValueError:
            return False
        return True

    def end_call(self, agent: Agent, now: float, *, then: AgentState = AgentState.AVAILABLE) -> Call | None:
        """The agent hangs up: wrap-up if the queue has one (the caller must later call
        :meth:`wrapup_done`), else available again, possibly with the next call (returned)."""
        call = agent.call
        wrapup = self._queues[call.queue].spec.wrapup_s if call is not None else 0.0
        if agent.state != AgentState.ON_CALL:
            raise RoutingError(f"agent {agent.id!r} is not on a call")
        if wrapup > 0:
            agent.state = AgentState.WRAP_UP
            return None
        return self._become(agent, then, now)

    def wrapup_done(
        self, agent: Agent, now: float, *, then: AgentState = AgentState.AVAILABLE
    ) -> Call | None:
        """Wrap-up is over: the agent is available (or goes on ``then``: a break, offline)."""
        if agent.state != AgentState.WRAP_UP:
            return None
        return self._become(agent, then, now)

    def overflow(self, call: Call, now: float) -> Agent | None:
        """Move a call still waiting past its queue's ``overflow_after_s`` to the overflow queue."""
        queue = self._queue(call.queue)
        if not queue.spec.overflow_to or call.answered_at is not None:
            return None
        try:
            queue.waiting.remove(call)
        except ValueError:
            return None
        call.queue = queue.spec.overflow_to
        call.overflowed = True
        target = self._queue(call.queue)
        agent = self._choose(target, now)
        if agent is not None:
            self._connect(agent, call, now)
            return agent
        # it keeps its original arrival time: the longest waiting is still served first
        self._insert_by_arrival(target.waiting, call)
        return None

    @staticmethod
    def _insert_by_arrival(waiting: deque[Call], call: Call) -> None:
        for i, other in enumerate(waiting):
            if other.arrived_at > call.arrived_at:
                waiting.insert(i, call)
                return
        waiting.append(call)

    # ------------------------------------------------------------------ what callers hear

    def position(self, call: Call) -> int:
        """1-based place in its queue (0 if not waiting)."""
        for i, other in enumerate(self._queue(call.queue).waiting, start=1):
            if other is call:
                return i
        return 0

    def staffed(self, queue: str) -> int:
        return sum(1 for a in self._queue(queue).members if a.state in _STAFFED)

    def expected_wait_s(self, call: Call, aht_s: float | None = None) -> float:
        """A plain estimate: callers ahead and this one, served by the staffed members, one AHT each."""
        queue = self._queue(call.queue)
        aht = aht_s if aht_s is not None else queue.spec.aht_s
        staffed = self.staffed(call.queue)
        place = self.position(call) or len(queue.waiting) + 1
        if staffed == 0:
            return float("inf")
        return place * aht / staffed

    def offer_callback(self, call: Call) -> bool:
        threshold = self._queue(call.queue).spec.callback_threshold_s
        return threshold > 0 and self.expected_wait_s(call) > threshold

    def waiting(self, queue: str) -> list[Call]:
        return list(self._queue(queue).waiting)

    # ------------------------------------------------------------------ decisions

    def _connect(self, agent: Agent, call: Call, now: float) -> None:
        agent.state = _ON_CALL
        agent.call = call
        agent.calls_taken += 1
        call.agent = agent
        call.answered_at = now

    def _choose(self, queue: _Queue, now: float) -> Agent | None:
        heap = queue.free
        if heap is not None:
            skills = queue.by_penalty
            while heap:
                penalty, idle, index, epoch, member = heap[0]
                if member.epoch != epoch or member.state != _AVAILABLE:
                    heappop(heap)  # stale: the agent took a call or left since
                    continue
                if member.idle_since != idle or (
                    skills and member.skills.get(queue.spec.name, penalty) != penalty
                ):  # changed from outside the router: file it again under its current key
                    now_penalty = member.skills.get(queue.spec.name, 0) if skills else 0
                    heapreplace(heap, (now_penalty, member.idle_since, index, epoch, member))
                    continue
                heappop(heap)
                return member
            return None
        members = queue.members
        strategy = queue.spec.strategy
        if strategy == Strategy.ROUND_ROBIN:
            n = len(members)
            for step in range(n):
                i = (queue.rr_next + step) % n
                if members[i].state == AgentState.AVAILABLE:
                    queue.rr_next = (i + 1) % n
                    return members[i]
            return None
        best: Agent | None = None
        best_key: tuple = ()
        free: list[Agent] = []
        name = queue.spec.name
        for agent in members:
            if agent.state != AgentState.AVAILABLE:
                continue
            if strategy == Strategy.RING_ALL:
                free.append(agent)
                continue
            if strategy == Strategy.FEWEST_CALLS:
                key: tuple = (agent.calls_taken, agent.idle_since)
            elif strategy == Strategy.SKILLS:
                key = (agent.skills[name], agent.idle_since)
            else:
                key = (agent.idle_since,)
            if best is None or key < best_key:
                best, best_key = agent, key
        if strategy == Strategy.RING_ALL:
            return self._random.choice(free) if free else None
        return best

    def _take_waiting(self, agent: Agent, now: float) -> Call | None:
        """The call this newly free agent should take: lowest penalty queue first, then the longest wait."""
        chosen: Call | None = None
        chosen_key: tuple = ()
        for name, penalty in agent.skills.items():
            waiting = self._queues[name].waiting
            if not waiting:
                continue
            head = waiting[0]
            key = (penalty, head.arrived_at)
            if chosen is None or key < chosen_key:
                chosen, chosen_key = head, key
        if chosen is None:
            return None
        self._queues[chosen.queue].waiting.popleft()
        self._connect(agent, chosen, now)
        return chosen


_STAFFED = frozenset({AgentState.AVAILABLE, AgentState.ON_CALL, AgentState.WRAP_UP})
_HEAPED = frozenset({Strategy.LONGEST_IDLE, Strategy.SKILLS})
_AVAILABLE = AgentState.AVAILABLE
_ON_CALL = AgentState.ON_CALL
