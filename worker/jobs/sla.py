"""The SLA sweep: record first touches, and act on untouched leads past their SLA.

The sweep re-reads leads with open clocks (bulk, by Id) with their Tasks. A lead is
*touched* when its status left the policy's untouched statuses, or an activity was logged
since the assignment (``LastActivityDate`` or a Task on the lead); the first touch time is
recorded for speed-to-lead (a Task's own time when it has one, else the sweep's). A lead
that left its owner (a human moved it, converted, deleted) is closed. Which leads are read
depends on the intake mode, which the worker passes in (``subscribed``):

- polling: every applied decision still ``sla_state = open``, at every sweep (2 calls
  every ``sla_interval_seconds`` while any clock is open);
- subscribed: only the clocks that need a read now: those whose ``sla_due_at`` has come,
  and those whose reminder before the due time is due
  (:func:`worker.notify.sla_reminders_due`: a reminder must not go to an owner who
  already touched the lead). Both are store queries (the ``(sla_state, sla_due_at)``
  index); when nothing comes due, the sweep makes no Salesforce call at all. Only those
  rows are read, not every open clock: the others' status changes and owner changes
  arrive as change events and are recorded when they come, with their commit time and
  no API call (:mod:`worker.jobs.sla_events`), so reading them early would buy nothing
  but calls. A touch that changes no field of the lead (a Task logged, nothing else) has
  no event: subscribed, it is recorded at the due-time (or reminder) check, with the
  Task's own time when it has one.

An untouched lead past ``sla_due_at`` is a breach. What it leads to is decided by the
routing core (:func:`worker.routing.sla.breach_step`, with the SLA of the lead's rule, its
pool or the default), and so is the decision journaled for it
(:func:`worker.routing.sla.sla_decision`: its reason and trace say why); this module
gathers the facts (owner, manager, hops, reminders so far) and carries the step out:

- ``reassign``: re-routed within its pool to someone who never had it (``hop + 1``);
- ``move``: given to the escalation target (a rep, a pool or a queue);
- ``remind``: a note (``sla_remind``) tells the owner; the clock gets a new window;
- ``manager``: a note (``escalate_manager``) reminds the owner and tells their manager;
  the lead stays and the clock ends.

A re-assignment that finds nobody, or an escalation target that cannot take the lead, goes
back to ``breach_step`` with that fact. Moves are journalled with their reason, then
written through the same guard as intake (only if the lead is still with the owner we
are taking it from). Notes and their messages are written in the sweep's transaction:
nothing is written to Salesforce for them.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from worker.jobs.context import build_context
from worker.jobs.decide import Ask, decide_batch
from worker.jobs.deps import Deps
from worker.jobs.fields import lead_fields
from worker.jobs.notices import announce_decisions
from worker.jobs.records import journal_entry, to_write
from worker.jobs.write_items import items_for
from worker.jobs.writeback import write_back
from worker.notify import enqueue_sla_reminders, sla_reminders_due
from worker.notify.model import Contact
from worker.notify.recipients import manager_of
from worker.routing.model import Decision, RoutingConfig, RoutingContext
from worker.routing.sla import (
    Breach,
    BreachStep,
    SlaChoice,
    breach_step,
    is_touched,
    previous_owners,
    sla_decision,
    sla_policy_for,
)
from worker.routing.state import RoutingState
from worker.sfdc.mapping import LeadRow
from worker.store import journal_repo, state_repo
from worker.store.db import session_scope
from worker.store.journal_entry import JournalEntry
from worker.store.models.journal import DecisionKind, DecisionStatus, JournalRow

log = logging.getLogger("leadrouter.sla")


@dataclass
class SlaReport:
    checked: int = 0
    touched: int = 0
    closed: int = 0
    moved: int = 0
    escalated: int = 0
    applied: int = 0
    reminded: int = 0  # reminders before the due time (notifications queued)
    owners_reminded: int = 0  # misses that reminded the owner and kept the lead
    managers_told: int = 0  # misses escalated to the owner's manager (the lead kept)


def aware(at: datetime | None) -> datetime | None:
    """A journal timestamp as UTC (SQLite gives them back without a zone)."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def policy_of(config: RoutingConfig, row: JournalRow) -> SlaChoice:
    """The SLA of a journalled assignment (its rule's, its pool's or the default)."""
    return sla_policy_for(config, pool=row.pool, rule=row.rule)


