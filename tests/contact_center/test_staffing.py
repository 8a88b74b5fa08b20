"""Erlang C and Erlang A: worked examples computed by hand, published figures, the command."""

from __future__ import annotations

import heapq
import json
import math
import random

import pytest
from django.core.management import call_command

from okno.contact_center.staffing import (
    Load,
    StaffingError,
    erlang_b,
    erlang_c,
    evaluate,
    required,
    with_shrinkage,
)


def test_erlang_b_and_c_for_two_agents_and_one_erlang_by_hand():
    # B(1) = 1·1/(1 + 1) = 1/2; B(2) = 1·(1/2)/(2 + 1/2) = 1/5.
    assert erlang_b(2, 1.0) == pytest.approx(0.2)
    # Factorial form: (A^N/N!)·N/(N−A) = (1/2)·2 = 1; Σ_{k<2} A^k/k! = 1 + 1 = 2; C = 1/(2 + 1) = 1/3.
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)


def test_published_example_100_calls_in_half_an_hour_needs_14_agents():
    """Call Centre Helper's worked example: 100 calls per 30 min, AHT 180 s, 80 % in 20 s.

    A = 100 × 180 / 1800 = 10 erlangs. With 11 agents: Σ_{k≤10} 10^k/k! = 12 842.3, 10^11/11! × 11/1 =
    25 052.1 × 11 = 275 573.2 → P(wait) = 275 573.2 / (12 842.3 + 275 573.2) = 0.6821, and
    SL = 1 − 0.6821 × e^(−1 × 20/180) = 0.3896. 13 agents give 79.6 %, 14 give 88.8 % (ASA 7.8 s,
    occupancy 10/14 = 71.4 %); with 30 % shrinkage 14 / 0.7 = 20 agents are scheduled.
    """
    load = Load(calls=100, interval_s=1800, aht_s=180)
    eleven = evaluate(load, 11, 20)
    assert eleven.p_wait == pytest.approx(0.6821, abs=5e-5)
    assert eleven.service_level == pytest.approx(0.3896, abs=5e-5)
    assert evaluate(load, 13, 20).service_level == pytest.approx(0.7956, abs=5e-5)
    result = required(load, 0.8, 20)
    assert result.agents == 14
    assert result.service_level == pytest.approx(0.8884, abs=5e-5)
    assert result.p_wait == pytest.approx(0.1741, abs=5e-5)
    assert result.asa_s == pytest.approx(7.84, abs=0.01)
    assert result.occupancy == pytest.approx(10 / 14)
    assert with_shrinkage(result, 0.3).scheduled_agents == 20


def test_erlang_c_matches_the_factorial_form_for_a_large_centre():
    a, n = 180.0, 195
    # log-space factorial form as the reference
    terms = [k * math.log(a) - math.lgamma(k + 1) for k in range(n)]
    k_n = n * math.log(a) - math.lgamma(n + 1) + math.log(n / (n - a))
    peak = max(max(terms), k_n)
    s = sum(math.exp(t - peak) for t in terms)
    tail = math.exp(k_n - peak)
    assert erlang_c(n, a) == pytest.approx(tail / (s + tail), rel=1e-9)


def test_load_at_or_above_agents_is_a_clear_error():
    with pytest.raises(StaffingError, match="queue grows without bound"):
        evaluate(Load(calls=100, interval_s=1800, aht_s=180), 10, 20)
    with pytest.raises(StaffingError, match="between 0 and 1"):
        required(Load(calls=100, interval_s=1800, aht_s=180), 1.0, 20)
    with pytest.raises(StaffingError, match="aht_s must be positive"):
        Load(calls=100, interval_s=1800, aht_s=0)


def test_erlang_a_tends_to_erlang_c_when_nobody_gives_up():
    c = evaluate(Load(calls=100, interval_s=1800, aht_s=180), 12, 20)
    a = evaluate(Load(calls=100, interval_s=1800, aht_s=180, patience_s=1e9), 12, 20)
    assert a.p_wait == pytest.approx(c.p_wait, abs=1e-5)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-5)
    assert a.asa_s == pytest.approx(c.asa_s, abs=1e-3)
    assert a.p_abandon == pytest.approx(0, abs=1e-6)


def _simulate(
    lam: float, mu: float, theta: float, agents: int, target_s: float, calls: int
) -> tuple[float, float]:
    """FCFS M/M/N+M: a caller is answered when the earliest agent frees unless their patience ends first."""
    rng = random.Random(7)
    t = 0.0
    free = [0.0] * agents
    within = abandoned = 0
    for _ in range(calls):
        t += rng.expovariate(lam)
        patience = rng.expovariate(theta)
        start = max(t, free[0])
        if start - t > patience:
            abandoned += 1
            continue
        heapq.heapreplace(free, start + rng.expovariate(mu))
        within += start - t <= target_s
    return within / calls, abandoned / calls


def test_erlang_a_agrees_with_a_simulation_of_callers_who_give_up():
    load = Load(calls=100, interval_s=1800, aht_s=180, patience_s=120)
    model = evaluate(load, 12, 20)
    sl, ab = _simulate(100 / 1800, 1 / 180, 1 / 120, 12, 20, 400_000)
    assert model.p_abandon == pytest.approx(0.0616, abs=5e-4)
    assert abs(model.service_level - sl) < 0.01
    assert abs(model.p_abandon - ab) < 0.005
    # Patience lets fewer agents reach the target than Erlang C says: 12 instead of 14.
    assert required(load, 0.8, 20).agents == 12


def _run(*args: str) -> tuple[dict, int]:
    from io import StringIO

    out = StringIO()
    code = 0
    try:
        call_command("staffing", *args, stdout=out)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return json.loads(out.getvalue()), code


BASE = [
    "erlang-c",
    "--calls",
    "100",
    "--interval-s",
    "1800",
    "--aht-s",
    "180",
    "--target-sl",
    "0.8",
    "--target-s",
    "20",
]


def test_command_prints_the_staffing_as_json():
    out, code = _run(*BASE)
    assert code == 0
    assert out["agents"] == 14
    assert set(out) >= {"agents", "service_level", "p_wait", "asa_s", "occupancy"}
    out, _ = _run(*BASE, "--agents", "13")
    assert out["agents"] == 13 and out["service_level"] == pytest.approx(0.7956, abs=1e-4)
    out, _ = _run(*BASE, "--shrinkage", "0.3")
    assert out["scheduled_agents"] == 20
    out, _ = _run(*BASE, "--patience-s", "120")
    assert out["agents"] == 12 and "p_abandon" in out


def test_command_answers_an_impossible_staffing_with_an_error():
    out, code = _run(*BASE, "--agents", "9")
    assert code == 2
    assert "queue grows without bound" in out["error"]


def test_plan_per_interval_from_a_forecast(tmp_path):
    forecast = tmp_path / "day.csv"
    forecast.write_text("interval,calls\n08:00,100\n08:30,0\n09:00,200\n", encoding="utf-8")
    out, code = _run(
        "plan", "--forecast", str(forecast), "--aht-s", "180", "--target-sl", "0.8", "--target-s", "20"
    )
    assert code == 0
    agents = [row["agents"] for row in out["intervals"]]
    assert agents[0] == 14 and agents[1] == 0
    assert agents[2] > 2 * 10  # 20 erlangs need more than 20 agents
