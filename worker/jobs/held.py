"""Held leads (nobody eligible, or parked by a ``hold`` rule), retried until routed.

A held lead stays in the intake queue with one ``held`` journal row. Retrying it costs no
API call: it is re-decided from the snapshot taken when it was read (compressed, bounded
in number: :mod:`worker.runtime.held_cache`); every ``held_refresh_seconds`` all held leads
are re-read from Salesforce (2,000 at a time), which also
closes out those a human took, converted or deleted meanwhile. The write-back guard
re-reads owners before any write, so a snapshot can never overwrite a human's choice.
Leads parked by a ``hold`` rule (e.g. "qualify by hand") cannot route until the config
changes, so they are retried only at the refresh. At most ``held_retry_per_cycle`` are
retried per cycle, in turn, so a backlog (every rep capped) never slows new leads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from worker.jobs.deps import Deps
from worker.routing.model import Decision, RoutingConfig
from worker.sfdc.gateway import RETRIEVE_MAX
from worker.sfdc.mapping import LeadRow
from worker.store import journal_repo
from worker.store.db import session_scope
from worker.store.models.journal import DecisionStatus


def parked_by_rule(config: RoutingConfig, decision: Decision) -> bool:
    """Held by a ``hold`` rule (not for want of an eligible rep): retrying cannot help."""
    return decision.rule in hold_rule_names(config)


def hold_rule_names(config: RoutingConfig) -> tuple[str, ...]:
    return tuple(rule.name for rule in config.rules if rule.action == "hold")


def held_batches(deps: Deps, config: RoutingConfig, *, refresh: bool) -> Iterator[list[str]]:
    """Lead ids of the held leads to retry now, ``RETRIEVE_MAX`` at a time, paged from the
    journal (never the whole backlog in memory). ``refresh``: every held lead, parked
    ones included; otherwise the next ``held_retry_per_cycle`` not parked by a hold rule,
    round-robin by journal id so a big backlog is retried in turn."""
    with session_scope(deps.engine) as s:
        top = journal_repo.max_held_id(s)  # rows re-held during this pass are not revisited
    skip = () if refresh else hold_rule_names(config)
    budget = None if refresh else deps.held_retry_per_cycle
    start = 0 if refresh else min(deps.state.held_cursor, top)
    after, upto, wrapped = start, top, refresh or start == 0
    while budget is None or budget > 0:
        want = RETRIEVE_MAX if budget is None else min(RETRIEVE_MAX, budget)
        with session_scope(deps.engine) as s:
            rows = journal_repo.held_slice(
                s, after_id=after, upto_id=upto, limit=want, skip_rules=skip
            )
        if not rows:
            if wrapped:
                return
            after, upto, wrapped = 0, start, True  # round-robin: on from the oldest
            continue
        after = rows[-1][0]
        if budget is not None:
            budget -= len(rows)
            deps.state.held_cursor = after
        yield [lead for _, lead in rows]


def held_rows(
    deps: Deps,
    owners: Sequence[str],
    fields: Sequence[str],
    held_ids: list[str],
    *,
    refresh: bool = False,
) -> list[LeadRow]:
    """The held leads to retry now, still waiting in an intake owner. ``refresh``: re-read
    them all from Salesforce (the caller passes at most one retrieve's worth at a time)."""
    cache = deps.state.held_rows
    todo = held_ids if refresh else [i for i in held_ids if i not in cache]
    fetched: dict[str, LeadRow] = {}
    if todo:
        rows = deps.gateway.leads_by_id(todo, fields)
        close_stale(deps, owners, todo, rows)
        for row in rows:
            fetched[row.id] = row
            cache.put(row)  # bounded: the rest is re-read next time
    waiting = [fetched.get(i) or cache.get(i) for i in held_ids]
    return [r for r in waiting if r and r.owner_id in owners and not r.is_converted]


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
        deps.state.held_rows.pop(lead_id)
    with session_scope(deps.engine) as s:
        for lead_id, held_row in journal_repo.held(s, list(gone)).items():
            held_row.status, held_row.error = DecisionStatus.SKIPPED, gone[lead_id]
            s.add(held_row)
