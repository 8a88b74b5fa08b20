"""Staffing calculators: Erlang C (M/M/N) and Erlang A (M/M/N+M, callers who give up).

Both take the offered calls per interval, the interval's length and the average handling time (AHT);
Erlang A also the callers' mean patience. Traffic ``A = calls × AHT / interval`` (erlangs).

Erlang C (no abandonment, an infinite queue):

* ``P(wait) = C(N, A)``, computed from the Erlang B recursion
  ``B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1))`` and ``C = N·B / (N − A·(1 − B))`` — stable for
  thousands of agents, unlike the factorial form;
* service level (answered within T / offered) ``SL = 1 − C·exp(−(N − A)·T / AHT)``;
* ``ASA = C·AHT / (N − A)`` (over all calls, the unwaited ones counting as 0);
* occupancy ``A / N``. ``N ≤ A`` has no steady state: the queue grows without bound.

Erlang A (Palm's model: exponential patience with mean ``P``, ``θ = 1/P``; ``μ = 1/AHT``):

* the number in the system is a birth–death chain with birth rate ``λ`` and death rate ``nμ`` up to N,
  ``Nμ + (n − N)θ`` above; its stationary distribution ``π`` is summed in log space and truncated where
  the terms fall below 1e-18 of the largest;
* ``P(wait) = Σ_{n≥N} π_n``; ``P(abandon) = Σ_{n>N} (n − N)θπ_n / λ``;
* a caller who finds ``N + i`` in the system waits through ``i + 1`` steps; step ``j`` (``j`` callers
  ahead) lasts ``Exp(Nμ + jθ + θ)`` and ends with the caller still there with probability
  ``(Nμ + jθ) / (Nμ + jθ + θ)`` (competing exponential clocks). So ``P(served | i)`` is the product of
  those, and the wait of a served caller is the sum of the steps, whose distribution at ``T`` is found
  by uniformisation of the pure-death chain;
* service level = answered within T / offered (abandoned calls count in the denominator; the
  "short abandons excluded" variant is the statistics module's business, not the model's);
* ``ASA`` = the mean wait of answered calls (the unwaited ones counting as 0); occupancy = carried
  traffic / N = ``A·(1 − P(abandon)) / N``.

With ``θ → 0`` Erlang A tends to Erlang C (a test checks it).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

MAX_AGENTS = 100_000


class StaffingError(ValueError):
    """An impossible question: no steady state, a target that cannot be met, a bad number."""


@dataclass(frozen=True)
class Load:
    """What is offered in one interval."""

    calls: float
    interval_s: float
    aht_s: float
    patience_s: float | None = None  # None: Erlang C

    def __post_init__(self) -> None:
        for name in ("calls", "interval_s", "aht_s"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or math.isnan(value) or math.isinf(value):
                raise StaffingError(f"{name} must be a number")
        if self.calls < 0:
            raise StaffingError("calls must not be negative")
        if self.interval_s <= 0:
            raise StaffingError("interval_s must be positive")
        if self.aht_s <= 0:
            raise StaffingError("aht_s must be positive")
        if self.patience_s is not None and not self.patience_s > 0:
            raise StaffingError("patience_s must be positive")

    @property
    def erlangs(self) -> float:
        return self.calls * self.aht_s / self.interval_s


@dataclass(frozen=True)
class Result:
    agents: int
    erlangs: float
    service_level: float
    p_wait: float
    asa_s: float
    occupancy: float
    p_abandon: float | None = None
    scheduled_agents: int | None = None

    def as_dict(self, digits: int = 4) -> dict[str, float | int]:
        out: dict[str, float | int] = {}
        for key, value in asdict(self).items():
            if value is None:
                continue
            out[key] = round(value, digits) if isinstance(value, float) else value
        return out


# ---------------------------------------------------------------------------------- Erlang C


def erlang_b(agents: int, erlangs: float) -> float:
    """Blocking probability of ``agents`` servers offered ``erlangs`` (the stable recursion)."""
    b = 1.0
    for n in range(1, agents + 1):
        b = erlangs * b / (n + erlangs * b)
    return b


def erlang_c(agents: int, erlangs: float) -> float:
    """Probability that a call waits (Erlang C); ``agents`` must exceed ``erlangs``."""
    if agents <= erlangs:
        raise StaffingError(
            f"the load of {erlangs:.2f} erlangs needs more than {agents} agents: "
            "with load ≥ agents the queue grows without bound"
        )
    if erlangs == 0:
        return 0.0
    b = erlang_b(agents, erlangs)
    return agents * b / (agents - erlangs * (1 - b))


def evaluate_c(load: Load, agents: int, target_s: float) -> Result:
    a = load.erlangs
    pw = erlang_c(agents, a)
    sl = 1 - pw * math.exp(-(agents - a) * target_s / load.aht_s)
    asa = pw * load.aht_s / (agents - a)
    return Result(agents=agents, erlangs=a, service_level=sl, p_wait=pw, asa_s=asa, occupancy=a / agents)


# ---------------------------------------------------------------------------------- Erlang A


def _stationary(load: Load, agents: int) -> list[float]:
    """π_0 … π_K of the M/M/N+M chain (normalised, truncated where negligible)."""
    lam = load.calls / load.interval_s
    mu = 1 / load.aht_s
    theta = 1 / float(load.patience_s)  # type: ignore[arg-type]
    logs = [0.0]
    n = 0
    peak = 0.0
    while True:
        n += 1
        death = n * mu if n <= agents else agents * mu + (n - agents) * theta
        if lam == 0:
            break
        value = logs[-1] + math.log(lam) - math.log(death)
        logs.append(value)
        peak = max(peak, value)
        if n > agents and value < peak - 41.4 and value < logs[-2]:  # e^-41.4 ≈ 1e-18
            break
        if n > 10 * (agents + load.erlangs) + 10_000:
            break
    top = max(logs)
    weights = [math.exp(v - top) for v in logs]
    total = math.fsum(weights)
    return [w / total for w in weights]


def _served_within(agents: int, mu: float, theta: float, start: list[float], target_s: float) -> float:
    """Mass of ``start`` (weights by callers ahead, already multiplied by P(served | i)) whose
    hypoexponential wait ``Σ Exp(Nμ + jθ + θ)`` ends by ``target_s``: uniformisation of the death chain."""
    if target_s <= 0 or not start:
        return 0.0
    rates = [agents * mu + (j + 1) * theta for j in range(len(start))]
    uni = max(rates)
    stay = [1 - r / uni for r in rates]
    move = [r / uni for r in rates]
    vec = list(start)
    done = 0.0
    x = uni * target_s
    # Poisson(x) weights, accumulated until the tail is negligible.
    k = 0
    log_p = -x
    cumulative = 0.0
    result = 0.0
    limit = int(x + 12 * math.sqrt(x) + 50)
    while k <= limit:
        p_k = math.exp(log_p)
        cumulative += p_k
        result += p_k * done
        # one step of the uniformised chain
        done += vec[0] * move[0]
        nxt = [
            vec[i] * stay[i] + (vec[i + 1] * move[i + 1] if i + 1 < len(vec) else 0.0)
            for i in range(len(vec))
        ]
        vec = nxt
        k += 1
        log_p += math.log(x) - math.log(k)
    # what the truncated Poisson tail holds is at most (1 - cumulative) × the final ``done``
    return result + (1 - cumulative) * done


def evaluate_a(load: Load, agents: int, target_s: float) -> Result:
    if agents < 1:
        raise StaffingError("at least one agent is needed")
    a = load.erlangs
    lam = load.calls / load.interval_s
    mu = 1 / load.aht_s
    theta = 1 / float(load.patience_s)  # type: ignore[arg-type]
    pi = _stationary(load, agents)
    if lam == 0:
        return Result(agents, a, 1.0, 0.0, 0.0, 0.0, p_abandon=0.0)
    p_wait = math.fsum(pi[agents:])
    p_abandon = math.fsum((n - agents) * theta * pi[n] for n in range(agents + 1, len(pi))) / lam
    # callers who arrive to find N + i: P(served | i) and the served-wait sums
    weights = []
    wait_sum = 0.0
    served_after_wait = 0.0
    survive = 1.0
    mean = 0.0
    for i in range(len(pi) - agents):
        r = agents * mu + i * theta
        survive *= r / (r + theta)
        mean += 1 / (r + theta)
        w = pi[agents + i] * survive
        weights.append(w)
        served_after_wait += w
        wait_sum += w * mean
    # ``survive``/``mean`` above accumulate step by step from the head of the queue: with i ahead a
    # caller passes steps i, i-1, …, 0, and the product over j = 0..i does not depend on the order.
    served = math.fsum(pi[:agents]) + served_after_wait
    within = math.fsum(pi[:agents]) + _served_within(agents, mu, theta, weights, target_s)
    asa = wait_sum / served if served > 0 else 0.0
    return Result(
        agents=agents,
        erlangs=a,
        service_level=within,
        p_wait=p_wait,
        asa_s=asa,
        occupancy=a * (1 - p_abandon) / agents,
        p_abandon=p_abandon,
    )


# ---------------------------------------------------------------------------------- the questions


def evaluate(load: Load, agents: int, target_s: float) -> Result:
    """The figures of a given staffing."""
    if not isinstance(agents, int) or agents < 1:
        raise StaffingError("agents must be a whole number of at least 1")
    if target_s < 0:
        raise StaffingError("target_s must not be negative")
    if load.patience_s is None:
        return evaluate_c(load, agents, target_s)
    return evaluate_a(load, agents, target_s)


def required(load: Load, target_sl: float, target_s: float) -> Result:
    """The fewest agents whose service level reaches ``target_sl`` within ``target_s`` seconds."""
    if not 0 < target_sl < 1:
        raise StaffingError("target_sl must be between 0 and 1 (exclusive): 1.0 is never reached")
    if target_s < 0:
        raise StaffingError("target_s must not be negative")
    start = max(1, math.floor(load.erlangs) + (1 if load.patience_s is None else 0))
    agents = start
    while agents <= MAX_AGENTS:
        result = evaluate(load, agents, target_s)
        if result.service_level >= target_sl:
            return result
        agents += 1
    raise StaffingError(f"no staffing up to {MAX_AGENTS} agents reaches the target")


def with_shrinkage(result: Result, shrinkage: float) -> Result:
    """Add the agents to schedule so that ``result.agents`` are on the phones after ``shrinkage``
    (breaks, training, absence): ``ceil(agents / (1 − shrinkage))``."""
    if not 0 <= shrinkage < 1:
        raise StaffingError("shrinkage must be at least 0 and below 1")
    scheduled = math.ceil(round(result.agents / (1 - shrinkage), 9))
    return Result(**{**asdict(result), "scheduled_agents": scheduled})
