"""What-if replay: route the journal's recent leads again with a proposed config, through
the routing core's one entry point (:func:`worker.routing.route_stream`, as the worker
routes its pages), and compare with what happened. Nothing is written anywhere.

Leads are replayed in the batches the worker decided them in (one ``decided_at`` per
page) at that instant, so caps, working hours and open loads apply as they did. Each lead
is rebuilt from the fields the routing config read when it was decided (the journal's
``lead_fields``; older rows fall back to the six snapshot columns). Account matching uses
the accounts passed in (the store's account mirror); reps have the user ids and active
flags the worker last stored (open leads start at zero), and the replay starts from an
empty routing state.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from worker.routing import (
    Account,
    Decision,
    KnownEmail,
    Lead,
    RepStatus,
    RoutingConfig,
    pool_fairness,
    route_stream,
)
from worker.routing.api import routing_context
from worker.routing.matching import AccountIndex
from worker.routing.members import pool_weights
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
    decisions: Mapping[str, Decision] = field(default_factory=dict)  # lead id -> decision


def to_lead(row: Mapping[str, Any]) -> Lead:
    """The lead as the router saw it when it was decided."""
    raw = row.get("lead_fields")
    fields: dict[str, Any] = {}
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            fields = parsed
    if not fields:
        fields = {sf: row[col] for col, sf in FIELDS.items() if row.get(col) is not None}
    return Lead(id=str(row["lead_id"]), fields=fields, created_at=row.get("lead_created_at"))


def rep_status(key: str, known: Mapping[str, Any] | None) -> RepStatus:
    if not known or not known.get("user_id"):
        return RepStatus(key, user_id=f"whatif:{key}")
    return RepStatus(key, str(known["user_id"]), bool(known.get("active", True)))


def _batches(rows: Sequence[Mapping[str, Any]]) -> Iterator[tuple[datetime, list[Lead]]]:
    for at, group in groupby(rows, key=lambda r: r["decided_at"]):
        yield at, [to_lead(r) for r in group]


def replay(
    config: RoutingConfig,
    rows: Sequence[Mapping[str, Any]],
    *,
    accounts: Sequence[Account] | AccountIndex = (),
    known_emails: Sequence[KnownEmail] = (),
    directory: Mapping[str, Mapping[str, Any]] | None = None,
) -> Replay:
    """Route ``rows`` (oldest first) through ``config``, batch by batch as decided.

    ``directory``: rep key -> ``{"user_id", "active"}`` as the worker knows them (an
    account owner is then recognised as the rep, an inactive rep skipped); reps not in it
    are taken as active, with a stand-in user id."""
    reps = {k: rep_status(k, (directory or {}).get(k)) for k in config.reps}
    context = routing_context(reps, accounts=accounts, known_emails=known_emails)
    counts: Counter[str] = Counter()
    held = 0
    sequences: dict[str, list[str]] = {}
    eligible: dict[str, list[Mapping[str, float]]] = {}
    decided: dict[str, Decision] = {}
    stream = route_stream(_batches(rows), config=config, context=context, state=RoutingState())
    for decisions, _ in stream:
        for d in decisions:
            decided[d.lead_id] = d
            if d.action != "assign" or d.rep_key is None:
                held += d.action != "assign"
                continue
            counts[d.rep_key] += 1
            if d.pool is None:
                continue
            sequences.setdefault(d.pool, []).append(d.rep_key)
            if d.eligible_weights:
                eligible.setdefault(d.pool, []).append(d.eligible_weights)
    per_pool = {
        name: pool_fairness(name, seq, pool_weights(config, name), eligible.get(name) or None)
        for name, seq in sequences.items()
        if name in config.pools
    }
    return Replay(counts, held, per_pool, decided)


def actual_counts(rows: Sequence[Mapping[str, Any]]) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    held = 0
    for r in rows:
        if r["status"] == "applied" and (r.get("rep_key") or r.get("owner_name")):
            counts[str(r.get("rep_key") or r.get("owner_name"))] += 1
        else:
            held += 1
    return counts, held
