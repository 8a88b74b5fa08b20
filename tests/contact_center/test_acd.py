"""The routing engine: strategies, wrap-up, agent states, overflow, callbacks, position and wait."""

from __future__ import annotations

import pytest

from okno.contact_center.acd import Agent, AgentState, Call, QueueSpec, Router, RoutingError, Strategy


def _router(strategy: Strategy, n: int = 3, **spec) -> tuple[Router, list[Agent]]:
    agents = [Agent(id=f"a{i}", skills={"q": i}) for i in range(n)]
    router = Router([QueueSpec(name="q", strategy=strategy, **spec)], agents)
    for t, agent in enumerate(agents):
        router.set_state(agent, AgentState.AVAILABLE, float(t))
    return router, agents


def test_longest_idle_agent_answers_first():
    router, agents = _router(Strategy.LONGEST_IDLE)
    # a0 has been free since t=0, a1 since 1, a2 since 2
    assert router.offer(Call(1, "q", 10.0), 10.0) is agents[0]
    assert router.offer(Call(2, "q", 11.0), 11.0) is agents[1]


def test_round_robin_remembers_where_it_stopped():
    router, agents = _router(Strategy.ROUND_ROBIN)
    first = router.offer(Call(1, "q", 10.0), 10.0)
    router.end_call(first, 12.0)
    second = router.offer(Call(2, "q", 13.0), 13.0)
    assert (first, second) == (agents[0], agents[1])  # not a0 again although it is free


def test_fewest_calls_and_skills_with_penalties():
    router, agents = _router(Strategy.FEWEST_CALLS)
    agents[0].calls_taken, agents[1].calls_taken, agents[2].calls_taken = 5, 1, 3
    assert router.offer(Call(1, "q", 10.0), 10.0) is agents[1]
    router, agents = _router(Strategy.SKILLS)
    router.set_state(agents[0], AgentState.BREAK, 5.0)
    # penalties 0, 1, 2: a0 is on a break, so the next tier, a1, answers although a2 idles as long
    assert router.offer(Call(1, "q", 10.0), 10.0) is agents[1]


def test_ring_all_picks_one_of_the_free_agents():
    router, agents = _router(Strategy.RING_ALL)
    chosen = router.offer(Call(1, "q", 10.0), 10.0)
    assert chosen in agents and chosen.state == AgentState.ON_CALL


def test_wrap_up_keeps_the_agent_from_the_next_call():
    router, agents = _router(Strategy.LONGEST_IDLE, n=1, wrapup_s=30)
    agent = router.offer(Call(1, "q", 0.0), 0.0)
    waiting = Call(2, "q", 5.0)
    assert router.offer(waiting, 5.0) is None
    assert router.end_call(agent, 60.0) is None and agent.state == AgentState.WRAP_UP
    assert router.wrapup_done(agent, 90.0) is waiting
    assert waiting.answered_at == 90.0 and waiting.agent is agent


def test_a_free_agent_takes_the_lowest_penalty_queue_then_the_longest_wait():
    agent = Agent(id="x", skills={"power": 0, "billing": 1})
    router = Router([QueueSpec(name="power"), QueueSpec(name="billing")], [agent])
    old_billing = Call(1, "billing", 0.0)
    new_power = Call(2, "power", 50.0)
    router.offer(old_billing, 0.0)
    router.offer(new_power, 50.0)
    assert router.set_state(agent, AgentState.AVAILABLE, 60.0) is new_power


def test_states_an_agent_cannot_choose():
    router, agents = _router(Strategy.LONGEST_IDLE, n=1)
    router.offer(Call(1, "q", 0.0), 0.0)
    with pytest.raises(RoutingError):
        router.set_state(agents[0], AgentState.BREAK, 1.0)
    with pytest.raises(RoutingError):
        router.set_state(agents[0], AgentState.ON_CALL, 1.0)


def test_position_expected_wait_callback_offer_and_abandon():
    router, agents = _router(Strategy.LONGEST_IDLE, n=2, callback_threshold_s=200, aht_s=180)
    router.offer(Call(1, "q", 0.0), 0.0)
    router.offer(Call(2, "q", 0.0), 0.0)
    third, fourth = Call(3, "q", 1.0), Call(4, "q", 2.0)
    router.offer(third, 1.0)
    router.offer(fourth, 2.0)
    assert router.position(third) == 1 and router.position(fourth) == 2
    # place × AHT / staffed agents: 1 × 180 / 2 = 90 s; 2 × 180 / 2 = 180 s; a fifth would wait 270 s
    assert router.expected_wait_s(third) == 90 and router.expected_wait_s(fourth) == 180
    assert not router.offer_callback(fourth)
    fifth = Call(5, "q", 3.0)
    router.offer(fifth, 3.0)
    assert router.offer_callback(fifth)
    assert router.abandon(third) and router.position(fourth) == 1
    assert not router.abandon(third)


def test_overflow_moves_a_waiting_call_and_keeps_its_arrival_order():
    busy = Agent(id="b", skills={"main": 0})
    spare = Agent(id="s", skills={"spare": 0})
    router = Router(
        [QueueSpec(name="main", overflow_to="spare", overflow_after_s=60), QueueSpec(name="spare")],
        [busy, spare],
    )
    router.set_state(busy, AgentState.AVAILABLE, 0.0)
    router.offer(Call(1, "main", 0.0), 0.0)
    late = Call(2, "main", 10.0)
    router.offer(late, 10.0)
    assert router.overflow(late, 70.0) is None  # nobody free in spare either: waits there
    assert late.queue == "spare" and late.overflowed and router.position(late) == 1
    assert router.set_state(spare, AgentState.AVAILABLE, 80.0) is late


def test_configuration_errors_are_refused():
    with pytest.raises(RoutingError, match="unknown queue"):
        Router([QueueSpec(name="q", overflow_to="nowhere")], [])
    with pytest.raises(RoutingError, match="unknown queue"):
        Router([QueueSpec(name="q")], [Agent(id="a", skills={"other": 0})])
