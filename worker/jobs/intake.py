"""One intake cycle: read new leads, decide in bulk, journal, write back.

Reading: leads owned by the intake queue(s) (or integration users) and not converted, one
SOQL ordered by ``SystemModstamp, Id`` paged by queryMore, from a persisted watermark
minus an overlap window: ``SystemModstamp`` has second precision, so leads written in the
same second as the last one seen are read again. Re-reading is harmless: a routed lead
has left the queue, a lead with a ``pending`` decision is left to reconcile, and a held
lead replaces its own held row. Held leads are fetched by Id and retried every cycle.

Each batch (<= 200 leads) is decided against the routing state, and the new state, the
journal rows and the advanced watermark are committed in ONE transaction (compare-and-set
on the state's version) before anything is written to Salesforce.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from worker.jobs.budget import Pace
from worker.jobs.context import AccountCache, OpenLeads, build_context
from worker.jobs.decide import Ask, decide_batch
from worker.jobs.deps import Deps
from worker.jobs.reconcile import reconcile_pending
from worker.jobs.records import journal_row
from worker.jobs.writeback import Outcomes, items_for, write_back
from worker.routing.model import RoutingConfig
from worker.sfdc.mapping import LeadRow, parse_datetime
from worker.sfdc.soql import LEAD_FIELDS
from worker.store import journal_repo, state_repo
from worker.store.db import session_scope
from worker.store.models.journal import DecisionStatus

log = logging.getLogger("leadrouter.intake")
WATERMARK = "intake.watermark"


@dataclass
class CycleReport:
    cycle_id: str
    pace: str = Pace.NORMAL
    read: int = 0
    decided: int = 0
    held: int = 0
    applied: int = 0
    skipped: int = 0
    failed: int = 0
    left_pending: int = 0
    api_calls: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def add(self, out: Outcomes) -> None:
        self.applied += len(out.applied)
        self.skipped += sum(len(v) for v in out.skipped.values())
        self.failed += len(out.failed) + len(out.reroute)
        self.left_pending += len(out.left_pending)


@dataclass
class _Cycle:
    deps: Deps
    config: RoutingConfig
    owners: tuple[str, ...]
    report: CycleReport
    fields: tuple[str, ...]
    open_leads: OpenLeads = field(default_factory=OpenLeads)
    seen: set[str] = field(default_factory=set)


def lead_fields(config: RoutingConfig) -> tuple[str, ...]:
    """Our standard fields plus every field the routing rules and tags look at."""
    names = list(LEAD_FIELDS)
    for rule in config.rules:
        names += [c.field for c in rule.conditions]
    for tag in config.lead_tags:
        names += [c.field for c in tag.conditions] + ([tag.field] if tag.field else [])
    lower: dict[str, str] = {}
    for name in names:
        if name and name[0].isalpha() and name.replace("_", "").isalnum():  # not $pseudo
            lower.setdefault(name.lower(), name)
    return tuple(lower.values())


def intake_owner_ids(deps: Deps, config: RoutingConfig) -> tuple[str, ...]:
    queues = deps.directory.queue_ids(config.intake.queues)
    missing = [q for q in config.intake.queues if q not in queues]
    if missing:
        log.error("intake queue(s) not found in Salesforce: %s", ", ".join(missing))
    return tuple(queues.values()) + deps.intake_user_ids


def run_cycle(deps: Deps, accounts: AccountCache | None = None) -> CycleReport:
    """Run one intake cycle; returns what happened (also logged)."""
    started, calls0 = time.monotonic(), deps.gateway.api_calls()
    report = CycleReport(cycle_id=uuid.uuid4().hex[:12])
    with session_scope(deps.engine) as s:
        config = deps.config(s)
    report.pace = deps.budget.announce(deps.gateway.api_usage())
    if report.pace is not Pace.STOP:
        owners = intake_owner_ids(deps, config)
        if owners:
            cycle = _Cycle(deps, config, owners, report, lead_fields(config))
            report.add(reconcile_pending(deps, config, owners))
            _read_and_route(cycle, accounts or AccountCache())
    report.api_calls = deps.gateway.api_calls() - calls0
    report.seconds = time.monotonic() - started
    deps.metrics.api_calls.inc(report.api_calls)
    deps.metrics.cycle_seconds.observe(report.seconds)
    _record_usage(deps, report)
    log.info(
        "cycle %s: read=%d decided=%d applied=%d held=%d skipped=%d failed=%d pending=%d "
        "api_calls=%d seconds=%.3f pace=%s",
        report.cycle_id, report.read, report.decided, report.applied, report.held,
        report.skipped, report.failed, report.left_pending, report.api_calls, report.seconds,
        report.pace,
    )  # fmt: skip
    return report


def _record_usage(deps: Deps, report: CycleReport) -> None:
    usage = deps.gateway.api_usage()
    if usage is None:
        return
    deps.metrics.api_used.set(usage[0])
    deps.metrics.api_max.set(usage[1])
    with session_scope(deps.engine) as s:
        state_repo.record_usage(s, used=usage[0], limit=usage[1], calls=report.api_calls)


def _read_and_route(cycle: _Cycle, accounts: AccountCache) -> None:
    deps = cycle.deps
    with session_scope(deps.engine) as s:
        held = journal_repo.held(s)
        pending = journal_repo.pending_lead_ids(s)
        mark = state_repo.get_value(s, WATERMARK)
    cycle.seen |= pending
    if held:
        rows = deps.gateway.leads_by_id(sorted(held), cycle.fields)
        _close_stale_held(cycle, held.keys(), rows)
        waiting = [r for r in rows if r.owner_id in cycle.owners and not r.is_converted]
        _route_rows(cycle, waiting, accounts, watermark=None)
    since = parse_datetime(mark) if isinstance(mark, str) else None
    if since is not None:
        since -= timedelta(seconds=deps.overlap_seconds)
    for page in deps.gateway.intake_pages(cycle.owners, since, cycle.fields):
        cycle.report.read += len(page)
        stamps = [r.modstamp for r in page if r.modstamp is not None]
        _route_rows(cycle, page, accounts, watermark=max(stamps) if stamps else None)


def _close_stale_held(cycle: _Cycle, held_ids: Iterable[str], rows: Sequence[LeadRow]) -> None:
    """Held leads that left the queue meanwhile (a human took them, converted, deleted)."""
    found = {r.id: r for r in rows}
    gone: dict[str, str] = {}
    for lead_id in held_ids:
        row = found.get(lead_id)
        if row is None:
            gone[lead_id] = "lead deleted"
        elif row.is_converted:
            gone[lead_id] = "lead converted"
        elif row.owner_id not in cycle.owners:
            gone[lead_id] = "owner changed by someone else"
    if not gone:
        return
    with session_scope(cycle.deps.engine) as s:
        for lead_id, held_row in journal_repo.held(s, list(gone)).items():
            held_row.status, held_row.error = DecisionStatus.SKIPPED, gone[lead_id]
            s.add(held_row)


def _route_rows(
    cycle: _Cycle, rows: Sequence[LeadRow], accounts: AccountCache, watermark: datetime | None
) -> None:
    fresh = [r for r in rows if r.id not in cycle.seen]
    cycle.seen.update(r.id for r in fresh)
    size = cycle.deps.batch_size
    for start in range(0, max(len(fresh), 1), size):
        batch = fresh[start : start + size]
        last = start + size >= len(fresh)
        _route_batch(cycle, batch, accounts, watermark if last else None)


def _route_batch(
    cycle: _Cycle, batch: Sequence[LeadRow], accounts: AccountCache, watermark: datetime | None
) -> None:
    deps, config = cycle.deps, cycle.config
    if not batch and watermark is None:
        return
    now = deps.now()
    context = build_context(
        gateway=deps.gateway, directory=deps.directory, config=config,
        leads=[r.lead for r in batch], open_leads=cycle.open_leads, accounts=accounts,
    )  # fmt: skip
    with session_scope(deps.engine) as s:
        state, version = state_repo.load_state(s)
        decisions, state = decide_batch(
            [Ask(r.lead) for r in batch], config=config, context=context, state=state, now=now
        )
        journal_repo.drop_held(s, [r.id for r in batch])
        rows = [
            journal_row(
                d,
                r,
                config=config,
                cycle_id=cycle.report.cycle_id,
                worker_id=deps.worker_id,
                now=now,
                owner_name=deps.directory.name_of(d.owner_id),
            )  # fmt: skip
            for d, r in zip(decisions, batch, strict=True)
        ]
        s.add_all(rows)
        if batch:
            state_repo.save_state(s, state, expected_version=version, worker_id=deps.worker_id)
        if watermark is not None:
            state_repo.set_value(s, WATERMARK, watermark.isoformat())
        s.flush()
        pending = [row for row in rows if row.status == DecisionStatus.PENDING]
    for d, r in zip(decisions, batch, strict=True):
        if d.action == "assign":
            cycle.open_leads.moved(r.owner_id, d.owner_id)
    _count_decisions(cycle, rows)
    items = items_for(pending, frozenset(cycle.owners), config.writeback.reason_field)
    cycle.report.add(write_back(deps, items))


def _count_decisions(cycle: _Cycle, rows: Sequence[object]) -> None:
    from worker.store.models.journal import Decision

    held = sum(1 for r in rows if isinstance(r, Decision) and r.status == DecisionStatus.HELD)
    cycle.report.decided += len(rows)
    cycle.report.held += held
    cycle.deps.metrics.held.inc(held)
