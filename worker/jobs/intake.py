"""One intake cycle: read new leads, decide in bulk, journal, write back.

Reading: leads owned by the intake queue(s) (or integration users) and not converted, one
SOQL ordered by ``SystemModstamp, Id`` paged by queryMore, from a persisted watermark
minus an overlap window: ``SystemModstamp`` has second precision, so leads written in the
same second as the last one seen are read again. Re-reading is harmless: a routed lead
has left the queue, a lead with a ``pending`` decision is left to reconcile, and a held
lead replaces its own held row. Held leads are fetched by Id and retried every cycle.

Each page (<= 2,000 leads, one bulk context) is decided against the routing state, and
the new state, the page's journal rows and the advanced watermark are committed in ONE
transaction (compare-and-set on the state's version) before anything is written to
Salesforce. The page's decisions are then written together
(:func:`worker.jobs.send_owners.send_all`: one owner re-read per burst of up to 800, then
that burst's PATCHes) on a thread while the next page is read and decided. Their
outcomes are journaled in the next page's transaction when they are in by then (the cap
counters of decisions not applied given back from the state that page leaves), else when
the next page hands its writes over (:mod:`worker.runtime.pipeline`).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial

from worker.jobs.accounts import refresh_mirror
from worker.jobs.context import build_context, prefetch_emails
from worker.jobs.decide import Ask, decide_batch, release
from worker.jobs.deps import Deps
from worker.jobs.fields import lead_fields
from worker.jobs.held import held_batches, held_rows, parked_by_rule
from worker.jobs.notices import announce_allocation, announce_decisions
from worker.jobs.outcome_journal import count_outcomes, journal_outcomes, mark_outcomes
from worker.jobs.reconcile import reconcile_pending
from worker.jobs.records import journal_entry, to_write
from worker.jobs.send_owners import send_all
from worker.jobs.write_items import Outcomes, WriteItem, items_for, merged
from worker.jobs.writeback import write_back
from worker.routing.model import Decision, RoutingConfig
from worker.runtime.budget import Pace
from worker.runtime.pipeline import ReadAhead, WriteBehind
from worker.sfdc.mapping import LeadRow, parse_datetime
from worker.store import journal_repo, state_repo
from worker.store.db import session_scope
from worker.store.journal_entry import JournalEntry
from worker.store.models.journal import DecisionStatus, JournalRow
from worker.store.queries.replay import DIRECTORY

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
    from_events: int = 0  # leads taken from their create events, not read
    api_calls: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def add(self, out: Outcomes) -> None:
        self.applied += len(out.applied)
        self.skipped += sum(len(v) for v in out.skipped.values())
        self.failed += len(out.failed) + len(out.reroute)
        self.left_pending += len(out.left_pending)


HandOver = Callable[[list[WriteItem], bool], None]  # (journaled items, conditional)


def _nothing() -> None:
    return None


@dataclass
class _Cycle:
    deps: Deps
    config: RoutingConfig
    owners: tuple[str, ...]
    report: CycleReport
    fields: tuple[str, ...]
    seen: set[str] = field(default_factory=set)
    writes: WriteBehind[list[WriteItem], list[Outcomes]] | None = None  # page writes
    # the subscriber's: a batch's writes sent on while the next batch is decided
    hand_over: HandOver | None = None
    page_done: Callable[[], None] = _nothing  # after each page: the heap's collection point


def intake_owner_ids(deps: Deps, config: RoutingConfig) -> tuple[str, ...]:
    queues = deps.directory.queue_ids(config.intake.queues)
    missing = [q for q in config.intake.queues if q not in queues]
    if missing:
        log.error("intake queue(s) not found in Salesforce: %s", ", ".join(missing))
    users = deps.directory.users(deps.intake_user_keys) if deps.intake_user_keys else {}
    unknown = [k for k, user in users.items() if user is None]
    if unknown:
        log.error("intake user(s) not found in Salesforce: %s", ", ".join(unknown))
    found = tuple(u.id for u in users.values() if u is not None)
    return tuple(queues.values()) + deps.intake_user_ids + found


def refresh_mirrors(deps: Deps) -> int:
    """The account and contact mirrors' share of a cycle, unless the API budget says stop;
    the calls it made. It needs no jobs' lock: each mirror commits its pages under its
    own sync row, and a decision reads whatever is committed. So the long-running worker
    calls it before taking the lock (:meth:`worker.scheduler.Worker._cycle`), and the
    subscriber's batches are not held up by a sweep's mirror calls. One refresh at a time
    (a second caller meanwhile skips it)."""
    if not deps.caches.refreshing.acquire(blocking=False):
        return 0
    try:
        calls0 = deps.gateway.api_calls()
        with session_scope(deps.engine) as s:
            config = deps.config(s)
        if deps.budget.pace(deps.gateway.api_usage()) is not Pace.STOP:
            refresh_mirror(deps.caches.mirror, deps.engine, deps.gateway, deps.now(), config)
            deps.caches.contacts.step(deps.engine, deps.gateway, deps.now(), config)
        return deps.gateway.api_calls() - calls0
    finally:
        deps.caches.refreshing.release()


def run_cycle(deps: Deps, *, mirrors_calls: int | None = None) -> CycleReport:
    """Run one intake cycle; returns what happened (also logged). ``mirrors_calls``: the
    mirrors were refreshed just before by :func:`refresh_mirrors` (outside the jobs'
    lock), with that many calls; None: refreshed here."""
    started, calls0 = time.monotonic(), deps.gateway.api_calls()
    report = CycleReport(cycle_id=uuid.uuid4().hex[:12])
    with session_scope(deps.engine) as s:
        config = deps.config(s)
    usage = deps.gateway.api_usage()
    report.pace = deps.budget.announce(usage)
    announce_allocation(deps, report.pace, usage)
    if report.pace is not Pace.STOP:
        if mirrors_calls is None:
            refresh_mirrors(deps)  # its calls are the cycle's, counted from calls0
        else:
            calls0 -= mirrors_calls  # made just before the cycle: counted as its own
        owners = intake_owner_ids(deps, config)
        if owners:
            cycle = _Cycle(deps, config, owners, report, lead_fields(config))
            report.add(reconcile_pending(deps, config, owners))
            _read_and_route(cycle)
        _remember_directory(deps, config)
    report.api_calls = deps.gateway.api_calls() - calls0
    report.seconds = time.monotonic() - started
    deps.metrics.api_calls.inc(report.api_calls)
    deps.metrics.cycle_seconds.observe(report.seconds)
    _record_usage(deps, report)
    busy = report.read or report.decided or report.applied or report.left_pending
    deps.heap.settle(busy=bool(busy))
    log.log(
        logging.INFO if busy else logging.DEBUG,
        "cycle %s: read=%d decided=%d applied=%d held=%d skipped=%d failed=%d pending=%d "
        "api_calls=%d seconds=%.3f pace=%s",
        report.cycle_id, report.read, report.decided, report.applied, report.held,
        report.skipped, report.failed, report.left_pending, report.api_calls, report.seconds,
        report.pace,
    )  # fmt: skip
    return report


def route_leads(
    deps: Deps,
    lead_ids: Sequence[str],
    known: Mapping[str, LeadRow] | None = None,
    hand_over: HandOver | None = None,
) -> CycleReport:
    """Route the leads ``lead_ids`` (named by change events) as a cycle routes a page,
    through the same decide, journal and write path: read by Id with the fields the
    config needs (one retrieve per 2,000: an event's payload may be partial), kept when
    still waiting in an intake owner, not converted and without a pending decision
    (reconcile owns those). Their pending decisions are reconciled first, as a cycle's.

    ``known``: rows already known (built from create events, see
    :mod:`worker.jobs.event_leads`), used instead of a read unless the lead has a
    journal row (seen before: a redelivered event, a lead swept meanwhile) or the row
    lacks a field the config selects; the rest are read. Either way the same filters,
    decisions and owner re-read before the write.

    ``hand_over``: given the journaled decisions' write items (and
    ``writeback.conditional``) to write them, instead of writing them before returning
    (:mod:`worker.jobs.event_writes`); the report then counts no write outcome."""
    started, calls0 = time.monotonic(), deps.gateway.api_calls()
    report = CycleReport(cycle_id=uuid.uuid4().hex[:12])
    with session_scope(deps.engine) as s:
        config = deps.config(s)
        pending = journal_repo.pending_lead_ids(s)
        seen = journal_repo.journaled_lead_ids(s, list(known)) if known else set()
    report.pace = deps.budget.announce(deps.gateway.api_usage())
    owners = intake_owner_ids(deps, config) if report.pace is not Pace.STOP else ()
    wanted = list(dict.fromkeys(i for i in lead_ids if i not in pending))
    if owners and wanted:
        cycle = _Cycle(deps, config, owners, report, lead_fields(config), seen=set(pending))
        cycle.hand_over = hand_over
        fresh = {i: r for i, r in (known or {}).items() if i not in seen}
        rows, stamps = _known_or_read(cycle, wanted, fresh)
        rows = [r for r in rows if r.owner_id in owners and not r.is_converted]
        report.read = len(rows)
        if rows:
            _route_rows(cycle, rows, watermark=None, stamps=stamps)
    report.api_calls = deps.gateway.api_calls() - calls0
    report.seconds = time.monotonic() - started
    deps.metrics.api_calls.inc(report.api_calls)
    _record_usage(deps, report)
    log.log(
        logging.INFO if report.read else logging.DEBUG,
        "events %s: leads=%d read=%d from_events=%d decided=%d applied=%d held=%d skipped=%d "
        "failed=%d pending=%d api_calls=%d seconds=%.3f",
        report.cycle_id, len(lead_ids), report.read, report.from_events, report.decided,
        report.applied, report.held, report.skipped, report.failed, report.left_pending,
        report.api_calls, report.seconds,
    )  # fmt: skip
    return report


def _known_or_read(
    cycle: _Cycle, wanted: Sequence[str], known: Mapping[str, LeadRow]
) -> tuple[list[LeadRow], dict[str, datetime]]:
    """The rows of ``wanted``: known ones that carry every selected field, the rest read
    by Id; in the order of ``wanted`` (the same decisions whichever way a row came). And
    the known ones' last change as their create event showed it: their writes need no
    owner re-read first (:attr:`WriteItem.changed_at`)."""
    selected = {f.lower() for f in cycle.fields}
    taken = [
        known[i] for i in wanted
        if i in known and selected <= {f.lower() for f in known[i].lead.fields}
    ]  # fmt: skip
    cycle.report.from_events = len(taken)
    got = {r.id for r in taken}
    rest = [i for i in wanted if i not in got]
    rows = [*taken, *(cycle.deps.gateway.leads_by_id(rest, cycle.fields) if rest else [])]
    order = {lead_id: n for n, lead_id in enumerate(wanted)}
    stamps = {r.id: r.modstamp for r in taken if r.modstamp is not None}
    return sorted(rows, key=lambda r: order.get(r.id, len(order))), stamps


def _remember_directory(deps: Deps, config: RoutingConfig) -> None:
    """The reps' users as the worker sees them, stored when they change (What-if replays
    with them)."""
    snapshot = deps.directory.snapshot(config.reps)
    if snapshot == deps.state.directory_stored:
        return
    with session_scope(deps.engine) as s:
        state_repo.set_value(s, DIRECTORY, snapshot)
    deps.state.directory_stored = snapshot


def _record_usage(deps: Deps, report: CycleReport) -> None:
    """Usage gauges every cycle; a stored sample (for the dashboard) at most once a minute."""
    usage = deps.gateway.api_usage()
    deps.state.calls_since_sample += report.api_calls
    if usage is None:
        return
    deps.metrics.api_used.set(usage[0])
    deps.metrics.api_max.set(usage[1])
    if deps.monotonic() - deps.state.usage_sampled_at < deps.usage_sample_seconds:
        return
    with session_scope(deps.engine) as s:
        state_repo.record_usage(
            s, used=usage[0], limit=usage[1], calls=deps.state.calls_since_sample
        )
    deps.state.usage_sampled_at, deps.state.calls_since_sample = deps.monotonic(), 0


def _read_and_route(cycle: _Cycle) -> None:
    deps = cycle.deps
    with session_scope(deps.engine) as s:
        pending = journal_repo.pending_lead_ids(s)
        mark = state_repo.get_value(s, WATERMARK)
    cycle.seen |= pending
    since = parse_datetime(mark) if isinstance(mark, str) else None
    if since is not None:
        since = intake_since(since, deps.now(), deps.overlap_seconds, deps.settle_seconds)
    pages = deps.gateway.intake_pages(cycle.owners, since, cycle.fields)
    with (
        deps.heap.pages() as cycle.page_done,
        WriteBehind(_sender(cycle), partial(_journal_writes, cycle)) as cycle.writes,
        ReadAhead(pages, partial(_prefetch, cycle), name="intake-read") as ahead,
    ):
        for page in ahead:  # page N+1 is read while page N is decided and written
            cycle.report.read += len(page)
            stamps = [r.modstamp for r in page if r.modstamp is not None]
            _route_rows(cycle, page, watermark=max(stamps) if stamps else None, prefetched=True)
        _retry_held(cycle)  # new leads first, then retries
    cycle.writes = None


def intake_since(watermark: datetime, now: datetime, overlap: float, settle: float) -> datetime:
    """The intake query's lower bound: the watermark minus the overlap window (same-second
    leads, and leads committed late with an earlier ``SystemModstamp``) until the window
    is settled. Once the watermark is ``settle`` seconds old, every poll since has read
    that window, and re-reading it at each idle poll only costs API calls: after a burst
    it holds the last second's held leads, thousands of them, re-read every poll (held
    leads are retried by Id anyway). Same-second leads are still read (``>=``)."""
    if (now - watermark).total_seconds() >= settle:
        return watermark
    return watermark - timedelta(seconds=overlap)


def _prefetch(cycle: _Cycle, page: Sequence[LeadRow]) -> None:
    """On the read-ahead thread: the page's known e-mails, into the shared cache."""
    deps = cycle.deps
    leads = [r.lead for r in page]
    prefetch_emails(deps.gateway, deps.directory, cycle.config, leads, deps.caches,
                    deps.engine, deps.now)  # fmt: skip


