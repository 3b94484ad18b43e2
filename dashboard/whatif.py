"""What-if replay: route the journal's recent leads again with a proposed config, using
the pure routing core, and compare with what happened. Nothing is written anywhere.

Leads are replayed in hourly batches (``route_batch`` with that hour as ``now``) so caps
and working hours apply as they would have. The replay sees only the lead snapshot the
journal keeps (country, employees, source, rating, company, e-mail) and no accounts, so
account-owner routing and rules on other fields are not replayed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from worker.routing import (
    Lead,
    RepStatus,
    RoutingConfig,
    RoutingContext,
    pool_fairness,
    route_batch,
)
from worker.routing.members import member_terms, pool_weights
from worker.routing.state import RoutingState

FIELDS = {
    "lead_country": "Country",
    "lead_employees": "NumberOfEmployees",
    "lead_source": "LeadSource",
    "lead_rating": "Rating",
    "lead_company": "Company",
    "lead_email": "Email",
}


@dataclass(frozen=True)
class Replay:
    counts: Mapping[str, int]  # rep key -> leads
    held: int
    per_pool: Mapping[str, Any]  # pool -> PoolFairness


def to_lead(row: Mapping[str, Any]) -> Lead:
    fields = {sf: row[col] for col, sf in FIELDS.items() if row.get(col) is not None}
    return Lead(id=str(row["lead_id"]), fields=fields, created_at=row.get("lead_created_at"))


def replay(config: RoutingConfig, rows: Sequence[Mapping[str, Any]]) -> Replay:
    """Route ``rows`` (oldest first) through ``config`` hour by hour."""
    reps = {k: RepStatus(k, user_id=f"whatif:{k}") for k in config.reps}
    context = RoutingContext(reps=reps)
    state = RoutingState()
    counts: Counter[str] = Counter()
    held = 0
    sequences: dict[str, list[str]] = {}
    eligible: dict[str, list[Mapping[str, float]]] = {}
    for hour, group in groupby(
        rows, key=lambda r: r["decided_at"].replace(minute=0, second=0, microsecond=0)
    ):
        decisions, state = route_batch(
            [to_lead(r) for r in group], config=config, context=context, state=state, now=hour
        )
        for d in decisions:
            if d.rep_key is None or d.pool is None:
                held += 1
                continue
            counts[d.rep_key] += 1
            sequences.setdefault(d.pool, []).append(d.rep_key)
            if d.eligible_weights:
                eligible.setdefault(d.pool, []).append(d.eligible_weights)
    per_pool = {
        name: pool_fairness(
            name,
            seq,
            pool_weights(config, name),
            eligible.get(name) or None,
        )
        for name, seq in sequences.items()
        if name in config.pools
    }
    return Replay(counts, held, per_pool)


def actual_counts(rows: Sequence[Mapping[str, Any]]) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    held = 0
    for r in rows:
        if r["status"] == "applied" and (r.get("rep_key") or r.get("owner_name")):
            counts[str(r.get("rep_key") or r.get("owner_name"))] += 1
        else:
            held += 1
    return counts, held


PROPOSAL_COLUMNS = (
    "rep",
    "name",
    "weight in pool",
    "cap/day in pool",
    "rep cap/day",
    "takes leads",
)


def proposal_rows(config: RoutingConfig, pool: str) -> list[dict[str, Any]]:
    """The pool's members with the terms the router applies now: the starting point of a
    proposal (:func:`worker.routing.members.member_terms`)."""
    return [
        {
            "rep": t.rep,
            "name": t.name,
            "weight in pool": t.weight,
            "cap/day in pool": t.pool_caps.per_day,
            "rep cap/day": t.rep_caps.per_day,
            "takes leads": config.reps[t.rep].enabled,
        }
        for t in member_terms(config, pool)
    ]


def _cell(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def proposal_overrides(
    config: RoutingConfig, pool: str, edited: Sequence[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The overrides (same shape as the dashboard's saved ones) that turn the current
    terms into the edited ones: a weight or a cap in the pool is the member's own value
    in that pool, the rep's daily cap is the rep's."""
    before = {r["rep"]: r for r in proposal_rows(config, pool)}
    out: dict[str, dict[str, Any]] = {}
    for row in edited:
        was = before.get(str(row["rep"]))
        if was is None:
            continue
        change: dict[str, Any] = {}
        member: dict[str, Any] = {}
        weight = _cell(row.get("weight in pool"))
        if weight is not None and float(weight) != was["weight in pool"]:
            member["weight"] = float(weight)
        cap = _cell(row.get("cap/day in pool"))
        if cap != was["cap/day in pool"]:
            member["caps"] = {"per_day": None if cap is None else int(cap)}
        if member:
            change["pools"] = {pool: member}
        rep_cap = _cell(row.get("rep cap/day"))
        if rep_cap != was["rep cap/day"]:
            change["caps"] = {"per_day": None if rep_cap is None else int(rep_cap)}
        if bool(row.get("takes leads")) != bool(was["takes leads"]):
            change["enabled"] = bool(row.get("takes leads"))
            change["disabled_reason"] = None if row.get("takes leads") else "what-if"
        if change:
            out[str(row["rep"])] = change
    return out
