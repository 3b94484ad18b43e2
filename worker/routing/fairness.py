"""Fairness metrics shared by ``leadrouter simulate``, the benchmark and the dashboard.

* **Deviation** D_i = count_i − target_i, in leads; the target is n·w_i/W, or, when
  eligibility is known per decision, Σ over decisions of w_i/W_eligible for the decisions
  where rep i was eligible ("eligibility-adjusted": a rep out of office is not behind).
* **Max deviation at any prefix**: max over reps and over every prefix of the sequence.
* **Jain's index** on weight-normalised shares x_i = count_i / w_i: 1 is perfectly fair.
* **Chi-square** goodness of fit of counts against targets, with its p-value computed in
  pure Python from the regularised upper incomplete gamma function Q(k/2, χ²/2) (scipy is
  not allowed in the routing core). It is unreliable when targets are below 5.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RepFairness:
    rep: str
    count: int
    weight: float
    target: float

    @property
    def deviation(self) -> float:
        return self.count - self.target


@dataclass(frozen=True, slots=True)
class PoolFairness:
    pool: str
    total: int
    reps: tuple[RepFairness, ...]
    max_deviation: float
    max_prefix_deviation: float
    jain: float
    chi_square: float
    p_value: float


def targets(n: int, weights: Mapping[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    return {k: n * w / total for k, w in weights.items()} if total else dict.fromkeys(weights, 0.0)


def eligibility_targets(eligible: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Targets adjusted for eligibility: each decision contributes w_i/W_eligible to every
    rep eligible at that moment."""
    out: dict[str, float] = {}
    for weights in eligible:
        total = sum(weights.values())
        for k, w in weights.items():
            out[k] = out.get(k, 0.0) + (w / total if total else 0.0)
    return out


def max_prefix_deviation(sequence: Sequence[str], weights: Mapping[str, float]) -> float:
    """max over prefixes n and reps i of |count_i(n) − n·w_i/W| (reps outside ``weights``
    are ignored)."""
    total = sum(weights.values())
    if not total:
        return 0.0
    shares = {k: w / total for k, w in weights.items()}
    counts = dict.fromkeys(weights, 0)
    worst = 0.0
    for n, rep in enumerate(sequence, start=1):
        if rep in counts:
            counts[rep] += 1
        for k, share in shares.items():
            d = abs(counts[k] - n * share)
            if d > worst:
                worst = d
    return worst


def max_prefix_deviation_adjusted(
    sequence: Sequence[str], eligible: Sequence[Mapping[str, float]]
) -> float:
    """Like :func:`max_prefix_deviation`, but the running target of each rep grows only
    by its share among the reps eligible at each decision."""
    goal: dict[str, float] = {}
    counts: dict[str, int] = {}
    worst = 0.0
    for rep, weights in zip(sequence, eligible, strict=True):
        total = sum(weights.values())
        for k, w in weights.items():
            goal[k] = goal.get(k, 0.0) + (w / total if total else 0.0)
        counts[rep] = counts.get(rep, 0) + 1
        for k, g in goal.items():
            d = abs(counts.get(k, 0) - g)
            if d > worst:
                worst = d
    return worst


def jain_index(counts: Mapping[str, int], weights: Mapping[str, float]) -> float:
    xs = [counts.get(k, 0) / w for k, w in weights.items() if w > 0]
    square_sum = sum(x * x for x in xs)
    return (sum(xs) ** 2) / (len(xs) * square_sum) if square_sum else 1.0


def _upper_gamma_regularised(a: float, x: float) -> float:
    """Q(a, x) = Γ(a, x)/Γ(a) by series (x < a+1) or continued fraction (Numerical Recipes)."""
    if x <= 0:
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        ap = a
        for _ in range(1000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_front) * h)


def chi_square(counts: Mapping[str, int], expected: Mapping[str, float]) -> tuple[float, float]:
    """(χ² statistic, p-value) with k−1 degrees of freedom over reps with expected > 0."""
    cells = [(counts.get(k, 0), e) for k, e in expected.items() if e > 0]
    if len(cells) < 2:
        return 0.0, 1.0
    stat = sum((o - e) ** 2 / e for o, e in cells)
    return stat, _upper_gamma_regularised((len(cells) - 1) / 2, stat / 2)


def pool_fairness(
    pool: str,
    sequence: Sequence[str],
    weights: Mapping[str, float],
    eligible: Sequence[Mapping[str, float]] | None = None,
) -> PoolFairness:
    """Summary for one pool from the ordered reps chosen in it.

    Args:
        weights: configured weights of the pool's reps.
        eligible: per decision, the eligible reps and weights (``Decision.eligible_weights``);
            when given, targets are eligibility-adjusted.
    """
    counts = dict.fromkeys(weights, 0)
    for rep in sequence:
        counts[rep] = counts.get(rep, 0) + 1
    goal = eligibility_targets(eligible) if eligible else targets(len(sequence), weights)
    rows = tuple(
        RepFairness(k, counts.get(k, 0), weights.get(k, 0.0), goal.get(k, 0.0))
        for k in sorted(set(weights) | set(counts))
    )
    stat, p = chi_square(counts, goal)
    return PoolFairness(
        pool=pool,
        total=len(sequence),
        reps=rows,
        max_deviation=max((abs(r.deviation) for r in rows), default=0.0),
        max_prefix_deviation=(
            max_prefix_deviation_adjusted(sequence, eligible)
            if eligible
            else max_prefix_deviation(sequence, weights)
        ),
        jain=jain_index(counts, goal),
        chi_square=stat,
        p_value=p,
    )