def _conditional(cycle: _Cycle) -> bool:
    return cycle.config.writeback.conditional


def _sender(cycle: _Cycle) -> Callable[[list[WriteItem]], list[Outcomes]]:
    return partial(send_all, cycle.deps, conditional=_conditional(cycle))


def _journal_writes(cycle: _Cycle, groups: list[Outcomes]) -> None:
    cycle.report.add(journal_outcomes(cycle.deps, groups))


def _retry_held(cycle: _Cycle) -> None:
    deps = cycle.deps
    due = deps.monotonic() - deps.state.held_read_at >= deps.held_refresh_seconds
    for ids in held_batches(deps, cycle.config, refresh=due):
        waiting = [i for i in ids if i not in cycle.seen]
        if waiting:
            rows = held_rows(deps, cycle.owners, cycle.fields, waiting, refresh=due)
            _route_rows(cycle, rows, watermark=None, snapshot=False)  # snapshots kept already
    if due:
        deps.state.held_read_at = deps.monotonic()


def _route_rows(
    cycle: _Cycle,
    rows: Sequence[LeadRow],
    watermark: datetime | None,
    *,
    snapshot: bool = True,
    prefetched: bool = False,
    stamps: Mapping[str, datetime] | None = None,
) -> None:
    """Decide and journal ``rows`` (a page, or a slice of held leads), then write them.
    ``snapshot``: keep the rows of newly held leads for their retries (rows read by the
    intake query; retried rows are kept already). ``prefetched``: the page's e-mails were
    looked up by the read-ahead thread. ``stamps``: lead id -> its last change as its
    create event showed it (:attr:`WriteItem.changed_at`)."""
    fresh = [r for r in rows if r.id not in cycle.seen]
    cycle.seen.update(r.id for r in fresh)
    deps = cycle.deps
    if not prefetched:
        leads = [r.lead for r in fresh]
        prefetch_emails(deps.gateway, deps.directory, cycle.config, leads, deps.caches,
                        deps.engine, deps.now)  # fmt: skip
    if fresh or watermark is not None:
        items = _route_page(cycle, fresh, watermark, snapshot)
    else:
        items = []
    if stamps:
        items = [replace(i, changed_at=stamps.get(i.lead_id)) for i in items]
    # the whole page's writes together: an owner re-read before each burst of PATCHes,
    # sent while the next page is decided (journaled when the next page hands its over)
    if cycle.writes is not None:
        if items:
            cycle.writes.submit(items)
    elif cycle.hand_over is not None:
        if items:
            cycle.hand_over(items, _conditional(cycle))
    else:
        cycle.report.add(write_back(deps, items, conditional=_conditional(cycle)))
    cycle.page_done()