def _touch_time(
    row: JournalRow, lead: LeadRow, task_at: datetime | None, now: datetime
) -> datetime | None:
    """When the lead was first touched since its assignment (None: untouched)."""
    since = aware(row.applied_at) or aware(row.decided_at) or now
    task_at = aware(task_at)
    activity = (task_at is not None and task_at >= since) or (
        lead.last_activity is not None and lead.last_activity >= since.date()
    )
    if activity:
        return task_at if task_at is not None and task_at >= since else now
    return None


def run_sla_sweep(deps: Deps, *, subscribed: bool = False) -> SlaReport:
    """One sweep. ``subscribed``: the worker follows change events (intake mode
    ``subscribe``), so only the clocks that come due are read (see the module docstring).

    The jobs' lock (``deps.lock``, which the caller must not hold) is taken once the
    clocks' leads and Tasks are read, not for the reads. After a burst a polled sweep reads
    thousands of open clocks every interval, tens of calls of Salesforce's time, and
    intake waited for all of them. Under the lock the clocks are taken again from the
    store and only those still open are judged (a change event may have closed one
    meanwhile); the rest (the moves, their writes, the notes) runs under it as before."""
    report = SlaReport()
    now = deps.now()
    with session_scope(deps.engine) as s:
        config = deps.config(s)
        rows = _coming_due(deps, s, now) if subscribed else journal_repo.sla_open(s)
    if not rows:
        return report
    leads, tasks = _read(deps, config, rows)
    with deps.lock:
        rows = _still_open(deps, rows)
        report.checked = len(rows)
        breached = _check(deps, config, rows, (leads, tasks), now, report)
        if breached:
            _act(deps, config, breached, now, report)
        if deps.notify.enabled:
            with session_scope(deps.engine) as s:
                report.reminded = enqueue_sla_reminders(
                    s, settings=deps.notify, now=now, instance_url=deps.instance_url,
                    directory=deps.directory.contacts(),
                )  # fmt: skip
    log.info(
        "sla sweep: checked=%d touched=%d closed=%d moved=%d escalated=%d applied=%d "
        "reminded=%d owners_reminded=%d managers_told=%d",
        report.checked, report.touched, report.closed, report.moved, report.escalated,
        report.applied, report.reminded, report.owners_reminded, report.managers_told,
    )  # fmt: skip
    return report


def _coming_due(deps: Deps, s: Session, now: datetime) -> list[JournalRow]:
    """Subscribed: the open clocks due by ``now``, and those whose reminder is due."""
    rows = {r.id: r for r in journal_repo.sla_due(s, now)}
    if deps.notify.enabled:
        reminders = sla_reminders_due(
            s, settings=deps.notify, now=now, instance_url=deps.instance_url,
            directory=deps.directory.contacts(),
        )  # fmt: skip
        rows.update((r.id, r) for r, _ in reminders)
    return list(rows.values())


def _read(
    deps: Deps, config: RoutingConfig, rows: Sequence[JournalRow]
) -> tuple[dict[str, LeadRow], dict[str, datetime]]:
    """``rows``' leads (by Id) and their first Task times."""
    ids = [r.lead_id for r in rows]
    leads = {r.id: r for r in deps.gateway.leads_by_id(ids, lead_fields(config))}
    return leads, deps.gateway.task_activity(ids)


def _still_open(deps: Deps, rows: Sequence[JournalRow]) -> list[JournalRow]:
    """``rows`` as the store has them now, those still open, in their order."""
    order = {r.id: n for n, r in enumerate(rows)}
    with session_scope(deps.engine) as s:
        fresh = journal_repo.sla_open_for(s, [r.lead_id for r in rows])
    return sorted((r for r in fresh if r.id in order), key=lambda r: order[r.id])


def _check(
    deps: Deps,
    config: RoutingConfig,
    rows: Sequence[JournalRow],
    read: tuple[Mapping[str, LeadRow], Mapping[str, datetime]],
    now: datetime,
    report: SlaReport,
) -> list[tuple[JournalRow, LeadRow]]:
    """Judge ``rows`` by their leads and Tasks as read: record touches and closes; the
    breached rows."""
    leads, tasks = read
    breached: list[tuple[JournalRow, LeadRow]] = []
    with session_scope(deps.engine) as s:
        for row in rows:
            lead = leads.get(row.lead_id)
            if lead is None or lead.is_converted or lead.owner_id != row.owner_id:
                journal_repo.set_sla_state(s, [row.id or 0], "closed")
                report.closed += 1
                continue
            at = _touch_time(row, lead, tasks.get(row.lead_id), now)
            if at is None and is_touched(lead.status, policy_of(config, row).policy):
                at = now
            if at is not None:
                journal_repo.set_sla_state(s, [row.id or 0], "touched", first_touch_at=at)
                report.touched += 1
            elif aware(row.sla_due_at) is not None and now >= aware(row.sla_due_at):  # type: ignore[operator]
                breached.append((row, lead))
    return breached


