"""A year of a large grid company's contact centre through the real routing engine, in one process.

The arrival pattern is built here: 17,520 half-hour intervals (365 days) with a daily shape (quiet
nights, a morning peak, a dip at lunch, an afternoon peak), a weekly one (Mondays busiest, Sundays
quietest), a season (winter above summer) and a few storm days on which the outage line takes several
times its calls for half a day. Five queues (outage, billing, readings, connection, general) share a pool
of multi-skilled agents (skills with penalties; any first N agents hold the same mix). Each interval's
staffing is ``staffing.required`` (Erlang C, 80 % within 20 s) for the forecast calls; storms are not in
the forecast, so the first two hours of a storm meet the planned staff, and then a reserve of up to half
as many again is called in — storm peaks still overload it, as they do. Then :func:`okno.contact_center.simulate.simulate` plays about 2.1 M
calls: Poisson arrivals, exponential handling (AHT 180 s) plus 15 s wrap-up, exponential patience
(mean 120 s), overflow from the outage queue to general after 60 s.

Printed and written to ``results/cc_simulation.json``: calls, seconds, calls per second, the KPIs, and
the ratio to a plain ``heapq`` push/pop loop of the same number of events on the same machine (the
machine may be shared; the ratio travels better than the seconds).

    python bench/bench_cc_simulation.py [--days 365] [--calls 2100000] [--seed 1]
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import write_result  # noqa: E402
from okno.contact_center import simulate as sim  # noqa: E402
from okno.contact_center.acd import Agent, QueueSpec, Strategy  # noqa: E402
from okno.contact_center.staffing import Load, StaffingError, required  # noqa: E402

INTERVAL_S = 1800.0
AHT_S = 180.0
WRAPUP_S = 15.0
PATIENCE_S = 120.0
TARGET_S = 20.0
TARGET_SL = 0.8
POOL = 240

# share of calls per queue on a normal day
MIX = {"outage": 0.35, "billing": 0.25, "readings": 0.15, "connection": 0.10, "general": 0.15}
# calls per hour of the day, relative (local time)
HOURS = [
    0.15,
    0.1,
    0.08,
    0.08,
    0.1,
    0.2,
    0.45,
    1.0,
    1.8,
    2.3,
    2.4,
    2.2,
    1.8,
    1.7,
    2.1,
    2.2,
    2.0,
    1.7,
    1.3,
    1.0,
    0.8,
    0.6,
    0.4,
    0.25,
]
WEEKDAYS = [1.2, 1.05, 1.0, 1.0, 0.95, 0.55, 0.45]  # Monday … Sunday
# skill profiles, repeated: queue → penalty
PROFILES = [
    {"outage": 0, "general": 1},
    {"billing": 0, "readings": 1, "general": 2},
    {"outage": 0, "billing": 1},
    {"readings": 0, "billing": 1, "general": 1},
    {"connection": 0, "general": 0, "outage": 2},
    {"outage": 0, "readings": 2},
]


def build_pattern(days: int, total_calls: float, seed: int) -> tuple[list[sim.Interval], dict]:
    rng = random.Random(seed)
    storm_days = sorted(rng.sample(range(days), k=min(8, days // 30 + 1))) if days >= 7 else []
    weights: list[dict[str, float]] = []  # the calls that come
    forecast: list[float] = []  # the calls the plan expected: storms are not in it
    storm_hours: list[bool] = []
    for day in range(days):
        season = 1.0 + 0.18 * math.cos(2 * math.pi * (day - 15) / 365)  # peak mid-January
        week = WEEKDAYS[day % 7]
        storm_from = 10 + rng.randrange(8) if day in storm_days else -1
        for half in range(48):
            hour = half // 2
            base = HOURS[hour] * week * season
            row = {q: base * share for q, share in MIX.items()}
            forecast.append(base)
            in_storm = storm_from >= 0 and storm_from <= hour < storm_from + 12
            if in_storm:
                ramp = 1 + 5 * math.exp(-((hour - storm_from - 3) ** 2) / 18)  # up to ×6, fades
                row["outage"] *= ramp
                row["general"] *= 1 + (ramp - 1) / 3
            storm_hours.append(in_storm and hour >= storm_from + 2)
            weights.append(row)
    scale = total_calls / sum(sum(w.values()) for w in weights)
    pattern: list[sim.Interval] = []
    cache: dict[int, int] = {}
    capped = 0

    def need(n_calls: int) -> int:
        if n_calls not in cache:
            try:
                load = Load(calls=n_calls, interval_s=INTERVAL_S, aht_s=AHT_S + WRAPUP_S)
                cache[n_calls] = (
                    required(load, TARGET_SL, TARGET_S).agents + 2 if n_calls else 2
                )  # +2: skill split
            except StaffingError:
                cache[n_calls] = POOL
        return cache[n_calls]

    for w, expected, reinforced in zip(weights, forecast, storm_hours, strict=True):
        calls = {q: v * scale for q, v in w.items()}
        planned = need(round(expected * scale))
        agents = planned
        if reinforced:  # two hours into a storm the reserve is called in: up to half as many again
            agents = min(need(round(sum(calls.values()))), planned + planned // 2)
            capped += agents < need(round(sum(calls.values())))
        pattern.append(sim.Interval(INTERVAL_S, calls, max(2, min(POOL, agents))))
    info = {
        "storm_days": storm_days,
        "staffing": "Erlang C for the forecast (80 % in 20 s, AHT incl. wrap-up, +2 for the skill split); "
        "storms are not forecast: from their third hour the reserve adds up to 50 %",
        "storm_intervals_short_of_erlang_c": capped,
    }
    return pattern, info


def setup() -> tuple[list[QueueSpec], list[Agent]]:
    queues = [
        QueueSpec(
            name="outage",
            strategy=Strategy.SKILLS,
            wrapup_s=WRAPUP_S,
            overflow_to="general",
            overflow_after_s=60.0,
        ),
        QueueSpec(name="billing", strategy=Strategy.SKILLS, wrapup_s=WRAPUP_S),
        QueueSpec(name="readings", strategy=Strategy.SKILLS, wrapup_s=WRAPUP_S),
        QueueSpec(name="connection", strategy=Strategy.SKILLS, wrapup_s=WRAPUP_S),
        QueueSpec(name="general", strategy=Strategy.LONGEST_IDLE, wrapup_s=WRAPUP_S),
    ]
    agents = [Agent(id=f"a{i}", skills=dict(PROFILES[i % len(PROFILES)])) for i in range(POOL)]
    return queues, agents


def heapq_baseline(n_events: int, seed: int) -> float:
    """Seconds for ``n_events`` heap pushes and pops of (time, seq, kind, payload) tuples."""
    rng = random.Random(seed)
    expo = rng.expovariate
    events: list[tuple[float, int, int, object]] = []
    push, pop = heapq.heappush, heapq.heappop
    t0 = time.perf_counter()
    for i in range(min(n_events, 1000)):
        push(events, (expo(1.0), i, 0, None))
    for i in range(n_events):
        now, _s, _k, _p = pop(events)
        push(events, (now + expo(1.0), i, 0, None))
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--calls", type=float, default=2_100_000, help="calls in a year")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--name", default="cc_simulation")
    args = parser.parse_args()
    t0 = time.perf_counter()
    pattern, info = build_pattern(args.days, args.calls * args.days / 365, args.seed)
    build_s = time.perf_counter() - t0
    queues, agents = setup()
    t0 = time.perf_counter()
    c0 = time.process_time()
    figures = sim.simulate(
        pattern,
        queues,
        agents,
        aht_s=AHT_S,
        target_s=TARGET_S,
        patience_s=PATIENCE_S,
        short_abandon_s=5.0,
        seed=args.seed,
    )
    seconds = time.perf_counter() - t0
    cpu_s = time.process_time() - c0
    events = figures.events
    c0 = time.process_time()
    baseline = heapq_baseline(events, args.seed)
    baseline_cpu = time.process_time() - c0
    kpis = {k: round(v, 4) if isinstance(v, float) else v for k, v in figures.as_dict().items()}
    by_queue = {
        q: dict(zip(("offered", "answered", "answered_within", "abandoned"), row, strict=True))
        for q, row in figures.by_queue.items()
    }
    write_result(
        args.name,
        {
            "target": "one year (≈ 2.1 M calls) in < 60 s",
            "days": args.days,
            "intervals": len(pattern),
            "agents_pool": len(agents),
            "agents_max_on": max(i.agents for i in pattern),
            "pattern": info,
            "pattern_build_s": round(build_s, 2),
            "calls": figures.offered,
            "events": events,
            "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu_s, 2),
            "calls_per_s": round(figures.offered / seconds),
            "calls_per_cpu_s": round(figures.offered / cpu_s),
            "heapq_baseline_s": round(baseline, 2),
            "heapq_baseline_cpu_s": round(baseline_cpu, 2),
            "ratio_to_heapq_loop": round(cpu_s / baseline_cpu, 2),
            "kpis": kpis,
            "by_queue": by_queue,
            "met": seconds < 60 and args.days >= 365,
        },
    )


if __name__ == "__main__":
    main()
