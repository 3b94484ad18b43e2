"""Distribution within a pool: weighted round-robin, plain round-robin, least-loaded.

Weighted round-robin keeps, per member, a *credit*: how many leads the rep is behind its
weighted share (nginx's smooth WRR "current weight" divided by the total weight). On each
pick every eligible rep earns ``p_i = w_i / W`` (``W`` = total weight of the eligible reps)
and the winner pays 1. Instead of nginx's "largest credit wins" (which can lag a rep by
~1.09 leads) we pick by *earliest deadline* among the reps whose credit is positive: the
rep whose credit would reach 1 soonest, ``(1 - credit_i) / p_i``. This is Tijdeman's
chairman-assignment construction: with stable availability every rep stays strictly
within 1 lead of its exact share at every prefix. Ties go to config order, so the result
is deterministic.

Reps who are not eligible keep their credit frozen. That is the *forgive* catch-up
policy: a rep back from a week off resumes at its fair share, without a flood. New reps
start at credit 0, i.e. at their fair share from the moment they join. With the *full*
or *capped* policy an absent rep (out of office, public holiday, at a cap; not merely
outside its working hours, which is its normal schedule) additionally accrues a debt of
``w_i / W_all`` per pick; on return it is repaid one lead at a time, interleaved with normal picks (never two catch-up picks in a row), at most
``per_day`` per local day for *capped*.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Candidate:
    key: str
    weight: float
    order: int  # position in the pool's member list (tie-break)


def weighted_pick(cands: Sequence[Candidate], credits: dict[str, float]) -> tuple[Candidate, float]:
    """Earliest-deadline smooth WRR. Mutates ``credits``; returns the winner and its credit
    before paying (leads behind its share)."""
    total = sum(c.weight for c in cands)
    best: Candidate | None = None
    best_deadline = 0.0
    fallback: Candidate | None = None
    fallback_credit = 0.0
    for c in cands:
        share = c.weight / total
        credit = credits.get(c.key, 0.0) + share
        credits[c.key] = credit
        if credit > EPS:
            deadline = (1.0 - credit) / share
            if best is None or deadline < best_deadline - EPS:
                best, best_deadline = c, deadline
        if fallback is None or credit > fallback_credit + EPS:
            fallback, fallback_credit = c, credit
    winner = best or fallback
    assert winner is not None
    behind = credits[winner.key]
    credits[winner.key] = behind - 1.0
    return winner, behind


def recentre(credits: dict[str, float], members: Sequence[tuple[str, float]]) -> None:
    """Keep the members' credits summing to 0 (drift appears when reps leave the pool)
    by spreading the excess in proportion to weight; drop non-members."""
    keys = {k for k, _ in members}
    for k in [k for k in credits if k not in keys]:
        del credits[k]
    excess = sum(credits.get(k, 0.0) for k in keys)
    if abs(excess) > 1e-6:
        total = sum(w for _, w in members) or 1.0
        for k, w in members:
            credits[k] = credits.get(k, 0.0) - excess * w / total


def round_robin_pick(
    cands: Sequence[Candidate], members: Sequence[str], last: str | None
) -> Candidate:
    """The first eligible member after ``last`` in member order (wrapping)."""
    by_key = {c.key: c for c in cands}
    start = members.index(last) + 1 if last in members else 0
    for i in range(len(members)):
        hit = by_key.get(members[(start + i) % len(members)])
        if hit is not None:
            return hit
    return cands[0]


def least_loaded_pick(
    cands: Sequence[Candidate],
    weighted: bool,
    open_leads: Callable[[str], int],
    today: Callable[[str], int],
) -> Candidate:
    """Fewest open leads (divided by weight when ``weighted``); ties: fewer assigned
    today, then member order."""

    def key(c: Candidate) -> tuple[float, int, int]:
        load = open_leads(c.key)
        return (load / c.weight if weighted else float(load), today(c.key), c.order)

    return min(cands, key=key)
