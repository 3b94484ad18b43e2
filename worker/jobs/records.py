"""Journal entries (:class:`worker.store.journal_entry.JournalEntry`) built from routing
decisions.

Lead snapshot values are cut to their column sizes: a 10 kB company name is stored as
its first 255 characters, never rejected by the database halfway through a batch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache

import orjson

from worker.routing.explain import trace_to_json
from worker.routing.fields import routing_fields
from worker.routing.model import Decision, RoutingConfig, TraceStep
from worker.routing.sla import sla_due_at, sla_policy_for
from worker.sfdc.mapping import LeadRow
from worker.store.journal_entry import COLUMNS, JournalEntry
from worker.store.models.journal import DecisionKind, DecisionStatus

ELIGIBILITY = "eligibility"  # trace step kind read by the fairness audit
# lead details every journal row keeps (search, the fairness audit, notifications)
JOURNAL_FIELDS = ("FirstName", "LastName", "Email", "Company", "Country", "LeadSource",
                  "Rating", "NumberOfEmployees")  # fmt: skip


@lru_cache(maxsize=8)
def _routed(config: RoutingConfig) -> tuple[str, ...]:
    return routing_fields(config)  # configs are hashed by identity: once per config


def routed_fields_json(config: RoutingConfig, fields: Mapping[str, object]) -> str | None:
    """The values of the fields the config reads (``lead_fields`` of the journal), so a
    replay sees the lead as the router did; None when the lead has none of them."""
    values = {f: v for f in _routed(config) if (v := fields.get(f)) is not None and v != ""}
    if not values:
        return None
    try:
        return orjson.dumps(values, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # an integer past 64 bits: the stdlib's encoder takes anything
        return json.dumps(values, sort_keys=True, default=str)


def _text(value: object, limit: int) -> str | None:
    if value is None or value == "":
        return None
    return str(value)[:limit]


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < 2**31 else None
    if isinstance(value, float) and value == value and abs(value) < 2**31:
        return int(value)
    return None


def trace_json(decision: Decision) -> str:
    """The decision's trace as journaled, plus an ``eligibility`` step carrying the pool's
    ``eligible_weights`` at decision time: the dashboard's fairness audit
    (:mod:`worker.store.queries.fairness`) builds its eligibility-adjusted targets from it.

    Compact JSON with sorted keys, by orjson: a busy page journals 2,000 traces of ~2 kB,
    and ``json`` plus a walk to round floats was a fifth of the worker's CPU per lead. The
    routing core rounds its floats where it makes them; a value orjson cannot encode (a
    non-string key, an integer past 64 bits) takes :func:`trace_to_json`'s general path.
    """
    trace = list(decision.trace)
    if decision.eligible_weights:
        weights = {str(k): float(v) for k, v in sorted(decision.eligible_weights.items())}
        listed = ", ".join(f"{k} ({v:g})" for k, v in weights.items())
        trace.append(TraceStep(ELIGIBILITY, f"Eligible at decision time: {listed}",
                               {"eligible_weights": weights}))  # fmt: skip
    steps = [{"kind": s.kind, "message": s.message, "data": s.data} for s in trace]
    try:
        return orjson.dumps(steps, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return trace_to_json(trace)


def due_at(config: RoutingConfig, decision: Decision, at: datetime) -> datetime | None:
    """When the SLA of an assignment breaches (None: the decision assigns nobody). Every
    assignment has one: its rule's, its pool's or the default (``sla_policy_for``)."""
    if decision.action != "assign":
        return None
    policy = sla_policy_for(config, pool=decision.pool, rule=decision.rule).policy
    return sla_due_at(at, policy, config.reps.get(decision.rep_key or ""), at)


def journal_entry(
    decision: Decision,
    row: LeadRow,
    *,
    config: RoutingConfig,
    cycle_id: str,
    worker_id: str,
    now: datetime,
    kind: str = DecisionKind.ROUTE,
    hop: int = 0,
    owner_name: str | None = None,
) -> JournalEntry:
    """What to journal of ``decision`` about the lead ``row`` (inserted in bulk by the caller)."""
    f = row.lead.fields
    name = " ".join(str(f.get(k) or "") for k in ("FirstName", "LastName")).strip()
    status = {
        "assign": DecisionStatus.PENDING,
        "hold": DecisionStatus.HELD,
        "stop": DecisionStatus.SKIPPED,
    }[decision.action]
    return JournalEntry(
        lead_id=row.id,
        cycle_id=cycle_id,
        kind=kind,
        status=status,
        owner_id=decision.owner_id,
        owner_name=_text(owner_name, 255),
        previous_owner_id=row.owner_id or None,
        rep_key=decision.rep_key,
        pool=_text(decision.pool, 80),
        rule=_text(decision.rule, 120),
        method=_text(decision.method, 40),
        reason=decision.reason[:1000],
        trace=trace_json(decision),
        hop=hop,
        decided_at=now,
        lead_created_at=row.lead.created_at,
        sla_due_at=due_at(config, decision, now),
        lead_name=_text(name, 255),
        lead_email=_text(f.get("Email"), 255),
        lead_company=_text(f.get("Company"), 255),
        lead_country=_text(f.get("Country"), 80),
        lead_source=_text(f.get("LeadSource"), 120),
        lead_rating=_text(f.get("Rating"), 40),
        lead_employees=_int(f.get("NumberOfEmployees")),
        lead_fields=routed_fields_json(config, f),
        worker_id=worker_id,
    )


def to_write(entries: Sequence[JournalEntry], ids: Sequence[int]) -> list[dict[str, object]]:
    """The pending ones of ``entries`` journalled with ``ids``, as the column mappings
    :func:`worker.jobs.writeback.items_for` reads."""
    return [{n: getattr(e, n) for n in COLUMNS} | {"id": i}
            for e, i in zip(entries, ids, strict=True)
            if e.status == DecisionStatus.PENDING]  # fmt: skip
