"""Routing decisions of :class:`okno.contact_center.acd.Router` in-process: 500 agents, 50 queues.

Each agent has a home queue (penalty 0) and two to five other queues (penalty 1 or 2), as a utility's
operators do (outages of their district, billing, readings …). The queues mix the strategies: skills and
longest idle (most), round robin, fewest calls and ring all. Calls arrive as Poisson streams with a
skewed popularity (a few queues take most calls) at about 95 % of the agents' capacity, so both cases
happen often: a free agent is chosen at once, or the call waits and a freed agent takes it. Callers
give up after an exponential patience; each queue has a 10 s wrap-up.

Every router call the telephony adapter would make — ``offer``, ``end_call``, ``wrapup_done``,
``abandon`` — is timed alone with ``time.perf_counter_ns`` (wall clock; on a shared machine its tail holds the
moments the process was preempted) and ``time.thread_time_ns`` (the thread's CPU time, for
comparison); printed and written to
``results/cc_routing.json``: count, p50, p99, p99.9 and max per kind and over all (µs). Target: p99 below
1 ms. The driving loop (the event heap, random numbers) is not timed.

    python bench/bench_routing.py [--calls 200000] [--seed 7]
"""

from __future__ import annotations

import argparse
import gc
import heapq
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import write_result  # noqa: E402
from okno.contact_center.acd import Agent, AgentState, Call, QueueSpec, Router, Strategy  # noqa: E402

AGENTS = 500
QUEUES = 50
AHT_S = 180.0
WRAPUP_S = 10.0
PATIENCE_S = 90.0
LOAD = 0.95


def setup(seed: int) -> tuple[Router, list[Agent], list[str], list[float]]:
    rng = random.Random(seed)
    strategies = [Strategy.SKILLS, Strategy.LONGEST_IDLE] * 3 + [
        Strategy.SKILLS,
        Strategy.ROUND_ROBIN,
        Strategy.FEWEST_CALLS,
        Strategy.RING_ALL,
    ]
    names = [f"q{i:02d}" for i in range(QUEUES)]
    specs = [
        QueueSpec(name=name, strategy=strategies[i % len(strategies)], wrapup_s=WRAPUP_S)
        for i, name in enumerate(names)
    ]
    agents = []
    for i in range(AGENTS):
        home = names[i % QUEUES]
        skills = {home: 0}
        for other in rng.sample(names, rng.randint(2, 5)):
            skills.setdefault(other, rng.choice((1, 2)))
        agents.append(Agent(id=f"a{i:03d}", skills=skills))
    router = Router(specs, agents, seed=seed)
    # popularity: Zipf-like over the queues, the busiest about 8 times the median
    weights = [1 / (1 + i) ** 0.8 for i in range(QUEUES)]
    rng.shuffle(weights)
    total = sum(weights)
    return router, agents, names, [w / total for w in weights]


def percentiles(samples: list[int]) -> dict[str, float]:
    if not samples:
        return {"count": 0}
    ordered = sorted(samples)
    n = len(ordered)

    def at(p: float) -> float:
        return round(ordered[min(n - 1, int(p * n))] / 1000, 2)

    return {
        "count": n,
        "p50_us": at(0.50),
        "p99_us": at(0.99),
        "p999_us": at(0.999),
        "max_us": round(ordered[-1] / 1000, 2),
        "mean_us": round(sum(ordered) / n / 1000, 2),
    }


def run(calls: int, seed: int) -> dict:
    router, agents, names, weights = setup(seed)
    rng = random.Random(seed + 1)
    clock = time.perf_counter_ns
    cpu = time.thread_time_ns
    timings: dict[str, list[int]] = {"offer": [], "end_call": [], "wrapup_done": [], "abandon": []}
    cpu_times: list[int] = []  # the same decisions in this thread's CPU time (no preemption in it)
    t = 0.0
    for agent in agents:  # everybody logs on (not timed: a shift start)
        router.set_state(agent, AgentState.AVAILABLE, t)
    rate = LOAD * AGENTS / (AHT_S + WRAPUP_S)  # calls per second
    events: list[tuple[float, int, int, object]] = []
    seq = 0
    arrivals = 0
    answered = waited = abandoned = 0
    push, pop = heapq.heappush, heapq.heappop
    ARRIVE, END, WRAP, GIVE_UP = range(4)
    push(events, (rng.expovariate(rate), 0, ARRIVE, None))
    choices = rng.choices
    gc.collect()
    gc.freeze()  # the set-up's objects are never collected: fewer long pauses in the timed part
    while events:
        now, _s, kind, payload = pop(events)
        if kind == ARRIVE:
            arrivals += 1
            seq += 1
            call = Call(id=seq, queue=choices(names, weights)[0], arrived_at=now)
            c0 = cpu()
            t0 = clock()
            agent = router.offer(call, now)
            timings["offer"].append(clock() - t0)
            cpu_times.append(cpu() - c0)
            if agent is not None:
                answered += 1
                push(events, (now + rng.expovariate(1 / AHT_S), seq, END, agent))
            else:
                waited += 1
                push(events, (now + rng.expovariate(1 / PATIENCE_S), seq, GIVE_UP, call))
            if arrivals < calls:
                seq += 1
                push(events, (now + rng.expovariate(rate), seq, ARRIVE, None))
        elif kind == END:
            agent = payload
            c0 = cpu()
            t0 = clock()
            router.end_call(agent, now)
            timings["end_call"].append(clock() - t0)
            cpu_times.append(cpu() - c0)
            seq += 1
            push(events, (now + WRAPUP_S, seq, WRAP, agent))
        elif kind == WRAP:
            agent = payload
            c0 = cpu()
            t0 = clock()
            taken = router.wrapup_done(agent, now)
            timings["wrapup_done"].append(clock() - t0)
            cpu_times.append(cpu() - c0)
            if taken is not None:
                answered += 1
                seq += 1
                push(events, (now + rng.expovariate(1 / AHT_S), seq, END, agent))
        else:
            call = payload
            if call.answered_at is not None:
                continue
            c0 = cpu()
            t0 = clock()
            gone = router.abandon(call)
            timings["abandon"].append(clock() - t0)
            cpu_times.append(cpu() - c0)
            abandoned += gone
    gc.unfreeze()
    every = [x for samples in timings.values() for x in samples]
    return {
        "calls": arrivals,
        "answered": answered,
        "waited_first": waited,
        "abandoned": abandoned,
        "decisions": percentiles(every),
        "decisions_cpu_time": percentiles(cpu_times),
        **{kind: percentiles(samples) for kind, samples in timings.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    t0 = time.perf_counter()
    figures = run(args.calls, args.seed)
    figures["wall_s"] = round(time.perf_counter() - t0, 2)
    figures["agents"] = AGENTS
    figures["queues"] = QUEUES
    figures["target"] = "routing decision p99 < 1 ms"
    figures["met"] = figures["decisions"]["p99_us"] < 1000
    write_result("cc_routing", figures)


if __name__ == "__main__":
    main()
