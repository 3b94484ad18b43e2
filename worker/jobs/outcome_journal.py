"""Journal what the write-back's rounds came to, in one transaction: decisions marked
applied, skipped or failed; cap counters of decisions the rep did not get given back;
leads whose owner is inactive held for re-routing; notifications queued in that same
transaction; then the metrics once it has committed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from worker.jobs.decide import release
from worker.jobs.deps import Deps
from worker.jobs.notices import announce_decisions
from worker.jobs.write_items import (
    OWNER_CHANGED,
    OWNER_CHANGED_AFTER_SEND,
    Outcomes,
    WriteItem,
    merged,
)
from worker.sfdc.outcomes import WriteKind, code_of
from worker.store import journal_repo
from worker.store.db import session_scope
from worker.store.models.journal import DecisionStatus, JournalRow
from worker.store.state_repo import StateConflict, load_state, save_state

log = logging.getLogger("leadrouter.writeback")

# the journal's error for a decision sent back because its owner is inactive
REROUTED = f"{code_of(WriteKind.OWNER_INACTIVE)}: re-routing"
STATE_ATTEMPTS = 5  # saves of the routing state raced by another worker before giving up


def journal_outcomes(deps: Deps, groups: Sequence[Outcomes]) -> Outcomes:
    """Journal the groups' outcomes, each with the time its answers came, in ONE
    transaction (a page's three groups were three commits and three state saves);
    returns them merged."""
    done = [g for g in groups if g.applied or g.skipped or g.failed or g.reroute]
    if done:
        _journal(deps, done)
    return merged(groups)


def _journal(deps: Deps, groups: Sequence[Outcomes]) -> None:
    for attempt in range(STATE_ATTEMPTS):
        try:
            with session_scope(deps.engine) as s:
                taken = mark_outcomes(s, deps, groups)
                if taken:
                    state, version = load_state(s)
                    save_state(
                        s, release(state, taken), expected_version=version, worker_id=deps.worker_id
                    )
            break
        except StateConflict:
            if attempt == STATE_ATTEMPTS - 1:
                raise
    count_outcomes(deps, groups)


def mark_outcomes(
    s: Session, deps: Deps, groups: Sequence[Outcomes]
) -> list[tuple[str, str | None]]:
    """Journal the groups' outcomes in ``s``, the caller's transaction; returns the
    (rep, pool) cap counters to give back, which the caller must release in that same
    transaction. Call :func:`count_outcomes` once it has committed."""
    for out in groups:
        if out.answered_at is None:  # the same instant for the journal and the metrics
            out.answered_at = deps.now()
        _mark_all(s, deps, out, out.answered_at)
    return [pair for out in groups for pair in _given_back(out)]


def count_outcomes(deps: Deps, groups: Sequence[Outcomes]) -> None:
    """The metrics (and INFO lines) of outcomes journaled by :func:`mark_outcomes`."""
    for out in groups:
        _count(deps, out, out.answered_at or deps.now())


def _given_back(out: Outcomes) -> list[tuple[str, str | None]]:
    """(rep, pool) of each decision in ``out`` the rep did not get (skipped, failed, sent
    back to be re-routed): the cap counters it consumed are released, one per decision."""
    items = [*(x for v in out.skipped.values() for x in v), *(f for f, _ in out.failed)]
    return [(i.rep_key, i.pool) for i in [*items, *out.reroute] if i.rep_key]


def _mark_all(s: Session, deps: Deps, out: Outcomes, now: datetime) -> None:
    """Journal the outcomes; applied and re-held decisions queue their notifications in
    this same transaction."""
    _mark_applied(s, deps, out.applied, now)
    for reason, items in out.skipped.items():
        journal_repo.mark(s, [i.decision_id for i in items], DecisionStatus.SKIPPED, error=reason)
    for item, error in out.failed:
        journal_repo.mark(s, [item.decision_id], DecisionStatus.FAILED, error=error)
    _send_back(s, deps, out.reroute, now)


def _mark_applied(s: Session, deps: Deps, items: list[WriteItem], now: datetime) -> None:
    ids = [i.decision_id for i in items]
    journal_repo.mark_applied(s, ids, now)
    if deps.notify.enabled:  # ORM rows only when someone is told
        announce_decisions(s, deps, journal_repo.by_ids(s, ids))


def _send_back(s: Session, deps: Deps, items: list[WriteItem], now: datetime) -> None:
    """Decisions whose owner turned out inactive: failed, each with a new held row for
    its lead, which the next cycle routes again (to an active rep)."""
    ids = [i.decision_id for i in items]
    journal_repo.mark(s, ids, DecisionStatus.FAILED, error=REROUTED)
    held = [
        JournalRow(
            lead_id=row.lead_id,
            cycle_id=row.cycle_id,
            kind=row.kind,
            status=DecisionStatus.HELD,
            previous_owner_id=row.previous_owner_id,
            reason="owner inactive in Salesforce; re-routing next cycle",
            lead_created_at=row.lead_created_at,
            hop=row.hop,
            worker_id=row.worker_id,
            decided_at=now,
        )
        for row in journal_repo.by_ids(s, ids)
    ]
    s.add_all(held)
    s.flush()
    announce_decisions(s, deps, held)


def _count(deps: Deps, out: Outcomes, now: datetime) -> None:
    m = deps.metrics
    m.routed.inc(len(out.applied))
    for reason, items in out.skipped.items():
        m.skipped.labels(reason=reason).inc(len(items))
        if reason in (OWNER_CHANGED, OWNER_CHANGED_AFTER_SEND):
            for item in items:
                log.info("lead %s skipped: %s", item.lead_id, reason)
    for item in out.applied:
        if item.created_at is not None:
            m.latency.observe(max(0.0, (now - item.created_at).total_seconds()))