def _route_page(
    cycle: _Cycle, fresh: Sequence[LeadRow], watermark: datetime | None, snapshot: bool
) -> list[WriteItem]:
    """Decide a page (one bulk context: its queries are chunked by the URI budget), then
    journal it in ONE transaction with the routing state it consumed and the watermark
    (compare-and-set on the state's version); returns the write items.

    A page at a time, not 200 leads at a time: a busy page's journal is ~5 MB of rows and
    index pages, and committing it in ten pieces wrote the same index pages ten times,
    while each piece also rebuilt the pools' rep plans and the context."""
    deps, config = cycle.deps, cycle.config
    with session_scope(deps.engine) as s:
        state, version = state_repo.load_state(s)
    now = deps.decision_time()
    context = build_context(
        gateway=deps.gateway, directory=deps.directory, config=config,
        leads=[r.lead for r in fresh], caches=deps.caches, engine=deps.engine, now=deps.now,
    )  # fmt: skip
    asks = [Ask(r.lead) for r in fresh]
    decisions, state = decide_batch(
        asks, config=config, context=context, state=state, now=now, pause=deps.hush.pause
    )
    entries = _journal_entries(cycle, fresh, decisions, now)
    # the previous page's writes, when they are done already: journaled in this page's
    # transaction (one commit and one state save fewer), their cap counters given back
    # from the state this page leaves; otherwise at the hand-over, as before
    done = cycle.writes.finished() if cycle.writes is not None else None
    with session_scope(deps.engine) as s:
        held_before = journal_repo.held_reasons(s, [r.id for r in fresh])
        # a lead held again for the same reason keeps its row: no journal churn per retry
        entries = [
            e for e in entries
            if not (e.status == DecisionStatus.HELD and e.lead_id in held_before
                    and held_before[e.lead_id] == e.reason)
        ]  # fmt: skip
        journal_repo.drop_held(s, [e.lead_id for e in entries if e.lead_id in held_before])
        ids = journal_repo.insert_decisions(s, entries)
        announce_decisions(s, deps, _new_held(entries, ids))
        taken = mark_outcomes(s, deps, done) if done else []
        if taken:
            state = release(state, taken)
        if fresh or taken:
            state_repo.save_state(s, state, expected_version=version, worker_id=deps.worker_id)
        if watermark is not None:
            state_repo.set_value(s, WATERMARK, watermark.isoformat())
    if done:
        count_outcomes(deps, done)
        cycle.report.add(merged(done))
    pending = to_write(entries, ids)
    _remember(cycle, fresh, decisions, snapshot)
    _count_decisions(cycle, decisions, entries)
    return items_for(pending, frozenset(cycle.owners), config.writeback.reason_field)


