"""Held leads (nobody eligible, or parked by a ``hold`` rule), retried until routed.

A held lead stays in the intake queue with one ``held`` journal row. Retrying it costs no
API call: it is re-decided from the snapshot taken when it was read (bounded in size);
every ``held_refresh_seconds`` all held leads are re-read from Salesforce, which also
closes out those a human took, converted or deleted meanwhile. The write-back guard
re-reads owners before any write, so a snapshot can never overwrite a human's choice.
Leads parked by a ``hold`` rule (e.g. "qualify by hand") cannot route until the config
changes, so they are retried only at the refresh. At most ``held_retry_per_cycle`` are
retried per cycle, in turn, so a backlog (every rep capped) never slows new leads.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from worker.jobs.deps import Deps
from worker.routing.model import Decision as RoutingDecision
from worker.routing.model import RoutingConfig
from worker.sfdc.mapping import LeadRow
from worker.store import journal_repo
from worker.store.db import session_scope
from worker.store.models.journal import DecisionStatus


def parked_by_rule(config: RoutingConfig, decision: RoutingDecision) -> bool:
    """Held by a ``hold`` rule (not for want of an eligible rep): retrying cannot help."""
    return any(rule.name == decision.rule and rule.action == "hold" for rule in config.rules)


def retry_slice(deps: Deps, held_ids: list[str]) -> list[str]:
    """The next ``held_retry_per_cycle`` held leads, round-robin over the backlog."""
    limit = deps.held_retry_per_cycle
    if len(held_ids) <= limit:
        return held_ids
    start = deps.held_cursor % len(held_ids)
    deps.held_cursor = start + limit
    return (held_ids[start:] + held_ids[:start])[:limit]


def held_rows(
    deps: Deps, owners: Sequence[str], fields: Sequence[str], held_ids: list[str]
) -> list[LeadRow]:
    """The held leads to retry now, still waiting in an intake owner."""
    cache = deps.held_rows
    stale = time.monotonic() - deps.held_read_at >= deps.held_refresh_seconds
    if stale:
        todo = held_ids
    else:
        todo = [i for i in held_ids if i not in cache and i not in deps.parked]
    if todo:
        rows = deps.gateway.leads_by_id(todo, fields)
        close_stale(deps, owners, todo, rows)
        for row in rows:
            cache[row.id] = row
        if stale:
            deps.held_read_at = time.monotonic()
            deps.parked.clear()
    waiting = [cache[i] for i in held_ids if i in cache]
    return [r for r in waiting if r.owner_id in owners and not r.is_converted]


def close_stale(
    deps: Deps, owners: Sequence[str], held_ids: Iterable[str], rows: Sequence[LeadRow]
) -> None:
    """Close the held rows of leads that left the queue (taken, converted, deleted)."""
    found = {r.id: r for r in rows}
    gone: dict[str, str] = {}
    for lead_id in held_ids:
        row = found.get(lead_id)
        if row is None:
            gone[lead_id] = "lead deleted"
        elif row.is_converted:
            gone[lead_id] = "lead converted"
        elif row.owner_id not in owners:
            gone[lead_id] = "owner changed by someone else"
    if not gone:
        return
    for lead_id in gone:
        deps.held_rows.pop(lead_id, None)
        deps.parked.discard(lead_id)
    with session_scope(deps.engine) as s:
        for lead_id, held_row in journal_repo.held(s, list(gone)).items():
            held_row.status, held_row.error = DecisionStatus.SKIPPED, gone[lead_id]
            s.add(held_row)
