"""Intake by change events (``intake.mode: subscribe``): what each micro-batch of
``LeadChangeEvent`` calls for, routed through the intake's own path.

The subscriber (:mod:`worker.sfdc.pubsub.subscriber`) hands over batches; here:

- events our own writes caused (``changeOrigin`` names ``client=leadrouter``) and
  deletes are passed over; creates and undeletes name leads to route, updates only when
  they change ``OwnerId`` (a lead put back in the queue), and none whose payload names
  an owner that is not an intake queue or user (no read for a person's reassignment);
- ``GAP_*`` events carry no values: their records are re-read by Id like the others;
  ``GAP_OVERFLOW`` names no record: a SOQL sweep (the poll cycle) runs before the
  batch's replay id is stored;
- the named leads go through :func:`worker.jobs.intake.route_leads` (read by Id,
  decide, journal: the poller's functions, under the jobs' lock), and only then is the
  batch's replay id stored, so the stored id never runs ahead of the journal; a lead a
  create event of the batch stands for whole is not read: the event gives the row
  (:mod:`worker.jobs.event_leads`, :mod:`worker.sfdc.pubsub.payload`);
- the write waits until the second of the newest change its leads' events carry
  (``commitTimestamp``) is over, by Salesforce's clock as its answers bound it from
  below, plus :data:`worker.jobs.precondition.CLOCK_SKEW` (by our clock plus
  :data:`SETTLE_MARGIN` as well, before any answer told Salesforce's clock), at most
  :data:`worker.jobs.precondition.LONGEST_WAIT` (:func:`settle_wait`): a fresh lead's
  guarded write, or owner re-read, then comes in a later second than its creation and
  gives a usable precondition at once, where it used to be held and re-read a second
  time. Only an economy: the write path still judges each re-read by Salesforce's clock;
- the long-running worker (:func:`start_subscription`) writes behind
  (:mod:`worker.jobs.event_writes`): a batch's owners are sent on a thread, the wait
  spent there, while the subscriber goes on to the next batch. Inline
  (``writes_in_flight=0``) the batch waits before its decision, outside the jobs' lock,
  looking the e-mails up meanwhile, and is written before :meth:`EventIntake.handle`
  returns; and
- decisions left pending until the second of their lead's last change is over
  (:class:`worker.jobs.precondition.Settling`) are written by a reconcile once it is.

The poll cycle keeps running as a slow sweep (``intake.subscribe.sweep_seconds``), and
on demand when events may have been missed (a refused replay id, an overflow).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from worker.jobs.context import load_open_leads, prefetch_emails
from worker.jobs.deps import Deps
from worker.jobs.email_prefetch import EmailPrefetch
from worker.jobs.event_leads import known_leads
from worker.jobs.event_writes import EventWrites
from worker.jobs.intake import HandOver, intake_owner_ids, route_leads
from worker.jobs.precondition import LONGEST_WAIT, seconds_to_settle
from worker.jobs.reconcile import reconcile_pending
from worker.jobs.sla_events import lead_changes, record_sla_events
from worker.routing.model import AccountMatching, RoutingConfig, Subscribe
from worker.sfdc.errors import SfdcError
from worker.sfdc.mapping import LeadRow
from worker.sfdc.pubsub.subscriber import Auth, ChangeEvent, Stub, Subscriber
from worker.store import state_repo
from worker.store.db import session_scope

log = logging.getLogger("leadrouter.subscribe")

ROUTED_CHANGES = frozenset({"CREATE", "UNDELETE", "GAP_CREATE", "GAP_UPDATE", "GAP_UNDELETE"})
OVERFLOW = "GAP_OVERFLOW"
# waited beyond a change's second and CLOCK_SKEW: our clock is not Salesforce's, and the
# write path bounds Salesforce's from below (within about a round trip of the truth)
SETTLE_MARGIN = 0.3
# the subscriber's batches whose owners are being written while later batches are decided
# (each is one or two short calls: well inside Salesforce's concurrency rule)
WRITES_IN_FLIGHT = 8
# a write waiting for its batch's second on its thread waits this much longer: the bound
# on Salesforce's clock loses up to 100 ppm of the time waited (worker.sfdc.clock), and a
# guarded write found a hair inside the second would be held back for a reconcile
SETTLE_PAD = 0.01


def leads_to_route(events: Sequence[ChangeEvent], owners: Collection[str] = ()) -> list[str]:
    """The lead Ids a batch of events calls to route, in order, without repeats.
    ``owners`` (the intake owners' Ids): an event whose payload names another owner (a
    lead created for a rep, or given to one by a person) is passed over without a read."""
    ours = {o[:15] for o in owners}
    out: dict[str, None] = {}
    for event in events:
        header = event.header
        if event.ours or header.entity != "Lead":
            continue
        kind = header.change_type
        if not (kind in ROUTED_CHANGES or (kind == "UPDATE" and "OwnerId" in header.changed)):
            continue
        owner = event.fields.get("OwnerId")
        if ours and isinstance(owner, str) and owner and owner[:15] not in ours:
            continue  # not in an intake queue: nothing to route (gap events carry no owner)
        out.update(dict.fromkeys(header.record_ids))
    return list(out)


def settle_wait(
    events: Sequence[ChangeEvent],
    lead_ids: Collection[str],
    now: datetime,
    margin: float = SETTLE_MARGIN,
) -> float:
    """Seconds from ``now`` until the second of the newest change among the events
    naming ``lead_ids`` is over, plus ``CLOCK_SKEW`` and ``margin`` (``now``: a lower
    bound on Salesforce's clock, with no margin; or our wall clock, with the default);
    0.0 when it is, or no such event carries a commit time; at most ``LONGEST_WAIT``
    (a commit stamped further ahead means clocks apart: the write path copes)."""
    wanted = set(lead_ids)
    newest = max(
        (e.header.commit_timestamp for e in events
         if not e.ours and e.header.commit_timestamp > 0 and wanted & set(e.header.record_ids)),
        default=0,
    )  # fmt: skip
    if not newest:
        return 0.0
    left = seconds_to_settle(datetime.fromtimestamp(newest / 1000, UTC), now) + margin
    return min(max(left, 0.0), LONGEST_WAIT)


@dataclass
class EventIntake:
    """The subscriber's :class:`worker.sfdc.pubsub.subscriber.Handler` for the worker.

    ``sweep``: one poll cycle (the worker's, with its error handling and heartbeat)."""

    deps: Deps
    topic: str
    sweep: Callable[[], object]
    caught_up: str | None = None  # why a sweep is owed (run at the next tick)
    reconcile_at: float | None = None  # (monotonic) when settling decisions can be written
    batches: int = 0
    routed: int = 0  # decisions made from events
    own: int = 0  # events of our own writes, passed over
    # batches whose owners are written on threads while the next ones are decided
    # (:mod:`worker.jobs.event_writes`); 0: each batch written before :meth:`handle`
    # returns
    writes_in_flight: int = 0
    # created leads' e-mails looked up as their events arrive (:mod:`worker.jobs.
    # email_prefetch`, a thread), lookups this many seconds apart at least (the batching
    # window); None: each batch's decision looks them up
    look_up_on_arrival: float | None = None
    writes: EventWrites | None = field(default=None, init=False, repr=False)
    prefetch: EmailPrefetch | None = field(default=None, init=False, repr=False)
    matching: AccountMatching | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.writes_in_flight > 0:
            self.writes = EventWrites(self.deps, self.writes_in_flight, self.reconcile_soon)
        if self.look_up_on_arrival is not None:
            self.prefetch = EmailPrefetch(
                self.deps, lambda: self.matching, spacing=self.look_up_on_arrival
            )

    def resume_from(self) -> bytes | None:
        with session_scope(self.deps.engine) as s:
            return state_repo.get_replay_id(s, self.topic)

    def handle(self, events: Sequence[ChangeEvent], replay_id: bytes) -> None:
        deps = self.deps
        self.batches += 1
        self.own += sum(1 for e in events if e.ours)
        with deps.lock:
            if self.writes is not None:  # the batches whose writes are done, journaled
                self.writes.collect()
            with session_scope(deps.engine) as s:
                config = deps.config(s)
            self.matching = config.account_matching  # as the prefetch's lookups see it
            ids = leads_to_route(events, intake_owner_ids(deps, config))
        known = known_leads(deps, events, config) if ids else {}
        wait = self._settle_wait(events, ids) if ids else 0.0
        hand_over: HandOver | None = None
        if self.writes is not None:  # decided now, written on a thread once settled
            not_before = deps.monotonic() + wait + SETTLE_PAD if wait else 0.0
            hand_over = partial(self.writes.hand_over, not_before=not_before)
        elif wait:  # not under the lock: the sweep and the SLA sweep go on meanwhile
            self._wait_looking_up(wait, config, known)
        with deps.lock:
            report = route_leads(deps, ids, known, hand_over) if ids else None
        if report is not None:
            self.routed += report.decided
            if report.left_pending:
                self.reconcile_soon()
        if any(e.header.change_type == OVERFLOW and not e.ours for e in events):
            log.warning("change event overflow: sweeping by SOQL")
            self.sweep()
        self._written_before_judged(events)
        record_sla_events(deps, events)  # touches and owner changes: no API call
        self.checkpoint(replay_id)  # after the journal: never ahead of the decisions

    def _written_before_judged(self, events: Sequence[ChangeEvent]) -> None:
        """A person's change to a lead whose write is still in flight is judged against
        its outcome: the writes in flight are waited for and journaled first (rare: a
        change within a second or two of the lead's creation)."""
        if self.writes is None or not len(self.writes):
            return
        changed = [c.lead_id for c in lead_changes(events)]
        if changed and self.writes.writing(changed):
            with self.deps.lock:
                self.writes.drain()

    def drain(self) -> None:
        """The stream ended: the writes in flight are waited for and journaled now (the
        subscriber backs off next, and no batch or tick would collect them meanwhile)."""
        if self.writes is None or not len(self.writes):
            return
        try:
            with self.deps.lock:
                self.writes.drain()
        except Exception:  # the subscriber goes on; the decisions stay pending
            log.exception("journaling a change event batch's writes failed")

    def arrived(self, events: Sequence[ChangeEvent]) -> None:
        if self.prefetch is not None:
            self.prefetch.add(events)

    def close(self) -> None:
        """Wait for the writes in flight and journal them (the subscriber has stopped)."""
        if self.prefetch is not None:
            self.prefetch.close()
        if self.writes is not None:
            with self.deps.lock:
                self.writes.close()

    def _settle_wait(self, events: Sequence[ChangeEvent], ids: Sequence[str]) -> float:
        """By Salesforce's clock when its answers have bounded it (the bound is what the
        write path checks; no margin for our clock's distance from it), else by ours."""
        server = self.deps.gateway.server_time()
        if server is None:
            return settle_wait(events, ids, self.deps.now())
        return settle_wait(events, ids, server, margin=0.0)

    def _wait_looking_up(
        self, wait: float, config: RoutingConfig, known: Mapping[str, LeadRow]
    ) -> None:
        """Wait ``wait`` seconds, looking up the known leads' e-mails meanwhile (their
        create events gave them): the context query a decision needs runs while the
        lead's second runs out, not after it, and the decision finds it cached. A failed
        lookup costs nothing but the time: the decision looks the e-mails up itself."""
        deps = self.deps
        until = deps.monotonic() + wait
        if known:
            leads = [row.lead for row in known.values()]
            try:
                prefetch_emails(deps.gateway, deps.directory, config, leads, deps.caches,
                                deps.engine, deps.now)  # fmt: skip
                self._refresh_open_leads(config, until)
            except SfdcError as exc:
                log.debug("looking up during the wait failed: %s", type(exc).__name__)
        left = until - deps.monotonic()
        if left > 0:
            deps.sleep(left)

    def _refresh_open_leads(self, config: RoutingConfig, until: float) -> None:
        """The open-lead counts, when due for their periodic aggregate, reloaded now rather
        than by the decision; under the jobs' lock (a cycle moves them), given up when
        the lock is not had before ``until``."""
        deps = self.deps
        if not deps.lock.acquire(timeout=max(until - deps.monotonic(), 0.0)):
            return
        try:
            load_open_leads(deps.gateway, deps.directory, config, deps.caches)
        finally:
            deps.lock.release()

    def checkpoint(self, replay_id: bytes) -> None:
        with session_scope(self.deps.engine) as s:
            state_repo.set_replay_id(s, self.topic, replay_id, worker_id=self.deps.worker_id)

    def catch_up(self, reason: str) -> None:
        self.caught_up = reason

    def tick(self) -> None:
        if self.writes is not None and self.writes.ready() and self.deps.lock.acquire(False):
            try:  # not waited for: a busy lock (a sweep) leaves it to the next tick
                self.writes.collect()
            except Exception:  # the stream goes on; the decisions stay pending
                log.exception("journaling a change event batch's writes failed")
            finally:
                self.deps.lock.release()
        if self.caught_up is not None:
            log.info("catching up by SOQL: %s", self.caught_up)
            self.caught_up = None
            self.sweep()
        if self.reconcile_at is not None and self.deps.monotonic() >= self.reconcile_at:
            self.reconcile_at = None
            try:
                self._reconcile()
            except Exception:  # the stream goes on; the sweep reconciles at the latest
                log.exception("writing settled decisions failed")

    def reconcile_soon(self) -> None:
        """Decisions were left pending until their lead's second is over: write them
        (a reconcile, at the next tick after that moment)."""
        at = self.deps.settling.due()
        if at is None:  # taken by a poll cycle meanwhile: the longest a stamp can need
            at = self.deps.monotonic() + LONGEST_WAIT
        self.reconcile_at = at if self.reconcile_at is None else min(self.reconcile_at, at)

    def _reconcile(self) -> None:
        deps = self.deps
        with deps.lock:
            with session_scope(deps.engine) as s:
                config = deps.config(s)
            out = reconcile_pending(deps, config, intake_owner_ids(deps, config))
        if out.left_pending:
            self.reconcile_soon()


@dataclass
class Subscription:
    """A subscriber on a thread of its own, stopped by :meth:`stop`."""

    subscriber: Subscriber
    intake: EventIntake
    settings: Subscribe
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="subscriber", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.subscriber.run(self.stop_event)
        except Exception:
            log.exception("the subscriber stopped")  # the next tick starts another

    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout)
        self.intake.close()


def start_subscription(
    deps: Deps,
    stub: Stub,
    auth: Auth,
    settings: Subscribe,
    *,
    sweep: Callable[[], object],
    **subscriber_opts: Any,
) -> Subscription:
    """Subscribe to ``settings.channel`` on a thread of its own, routing through
    :class:`EventIntake`; back-offs wait on the stop event (a stop is never held up)."""
    intake = EventIntake(deps, settings.channel, sweep, writes_in_flight=WRITES_IN_FLIGHT,
                         look_up_on_arrival=settings.window_seconds)  # fmt: skip
    stop = threading.Event()
    subscriber = Subscriber(
        stub, auth, intake, topic=settings.channel, window=settings.window_seconds,
        max_batch=settings.max_batch, sleep=stop.wait, rng=deps.rng,
        monotonic=deps.monotonic, **subscriber_opts,
    )  # fmt: skip
    subscription = Subscription(subscriber, intake, settings, stop)
    subscription.start()
    return subscription
