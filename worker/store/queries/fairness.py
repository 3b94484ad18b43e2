"""Fairness audit of one pool over a period, from the journal.

Metrics come from the routing core (:mod:`worker.routing.fairness`). Targets are adjusted for the time each rep was eligible: every routed decision carries
the weights of the reps eligible at that moment (``eligible_weights`` in its trace), and
rep *i*'s target is the sum over the pool's decisions of ``w_i / sum(w_eligible)``. A rep
on holiday for half the week is therefore not "owed" leads for the days away.

Only the columns needed are read; the traces of a pool's week are parsed in Python
(bounded by ``limit``); quality mix, SLA breaches and first-touch times are aggregated
in SQL.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from worker.routing import fairness as core_fairness
from worker.store.models.journal import DecisionKind, DecisionStatus, JournalRow
from worker.store.queries._sql import as_utc

D: Any = JournalRow


@dataclass(frozen=True)
class PoolDecision:
    decided_at: datetime
    rep: str  # rep key (lower-cased e-mail) when the trace names it, else the owner
    eligible: Mapping[str, float]  # rep key -> weight at decision time
    caps_hit: tuple[str, ...] = ()  # reps skipped for a cap in this decision


@dataclass(frozen=True)
class RepLine:
    rep: str
    name: str
    actual: int
    target: float
    deviation: float  # actual - target, in leads
    share_actual: float
    share_target: float
    caps_hit: int = 0


@dataclass(frozen=True)
class FairnessReport:
    pool: str
    start: datetime
    end: datetime
    decisions: int  # decisions counted (those with eligibility data)
    without_eligibility: int  # routed decisions whose trace lacked eligible weights
    truncated: bool
    reps: tuple[RepLine, ...]
    jain: float | None  # Jain's index over actual/target ratios (1 = perfectly fair)
    chi2: float | None
    p_value: float | None
    verdict: str
    cumulative: tuple[tuple[datetime, str, float], ...] = field(default=())  # (at, rep, dev)


def _steps(trace: object) -> Iterable[Mapping[str, Any]]:
    if isinstance(trace, Mapping):
        yield trace
        steps = trace.get("steps")
        if isinstance(steps, list):
            yield from (s for s in steps if isinstance(s, Mapping))
    elif isinstance(trace, list):
        yield from (s for s in trace if isinstance(s, Mapping))


def parse_trace(text: str | None) -> list[Mapping[str, Any]]:
    try:
        return list(_steps(json.loads(text or "[]")))
    except (ValueError, TypeError):
        return []


def _data(step: Mapping[str, Any]) -> Mapping[str, Any]:
    data = step.get("data")
    return data if isinstance(data, Mapping) else step


def eligible_weights(
    steps: Sequence[Mapping[str, Any]], fallback: Mapping[str, float] | None = None
) -> dict[str, float]:
    """The eligible reps and weights at decision time, as journaled; for traces without
    them, the reps whose round-robin credits the pick step tracked (the eligible ones)
    weighted with ``fallback`` (the configured weights), when given."""
    for step in steps:
        weights = _data(step).get("eligible_weights")
        if isinstance(weights, Mapping) and weights:
            return {str(k).lower(): float(v) for k, v in weights.items() if float(v) > 0}
    if fallback is None:
        return {}
    for step in steps:
        credits = _data(step).get("before") if step.get("kind") == "state" else None
        if isinstance(credits, Mapping) and credits:
            return {str(k).lower(): float(fallback.get(str(k).lower(), 1.0)) for k in credits}
    return {}


def chosen_rep(steps: Sequence[Mapping[str, Any]]) -> str | None:
    for step in reversed(steps):
        if step.get("kind") in {"pick", "decision"}:
            data = _data(step)
            for key in ("rep_key", "rep", "chosen"):
                if isinstance(data.get(key), str):
                    return str(data[key]).lower()
    return None


def caps_hit(steps: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """Reps a candidate step reports as skipped for a cap (per hour/day, max open)."""
    hit = []
    for step in steps:
        if step.get("kind") != "candidate":
            continue
        data = _data(step)
        why = str(data.get("skip") or data.get("reason") or data.get("status") or "")
        rep = data.get("rep_key") or data.get("rep")
        if rep and "cap" in why.lower():
            hit.append(str(rep).lower())
    return tuple(hit)


_DECODER = json.JSONDecoder()
# traces journaled compact (orjson) and, before 2026-11, with json.dumps' spaces
_CAP_SKIP = re.compile(r'"rep": ?"([^"]+)", ?"skip": ?"[^"]*cap \d')


def _fast_facts(
    text: str, fallback: Mapping[str, float] | None = None
) -> tuple[dict[str, float], tuple[str, ...], str | None]:
    """Eligible weights, capped reps and chosen rep of one trace without parsing it all:
    an audit reads hundreds of thousands of traces, and these are all it needs."""
    at = text.find('"eligible_weights"')
    if at < 0:
        steps = parse_trace(text)  # another layout: take the slow, general path
        return eligible_weights(steps, fallback), caps_hit(steps), chosen_rep(steps)
    try:
        opening = text.index("{", at)
        flat = text[opening : text.index("}", opening) + 1]  # rep -> weight: no nesting
        weights = _weights_of(flat)
    except ValueError:
        try:  # not the flat layout after all: decode from the brace
            raw, _ = _DECODER.raw_decode(text, text.index("{", at))
            weights = {str(k).lower(): float(v) for k, v in raw.items() if float(v) > 0}
        except (ValueError, AttributeError):
            return {}, (), None
    capped = tuple(m.lower() for m in _CAP_SKIP.findall(text)) if "cap " in text else ()
    return weights, capped, None


@lru_cache(maxsize=4096)
def _weights_of(flat: str) -> dict[str, float]:
    """The eligible weights of one ``{"rep": weight, ...}`` text. A pool's decisions
    repeat a handful of eligible sets, so each is decoded once, and the decisions that
    share it share the one dict (never mutated: :func:`audit` works its targets out once
    per dict too)."""
    raw = json.loads(flat)
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object")
    return {str(k).lower(): float(v) for k, v in raw.items() if float(v) > 0}


def load_pool_decisions(
    engine: Engine,
    pool: str,
    start: datetime,
    end: datetime,
    *,
    limit: int = 200_000,
    weights: Mapping[str, float] | None = None,
) -> tuple[list[PoolDecision], int, bool, dict[str, str]]:
    """Routed decisions of ``pool`` in ``[start, end)``, oldest first.

    Returns (decisions with eligibility, count without, truncated?, rep -> display name).
    """
    stmt = (
        select(D.decided_at, D.rep_key, D.owner_id, D.owner_name, D.trace)
        .where(
            D.pool == pool,
            D.decided_at >= start,
            D.decided_at < end,
            D.kind == DecisionKind.ROUTE,
            D.status == DecisionStatus.APPLIED,
        )
        .order_by(D.decided_at, D.id)
        .limit(limit + 1)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    truncated = len(rows) > limit
    out: list[PoolDecision] = []
    names: dict[str, str] = {}
    missing = 0
    for at, rep_key, owner_id, owner_name, trace in rows[:limit]:
        eligible, capped, chosen = _fast_facts(trace or "", weights)
        rep = rep_key or chosen or str(owner_name or owner_id or "?")
        names.setdefault(rep, str(owner_name or rep))
        if not eligible:
            missing += 1
            continue
        out.append(PoolDecision(as_utc(at) or start, rep, eligible, capped))
    return out, missing, truncated, names


def jain_index(actual: Mapping[str, int], target: Mapping[str, float]) -> float | None:
    """Jain's index over actual/target ratios (the core's, with targets as the weights)."""
    if not any(t > 0 for t in target.values()):
        return None
    return core_fairness.jain_index(actual, target)


def chi_square(
    actual: Mapping[str, int], target: Mapping[str, float]
) -> tuple[float | None, float | None]:
    """Goodness of fit of actual counts to targets; None when there is too little data."""
    if sum(1 for t in target.values() if t > 0) < 2 or sum(actual.values()) < 5:
        return None, None
    stat, p = core_fairness.chi_square(actual, target)
    return float(stat), float(p)


def verdict(p_value: float | None, decisions: int) -> str:
    if p_value is None:
        return f"Not enough data to judge ({decisions} routed leads with eligibility data)."
    if p_value >= 0.05:
        return (
            f"Fair: the split is consistent with the weights (p = {p_value:.2f}; "
            "differences this size happen by chance)."
        )
    if p_value >= 0.01:
        return f"Borderline: the split drifts from the weights (p = {p_value:.3f}); watch it."
    return (
        f"Not fair: the split differs from the weights more than chance explains "
        f"(p = {p_value:.4f}); look at the reps with the largest deviation."
    )


def audit(
    decisions: Sequence[PoolDecision], *, names: Mapping[str, str], max_points: int = 400
) -> tuple[tuple[RepLine, ...], tuple[tuple[datetime, str, float], ...]]:
    """Per-rep actual vs eligibility-adjusted target, and the cumulative deviation curve."""
    actual: Counter[str] = Counter()
    target: dict[str, float] = {}
    caps: Counter[str] = Counter()
    curve: list[tuple[datetime, str, float]] = []
    step = max(1, math.ceil(len(decisions) / max_points))
    shares_of: dict[int, dict[str, float]] = {}  # by eligible dict: decisions share them
    for i, d in enumerate(decisions):
        shares = shares_of.get(id(d.eligible))
        if shares is None:
            shares = shares_of[id(d.eligible)] = core_fairness.eligibility_targets([d.eligible])
        for rep, share in shares.items():
            target[rep] = target.get(rep, 0.0) + share
        actual[d.rep] += 1
        caps.update(d.caps_hit)
        if i % step == 0 or i == len(decisions) - 1:
            reps = set(target) | set(actual)
            curve.extend((d.decided_at, r, actual[r] - target.get(r, 0.0)) for r in sorted(reps))
    n = len(decisions) or 1
    lines = tuple(
        RepLine(
            rep=r,
            name=names.get(r, r),
            actual=actual[r],
            target=round(target.get(r, 0.0), 2),
            deviation=round(actual[r] - target.get(r, 0.0), 2),
            share_actual=actual[r] / n,
            share_target=target.get(r, 0.0) / n,
            caps_hit=caps[r],
        )
        for r in sorted(set(target) | set(actual), key=lambda r: names.get(r, r))
    )
    return lines, tuple(curve)


def fairness_report(
    engine: Engine,
    pool: str,
    start: datetime,
    end: datetime,
    *,
    limit: int = 200_000,
    weights: Mapping[str, float] | None = None,
) -> FairnessReport:
    """``weights`` (rep key -> configured weight) is only used for journal rows whose trace
    lacks ``eligible_weights``."""
    decisions, missing, truncated, names = load_pool_decisions(
        engine, pool, start, end, limit=limit, weights=weights
    )
    reps, curve = audit(decisions, names=names)
    counts = {r.rep: r.actual for r in reps}
    goal = {r.rep: r.target for r in reps}
    chi2, p = chi_square(counts, goal)
    return FairnessReport(
        pool=pool,
        start=start,
        end=end,
        decisions=len(decisions),
        without_eligibility=missing,
        truncated=truncated,
        reps=reps,
        jain=jain_index(counts, goal),
        chi2=chi2,
        p_value=p,
        verdict=verdict(p, len(decisions)),
        cumulative=curve,
    )