def _journal_entries(
    cycle: _Cycle, rows: Sequence[LeadRow], decisions: Sequence[Decision], now: datetime
) -> list[JournalEntry]:
    deps = cycle.deps
    out = []
    for d, r in zip(decisions, rows, strict=True):
        deps.hush.pause()  # a write in its check-then-write window goes first
        out.append(
            journal_entry(
                d,
                r,
                config=cycle.config,
                cycle_id=cycle.report.cycle_id,
                worker_id=deps.worker_id,
                now=now,
                owner_name=deps.directory.name_of(d.owner_id),
            )  # fmt: skip
        )
    return out


def _remember(
    cycle: _Cycle, rows: Sequence[LeadRow], decisions: Sequence[Decision], snapshot: bool
) -> None:
    """After the commit: open-lead counts, and the held-row snapshots for retries
    (``snapshot``: rows read by the intake query; retried rows are kept already)."""
    deps = cycle.deps
    for d, r in zip(decisions, rows, strict=True):
        if d.action == "assign":
            deps.caches.open_leads.moved(r.owner_id, d.owner_id)
        parked = d.action == "hold" and parked_by_rule(cycle.config, d)
        if d.action == "hold" and not parked:
            if snapshot:
                deps.state.held_rows.put(r)  # bounded: beyond its size, re-read when retried
        else:
            deps.state.held_rows.pop(r.id)  # routed, or parked: retried only at the refresh


def _new_held(entries: Sequence[JournalEntry], ids: Sequence[int]) -> Iterator[JournalRow]:
    """Journal objects (not attached) of the held rows just inserted, for notifications;
    built only when asked for (a SQLModel object costs ~0.15 ms: a page of held leads
    with notifications off used to build 2,000 of them for nothing)."""
    for entry, i in zip(entries, ids, strict=True):
        if entry.status == DecisionStatus.HELD:
            yield journal_repo.as_row(entry, i)


def _count_decisions(
    cycle: _Cycle, decisions: Sequence[Decision], entries: Sequence[JournalEntry]
) -> None:
    cycle.report.decided += len(decisions)
    cycle.report.held += sum(1 for d in decisions if d.action == "hold")
    cycle.deps.metrics.held.inc(sum(1 for e in entries if e.status == DecisionStatus.HELD))