@dataclass
class _Case:
    """One breached assignment: its facts, the step decided, and (a move) the decision
    of the move once its new owner is found."""

    row: JournalRow
    lead: LeadRow
    breach: Breach
    step: BreachStep
    exclude: frozenset[str]
    decision: Decision | None = None

    def learn(self, **facts: Any) -> None:
        """A fact found while carrying the step out: decide again with it."""
        self.breach = replace(self.breach, **facts)
        self.step = breach_step(self.breach)

    def pick_pool(self) -> str | None:
        """The pool a rep must be picked in (a re-assignment, an escalation to a pool)."""
        t = self.step.target
        if self.decision is not None or t is None or t.kind != "pool":
            return None
        return t.name if self.step.kind in ("reassign", "move") else None


def _case(
    deps: Deps,
    config: RoutingConfig,
    row: JournalRow,
    lead: LeadRow,
    now: datetime,
    facts: tuple[Mapping[str, set[str]], Mapping[int, int], Mapping[str, Contact]],
) -> _Case:
    history, reminders, contacts = facts
    owner_key = row.rep_key or row.owner_id
    manager = manager_of(owner_key, deps.notify, contacts)
    breach = Breach(
        choice=policy_of(config, row),
        owner=row.owner_name or deps.directory.name_of(row.owner_id) or owner_key or "the owner",
        due_at=aware(row.sla_due_at) or now,
        now=now,
        lead_id=row.lead_id,
        owner_id=row.owner_id,
        rep_key=row.rep_key,
        rule=row.rule,
        pool=row.pool,
        hop=row.hop,
        reminders=reminders.get(row.id or 0, 0),
        manager=(manager.name or manager.email) if manager else None,
        rep=config.reps.get(row.rep_key or ""),
    )
    exclude = previous_owners(history.get(row.lead_id, set()), row.rep_key)
    return _Case(row, lead, breach, breach_step(breach), exclude)


def _act(
    deps: Deps,
    config: RoutingConfig,
    breached: Sequence[tuple[JournalRow, LeadRow]],
    now: datetime,
    report: SlaReport,
) -> None:
    cycle_id = "sla-" + uuid.uuid4().hex[:8]
    deps.directory.owners([r.owner_id for r, _ in breached if r.owner_id])
    contacts = deps.directory.contacts()
    context = build_context(
        gateway=deps.gateway, directory=deps.directory, config=config,
        leads=[lead.lead for _, lead in breached], caches=deps.caches, engine=deps.engine,
        now=deps.now,
    )  # fmt: skip
    with session_scope(deps.engine) as s:
        history = journal_repo.past_owners(s, [r.lead_id for r, _ in breached])
        reminders = journal_repo.breach_reminders(s, [r for r, _ in breached])
        facts = (history, reminders, contacts)
        cases = [_case(deps, config, row, lead, now, facts) for row, lead in breached]
        state, version = state_repo.load_state(s)
        state = _pick(config, context, cases, state, now)
        for case in cases:
            if case.step.kind == "move" and case.decision is None:
                _escalate(deps, case)
        pending = _journal(s, _Writer(deps, config, cycle_id, now), cases, report)
        state_repo.save_state(s, state, expected_version=version, worker_id=deps.worker_id)
    deps.metrics.reassigned.inc(len(pending))
    items = items_for(pending, frozenset(), config.writeback.reason_field)
    out = write_back(deps, items, conditional=config.writeback.conditional)
    report.applied += len(out.applied)


def _pick(
    config: RoutingConfig,
    context: RoutingContext,
    cases: list[_Case],
    state: RoutingState,
    now: datetime,
) -> RoutingState:
    """Pick reps for re-assignments and escalations to a pool. A re-assignment that
    finds nobody may escalate to a pool, which may find nobody: at most three rounds."""
    for _ in range(3):
        todo = [(c, pool) for c in cases if (pool := c.pick_pool()) is not None]
        if not todo:
            break
        asks = [Ask(c.lead.lead, c.exclude, pool) for c, pool in todo]
        decided, state = decide_batch(asks, config=config, context=context, state=state, now=now)
        for (case, pool), decision in zip(todo, decided, strict=True):
            if decision.action == "assign":
                case.decision = sla_decision(case.breach, case.step, pick=decision)
            elif case.step.kind == "reassign":
                case.learn(nobody_eligible=True)
            else:
                case.learn(move_failed=f"nobody eligible in pool {pool}")
    return state


