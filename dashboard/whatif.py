"""What-if replay: route the journal's recent leads again with a proposed config, using
the pure routing core, and compare with what happened. Nothing is written anywhere.

Leads are replayed in hourly batches (``route_batch`` with that hour as ``now``) so caps
and working hours apply as they would have. The replay sees only the lead snapshot the
journal keeps (country, employees, source, rating, company, e-mail) and no accounts, so
account-owner routing and rules on other fields are not replayed.
"""

from __future__ import annotations

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
            {
                m.rep: (m.weight if m.weight is not None else config.reps[m.rep].weight)
                for m in config.pools[name].members
            },
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
