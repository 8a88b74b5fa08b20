"""The simulator plays calls through the real router; under Erlang C's assumptions it agrees with it."""

from __future__ import annotations

import pytest

from okno.contact_center.simulate import Interval, simulate, single_queue
from okno.contact_center.staffing import Load, evaluate


def test_simulation_agrees_with_erlang_c_within_statistical_error():
    """100 calls per half hour, AHT 180 s, 14 agents: Erlang C says SL(20 s) 88.8 %, P(wait) 17.4 %,
    occupancy 71.4 %. 120 simulated hours (≈ 24,000 calls) with a fixed seed agree within two points."""
    hours = 120
    queues, agents = single_queue(14)
    figures = simulate(
        [Interval(3600 * hours, {"main": 200 * hours}, 14)], queues, agents, aht_s=180, target_s=20, seed=11
    )
    model = evaluate(Load(calls=100, interval_s=1800, aht_s=180), 14, 20)
    out = figures.as_dict()
    assert figures.offered == pytest.approx(200 * hours, rel=0.03)
    assert out["service_level"] == pytest.approx(model.service_level, abs=0.02)
    assert out["occupancy"] == pytest.approx(model.occupancy, abs=0.02)
    assert out["asa_s"] == pytest.approx(model.asa_s, abs=3)
    assert out["aht_s"] == pytest.approx(180, rel=0.03)
    assert out["abandoned"] == 0


def test_a_storm_without_more_agents_loses_callers_and_the_service_level():
    queues, agents = single_queue(20)
    normal = Interval(1800, {"main": 100}, 14)
    storm = Interval(1800, {"main": 400}, 20)
    figures = simulate(
        [normal, storm, normal], queues, agents, aht_s=180, patience_s=90, short_abandon_s=5, seed=5
    )
    out = figures.as_dict()
    assert figures.abandoned > 50
    assert out["service_level"] < 0.6
    # every call is either answered, abandoned or a short abandon
    assert figures.answered + figures.abandoned + figures.short_abandons == figures.offered
