"""The SLA sweep: record first touches, and move untouched leads past their SLA.

For every applied decision still ``sla_state = open``: the lead is re-read (bulk, by Id)
with its Tasks. It is *touched* when its status left the pool's untouched statuses, or an
activity was logged since the assignment (``LastActivityDate`` or a Task on the lead);
the first touch time is recorded for speed-to-lead. A lead that left its owner (a human
moved it, converted, deleted) is closed. An untouched lead past ``sla_due_at`` is
re-routed within its pool to someone who never had it (``hop + 1``), or, once the pool's
``max_hops`` are used or nobody else is eligible, escalated to the configured rep, pool
or queue. Every hop is journalled with its reason, then written through the same guard
as intake (only if the lead is still with the owner we are taking it from).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from worker.jobs.context import build_context
from worker.jobs.decide import Ask, decide_batch
from worker.jobs.deps import Deps
from worker.jobs.intake import lead_fields
from worker.jobs.records import journal_row
from worker.jobs.writeback import items_for, write_back
from worker.notify import enqueue_sla_reminders
from worker.routing.model import Decision as RoutingDecision
from worker.routing.model import RoutingConfig, SlaPolicy
from worker.routing.sla import escalation_target, is_touched, previous_owners, sla_next_step
from worker.sfdc.mapping import LeadRow
from worker.store import journal_repo, state_repo
from worker.store.db import session_scope
from worker.store.models.journal import Decision, DecisionKind, DecisionStatus

log = logging.getLogger("leadrouter.sla")


@dataclass
class SlaReport:
    checked: int = 0
    touched: int = 0
    closed: int = 0
    moved: int = 0
    escalated: int = 0
    applied: int = 0
    reminded: int = 0


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _touch_time(
    row: Decision, lead: LeadRow, task_at: datetime | None, now: datetime
) -> datetime | None:
    """When the lead was first touched since its assignment (None: untouched)."""
    since = _aware(row.applied_at) or _aware(row.decided_at) or now
    task_at = _aware(task_at)
    activity = (task_at is not None and task_at >= since) or (
        lead.last_activity is not None and lead.last_activity >= since.date()
    )
    if activity:
        return task_at if task_at is not None and task_at >= since else now
    return None


def run_sla_sweep(deps: Deps) -> SlaReport:
    report = SlaReport()
    with session_scope(deps.engine) as s:
        config = deps.config(s)
        rows = journal_repo.sla_open(s)
    if not rows:
        return report
    now = deps.now()
    report.checked = len(rows)
    ids = [r.lead_id for r in rows]
    leads = {r.id: r for r in deps.gateway.leads_by_id(ids, lead_fields(config))}
    tasks = deps.gateway.task_activity(ids)
    breached: list[tuple[Decision, LeadRow, SlaPolicy]] = []
    with session_scope(deps.engine) as s:
        for row in rows:
            lead = leads.get(row.lead_id)
            pool = config.pools.get(row.pool or "")
            if (
                lead is None
                or lead.is_converted
                or lead.owner_id != row.owner_id
                or pool is None
                or pool.sla is None
            ):
                journal_repo.set_sla_state(s, [row.id or 0], "closed")
                report.closed += 1
                continue
            at = _touch_time(row, lead, tasks.get(row.lead_id), now)
            if at is None and is_touched(lead.status, pool.sla):
                at = now
            if at is not None:
                journal_repo.set_sla_state(s, [row.id or 0], "touched", first_touch_at=at)
                report.touched += 1
            elif _aware(row.sla_due_at) is not None and now >= _aware(row.sla_due_at):  # type: ignore[operator]
                breached.append((row, lead, pool.sla))
    if breached:
        _move(deps, config, breached, now, report)
    if deps.notify.enabled:
        with session_scope(deps.engine) as s:
            report.reminded = enqueue_sla_reminders(
                s, settings=deps.notify, now=now, instance_url=deps.instance_url,
                directory=deps.directory.contacts(),
            )  # fmt: skip
    log.info(
        "sla sweep: checked=%d touched=%d closed=%d moved=%d escalated=%d applied=%d reminded=%d",
        report.checked, report.touched, report.closed, report.moved, report.escalated, report.applied,
        report.reminded,
    )  # fmt: skip
    return report


def _move(
    deps: Deps,
    config: RoutingConfig,
    breached: Sequence[tuple[Decision, LeadRow, SlaPolicy]],
    now: datetime,
    report: SlaReport,
) -> None:
    cycle_id = "sla-" + uuid.uuid4().hex[:8]
    context = build_context(
        gateway=deps.gateway, directory=deps.directory, config=config,
        leads=[lead.lead for _, lead, _ in breached], caches=deps.caches, engine=deps.engine,
    )  # fmt: skip
    with session_scope(deps.engine) as s:
        history = journal_repo.past_owners(s, [r.lead_id for r, _, _ in breached])
        state, version = state_repo.load_state(s)
        asks, plans = [], []
        for row, lead, policy in breached:
            exclude = previous_owners(history.get(row.lead_id, set()), row.rep_key)
            step = sla_next_step(policy, row.hop)
            target = escalation_target(policy)
            pool = (
                row.pool if step == "reassign" else target.name if target.kind == "pool" else None
            )
            asks.append(Ask(lead.lead, exclude, pool) if pool else None)
            plans.append((row, lead, policy, step, exclude))
        real = [a for a in asks if a is not None]
        decided, state = decide_batch(real, config=config, context=context, state=state, now=now)
        it = iter(decided)
        new_rows = []
        for (row, lead, policy, step, exclude), ask in zip(plans, asks, strict=True):
            decision = next(it) if ask is not None else None
            if step == "reassign" and (decision is None or decision.action != "assign"):
                step, decision = "escalate", _escalation(deps, row, policy, None, exclude)
            elif step == "escalate":
                decision = _escalation(deps, row, policy, decision, exclude)
            if decision is None:
                journal_repo.set_sla_state(s, [row.id or 0], "expired")
                continue
            kind = DecisionKind.SLA_REASSIGN if step == "reassign" else DecisionKind.ESCALATE
            new = journal_row(
                decision, lead, config=config, cycle_id=cycle_id, worker_id=deps.worker_id,
                now=now, kind=kind, hop=row.hop + 1, owner_name=deps.directory.name_of(decision.owner_id),
            )  # fmt: skip
            if kind == DecisionKind.ESCALATE:
                new["sla_due_at"] = None
            new_rows.append(new)
            journal_repo.set_sla_state(s, [row.id or 0], "moved")
            report.moved += kind == DecisionKind.SLA_REASSIGN
            report.escalated += kind == DecisionKind.ESCALATE
        ids = journal_repo.insert_decisions(s, new_rows)
        state_repo.save_state(s, state, expected_version=version, worker_id=deps.worker_id)
        pending = [
            r | {"id": i}
            for r, i in zip(new_rows, ids, strict=True)
            if r["status"] == DecisionStatus.PENDING
        ]
    deps.metrics.reassigned.inc(len(pending))
    items = items_for(pending, frozenset(), config.writeback.reason_field)
    out = write_back(deps, items, conditional=config.writeback.conditional)
    report.applied += len(out.applied)


def _escalation(
    deps: Deps,
    row: Decision,
    policy: SlaPolicy,
    decision: RoutingDecision | None,
    exclude: frozenset[str],
) -> RoutingDecision | None:
    """The escalation decision for ``row`` (None: stay with the current owner)."""
    target = escalation_target(policy)
    reason = f"SLA of {policy.minutes} min missed after {row.hop} hop(s): escalated"
    if target.kind == "pool" and decision is not None and decision.action == "assign":
        return decision
    owner_id: str | None = None
    rep_key: str | None = None
    if target.kind == "rep" and target.name:
        user = deps.directory.users([target.name]).get(target.name.lower())
        owner_id, rep_key = (user.id, target.name.lower()) if user else (None, None)
    elif target.kind == "queue" and target.name:
        owner_id = deps.directory.queue_ids([target.name]).get(target.name)
    if owner_id is None or owner_id == row.owner_id:
        log.warning("lead %s: SLA missed, no escalation target available", row.lead_id)
        return None
    return RoutingDecision(
        row.lead_id, "assign", owner_id, rep_key, row.pool, "sla", "escalate",
        f"{reason} to {target.kind} {target.name}",
    )  # fmt: skip
