"""Reconcile ``pending`` decisions with Salesforce (on start and at every cycle).

A decision is journalled ``pending`` before its write; a crash (or a write whose result
never arrived) leaves it so. Salesforce says what happened: owner already the decided
rep -> applied; still with the owner we expected -> the write never landed: send it
again, through the same guard; anyone else -> skipped, "owner changed by someone else;
our write may have landed first" (the crash may have come after the PATCH went out);
deleted or converted -> closed out. The decision is re-sent rather than decided anew
because its cap counters and round-robin turn were already consumed with it.

Decisions the long-running worker left pending on purpose (re-read in the second of
their last change, :class:`worker.jobs.precondition.Settling`) are known not to have
been sent, and are judged as such; after a restart nothing is known, and every pending
decision is taken as possibly sent. Decisions whose write is in flight on the
subscriber's writer threads (``Deps.state.writing``) are left to that write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from worker.jobs.deps import Deps
from worker.jobs.write_items import Outcomes, items_for
from worker.jobs.writeback import write_back
from worker.routing.model import RoutingConfig
from worker.store import journal_repo
from worker.store.db import session_scope


def reconcile_pending(
    deps: Deps, config: RoutingConfig, intake_owner_ids: Sequence[str]
) -> Outcomes:
    with session_scope(deps.engine) as s:
        rows = [r for r in journal_repo.pending(s) if r.id not in deps.state.writing]
    if not rows:
        return Outcomes()
    dumps = [r.model_dump() for r in rows]
    items = items_for(dumps, frozenset(intake_owner_ids), config.writeback.reason_field, sent=True)
    unsent = deps.settling.unsent(i.decision_id for i in items)  # held back, never sent
    items = [replace(i, sent=False) if i.decision_id in unsent else i for i in items]
    return write_back(deps, items, conditional=config.writeback.conditional)
