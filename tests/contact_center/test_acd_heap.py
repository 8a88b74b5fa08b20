"""The router's heaps of free agents decide exactly as a scan of every member does (the scan is still
the path for round robin, fewest calls and ring all, and for a queue without a heap)."""

from __future__ import annotations

import random

import pytest

from okno.contact_center.acd import Agent, AgentState, Call, QueueSpec, Router, Strategy


def _pair(strategies: list[Strategy], seed: int) -> tuple[Router, list[Agent], Router, list[Agent]]:
    def build() -> tuple[Router, list[Agent]]:
        rng = random.Random(seed)
        queues = [
            QueueSpec(name=f"q{i}", strategy=strategies[i % len(strategies)], wrapup_s=rng.choice([0, 10]))
            for i in range(6)
        ]
        agents = [
            Agent(
                id=f"a{i}",
                skills={f"q{j}": rng.randint(0, 2) for j in rng.sample(range(6), rng.randint(1, 4))},
            )
            for i in range(40)
        ]
        return Router(queues, agents, seed=seed), agents

    heaped, agents = build()
    scanned, twins = build()
    for queue in scanned._queues.values():  # noqa: SLF001
        queue.free = None  # the reference: every decision scans the members
    return heaped, agents, scanned, twins


def _id(agent_or_call: Agent | Call | None) -> str | int | None:
    return agent_or_call.id if agent_or_call is not None else None


@pytest.mark.parametrize(
    "strategies",
    [[Strategy.SKILLS], [Strategy.LONGEST_IDLE], list(Strategy)],
    ids=["skills", "idle", "mixed"],
)
@pytest.mark.parametrize("seed", range(8))
def test_heaps_choose_the_same_agents_as_a_scan(strategies, seed):
    heaped, agents, scanned, twins = _pair(strategies, seed)
    rng = random.Random(seed + 100)
    calls: dict[int, tuple[Call, Call]] = {}
    t = 0.0
    for step in range(2000):
        t += rng.random() * 5
        op = rng.random()
        if op < 0.3:
            queue = f"q{rng.randrange(6)}"
            pair = calls[step] = (Call(step, queue, t), Call(step, queue, t))
            assert _id(heaped.offer(pair[0], t)) == _id(scanned.offer(pair[1], t))
            continue
        if op < 0.7 and calls and rng.random() < 0.2:
            first, second = calls[rng.choice(list(calls))]
            assert heaped.abandon(first) == scanned.abandon(second)
            continue
        busy = [i for i, a in enumerate(agents) if a.state in (AgentState.ON_CALL, AgentState.WRAP_UP)]
        free = [i for i, a in enumerate(agents) if a.state == AgentState.AVAILABLE]
        if op < 0.6 and busy:
            i = rng.choice(busy)
            a, b = agents[i], twins[i]
            if a.state == AgentState.ON_CALL:
                assert _id(heaped.end_call(a, t)) == _id(scanned.end_call(b, t))
            else:
                assert _id(heaped.wrapup_done(a, t)) == _id(scanned.wrapup_done(b, t))
        elif op < 0.8 or not free:
            i = rng.choice([i for i in range(len(agents)) if i not in busy] or [0])
            a, b = agents[i], twins[i]
            if a.state in (AgentState.ON_CALL, AgentState.WRAP_UP):
                continue
            state = rng.choice([AgentState.AVAILABLE, AgentState.BREAK, AgentState.OFFLINE])
            assert _id(heaped.set_state(a, state, t)) == _id(scanned.set_state(b, state, t))
        else:
            # the live engine's move: offer a free agent the waiting calls, keep their idle time if none
            i = rng.choice(free)
            a, b = agents[i], twins[i]
            idle = a.idle_since
            taken = heaped.set_state(a, AgentState.AVAILABLE, t)
            assert _id(taken) == _id(scanned.set_state(b, AgentState.AVAILABLE, t))
            if taken is None:
                a.idle_since = b.idle_since = idle
    assert [(a.state, a.idle_since, a.calls_taken) for a in agents] == [
        (b.state, b.idle_since, b.calls_taken) for b in twins
    ]