def _escalate(deps: Deps, case: _Case) -> None:
    """The owner of an escalation to a rep or a queue, or (unavailable) a new step."""
    target, row = case.step.target, case.row
    assert target is not None and target.kind in ("rep", "queue") and target.name
    owner_id: str | None = None
    rep_key: str | None = None
    if target.kind == "rep":
        user = deps.directory.users([target.name]).get(target.name.lower())
        owner_id, rep_key = (user.id, target.name.lower()) if user else (None, None)
        why = f"no Salesforce user {target.name}"
    else:
        owner_id = deps.directory.queue_ids([target.name]).get(target.name)
        why = f"no queue {target.name} in Salesforce"
    if owner_id == row.owner_id:
        owner_id, why = None, "it already owns the lead"
    if owner_id is None:
        log.warning("lead %s: SLA missed, escalation target unavailable: %s", row.lead_id, why)
        case.learn(move_failed=why)
        return
    case.decision = sla_decision(case.breach, case.step, owner_id=owner_id, rep_key=rep_key)


@dataclass(frozen=True)
class _Writer:
    """Builds the journal entries of one sweep."""

    deps: Deps
    config: RoutingConfig
    cycle_id: str
    now: datetime

    def entry(self, case: _Case, decision: Decision, kind: str, hop: int) -> JournalEntry:
        name = self.deps.directory.name_of(decision.owner_id)
        if decision.owner_id == case.row.owner_id:
            name = case.row.owner_name or name
        return journal_entry(
            decision, case.lead, config=self.config, cycle_id=self.cycle_id, now=self.now,
            worker_id=self.deps.worker_id, kind=kind, hop=hop, owner_name=name,
        )  # fmt: skip

    def move(self, case: _Case) -> JournalEntry:
        """A re-assignment (its SLA goes on) or an escalation (no SLA after it)."""
        decision, hop = case.decision, case.row.hop + 1
        assert decision is not None
        if case.step.kind == "reassign":
            return self.entry(case, decision, DecisionKind.SLA_REASSIGN, hop)
        return replace(self.entry(case, decision, DecisionKind.ESCALATE, hop), sla_due_at=None)

    def note(self, case: _Case) -> JournalEntry:
        """A miss that keeps the lead: done once journalled (Salesforce is not written)."""
        row, step = case.row, case.step
        note = sla_decision(case.breach, step)
        kind = DecisionKind.ESCALATE_MANAGER if step.notify_manager else DecisionKind.SLA_REMIND
        return replace(self.entry(case, note, kind, row.hop), status=DecisionStatus.APPLIED,
                       applied_at=self.now, sla_state=None, sla_due_at=step.due_at)  # fmt: skip


def _journal(
    s: Session, w: _Writer, cases: Sequence[_Case], report: SlaReport
) -> list[dict[str, object]]:
    """Journal every case and update the breached clocks; returns the pending moves."""
    moves = [w.move(c) for c in cases if c.step.kind in ("reassign", "move")]
    notes = [w.note(c) for c in cases if c.step.kind in ("remind", "manager")]
    for case in cases:
        row_id, step = case.row.id or 0, case.step
        if step.kind in ("reassign", "move"):
            journal_repo.set_sla_state(s, [row_id], "moved")
        elif step.kind == "remind" and step.due_at is not None:
            journal_repo.push_sla_due(s, row_id, step.due_at)  # the clock goes on
        else:
            journal_repo.set_sla_state(
                s, [row_id], "escalated" if step.notify_manager else "expired"
            )
    report.moved += sum(c.step.kind == "reassign" for c in cases)
    report.escalated += sum(c.step.kind == "move" for c in cases)
    report.owners_reminded += len(notes)
    report.managers_told += sum(c.step.notify_manager for c in cases)
    ids = journal_repo.insert_decisions(s, moves + notes)
    if w.deps.notify.enabled and notes:
        announce_decisions(s, w.deps, journal_repo.by_ids(s, ids[len(moves) :]))
    return to_write(moves, ids[: len(moves)])
