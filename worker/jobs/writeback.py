"""Write decided owners to Salesforce, never over a human, and journal the outcome.

For each group of pending decisions (as many as go out in ONE burst of PATCHes:
``write_concurrency`` x 200, 800 by default):

1. re-read the group's ``OwnerId`` in ONE call (sObject Collections retrieve); a lead whose
   owner is no longer what we expected (the intake queue for a first routing, the previous
   rep for an SLA hop) is skipped as "owner changed by someone else" (adding "our write
   may have landed first" when a PATCH of it may already have been sent); a deleted or
   converted lead is closed out; a lead already owned by the decided rep is applied when
   our PATCH may have landed (a crash, a lost answer) and the lead was last modified by
   us or by that rep (``LastModifiedById``), and skipped otherwise (a person chose that
   rep);
2. PATCH the rest in one burst, each lead only if unmodified since step 1: an sObject
   Rows PATCH with ``If-Unmodified-Since`` (the lead's last change as re-read), 25 to a
   Composite call (``allOrNone=false``, ``Sforce-Auto-Assign: FALSE``), several calls
   in flight at once. A person's change between step 1 and our write makes Salesforce
   refuse ours (412) instead of losing theirs; the lead goes round again from step 1.
   The header has second precision, so a lead whose re-read may have come in the same
   second as its last change is held back and re-read once Salesforce's clock has left
   that second (:mod:`worker.jobs.precondition`; the long-running worker leaves it
   pending for a cycle run then, rather than wait). The time between
   the end of step 1 and each request is measured (``leadrouter_guard_window_seconds``). With
   ``writeback.conditional: false`` (an opt-out) the burst is sObject Collections
   calls of 200 instead, without a precondition: a person's change inside that window
   is overwritten;
3. per-record errors by kind: lock errors and calls that failed in transit are retried
   (owners re-read first, then re-sent) a few times; an inactive owner marks the user
   inactive and sends the lead back to be re-routed; deleted/converted leads are closed
   out; anything else fails the decision;
4. outcomes are journalled in one transaction, with the cap counters of decisions that
   were not applied given back.

A call that still fails after the retry policy leaves its decisions ``pending``: the
next cycle's reconcile finds out what happened.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from worker.jobs.budget import Pace
from worker.jobs.decide import release
from worker.jobs.deps import Deps
from worker.jobs.notices import announce_decisions
from worker.jobs.pipeline import countdown
from worker.jobs.precondition import preconditions, split_settled
from worker.sfdc.connection import on_answer
from worker.sfdc.errors import SfdcError, SfdcTransientError
from worker.sfdc.ids import is_user_id
from worker.sfdc.mapping import OwnerRow, OwnerUpdate, WriteResult
from worker.sfdc.outcomes import WriteKind, code_of
from worker.store import journal_repo
from worker.store.db import session_scope
from worker.store.models.journal import Decision, DecisionStatus
from worker.store.state_repo import StateConflict, load_state, save_state

log = logging.getLogger("leadrouter.writeback")

OWNER_CHANGED = "owner changed by someone else"
# the same, for a decision whose PATCH may already have reached Salesforce (its answer was
# lost, or the worker died around it): our rep may have owned the lead for a moment
# before that change, and the journal must not claim otherwise
OWNER_CHANGED_AFTER_SEND = "owner changed by someone else; our write may have landed first"
CLOSED = {WriteKind.DELETED: "lead deleted", WriteKind.CONVERTED: "lead converted"}
# the journal's error for a decision sent back because its owner is inactive
REROUTED = f"{code_of(WriteKind.OWNER_INACTIVE)}: re-routing"
CHUNK = 200  # records per collections PATCH (decisions per group: one burst of these)
COMPOSITE_MAX = 25  # conditional PATCHes per Composite call (Salesforce's subrequest limit)
# Decisions per owner re-read: no more than one burst of parallel PATCHes, so every
# write follows its guard read by about one round trip. (2,000 per re-read, the retrieve's
# maximum, queued the last PATCHes three round trips behind the read: the soak saw a
# person's change land in that window.) Costs one retrieve per 800 instead of per 2,000.


@dataclass(frozen=True)
class WriteItem:
    decision_id: int
    lead_id: str
    owner_id: str
    expected: frozenset[str]  # owners we may replace
    rep_key: str | None
    pool: str | None
    extra: dict[str, str] | None = None
    created_at: datetime | None = None
    # a PATCH for this decision may already have reached Salesforce (a crash, a reset, a
    # lost answer): only then does "owner is already our rep" mean our write landed
    sent: bool = False


@dataclass
class Outcomes:
    applied: list[WriteItem] = field(default_factory=list)
    skipped: dict[str, list[WriteItem]] = field(default_factory=dict)  # reason -> items
    failed: list[tuple[WriteItem, str]] = field(default_factory=list)
    reroute: list[WriteItem] = field(default_factory=list)  # owner inactive
    left_pending: list[WriteItem] = field(default_factory=list)
    # when Salesforce's answers came back: the applied time journaled, not the (later)
    # moment the outcomes reach the journal
    answered_at: datetime | None = None

    def skip(self, reason: str, item: WriteItem) -> None:
        self.skipped.setdefault(reason, []).append(item)

    def merge(self, other: Outcomes) -> None:
        self.applied += other.applied
        for reason, items in other.skipped.items():
            self.skipped.setdefault(reason, []).extend(items)
        self.failed += other.failed
        self.reroute += other.reroute
        self.left_pending += other.left_pending


def items_for(
    rows: Sequence[Mapping[str, Any]],
    expected: frozenset[str],
    extra_field: str | None,
    *,
    sent: bool = False,
) -> list[WriteItem]:
    """Write items of pending journal rows given as column mappings (with ``id``).

    ``expected``: the owners a first routing may replace (the intake owners); an SLA hop
    may only replace the owner it was taken from. ``sent``: the decisions may have been
    written already (reconcile).
    """
    out = []
    for d in rows:
        kind, previous = d["kind"], d.get("previous_owner_id") or ""
        allowed = expected if kind == "route" else frozenset({previous})
        extra = {extra_field: str(d["reason"])[:255]} if extra_field else None
        created = d.get("lead_created_at")
        if created is not None and created.tzinfo is None:  # SQLite drops the zone
            created = created.replace(tzinfo=UTC)
        out.append(
            WriteItem(
                int(d["id"]),
                d["lead_id"],
                d["owner_id"],
                allowed,
                d.get("rep_key"),
                d.get("pool"),
                extra,
                created,
                sent,
            )  # fmt: skip
        )
    return out


def write_back(deps: Deps, items: Sequence[WriteItem], *, conditional: bool = True) -> Outcomes:
    """Push ``items`` (pending decisions) to Salesforce and journal what happened: per
    group of one burst (800 by default): one owner re-read, then the PATCHes at once.
    ``conditional`` (``writeback.conditional``, the default): each PATCH applies only if
    the lead is unmodified since the re-read, closing the check-then-write window (see
    :mod:`worker.jobs.precondition`); without it a person's change inside that window
    is overwritten."""
    return journal_outcomes(deps, send_all(deps, items, conditional=conditional))


def send_all(deps: Deps, items: Sequence[WriteItem], *, conditional: bool = True) -> list[Outcomes]:
    """The Salesforce half of :func:`write_back` (no store access: it may run on a
    thread while the next page is decided); one :class:`Outcomes` per round of each
    group (a re-read and the writes that followed it)."""
    if not conditional and items:
        _warn_unconditional()
    rounds: list[Outcomes] = []
    size = CHUNK * max(1, deps.write_concurrency)
    for start in range(0, len(items), size):
        group = list(items[start : start + size])
        if deps.budget.pace(deps.gateway.api_usage()) is Pace.STOP:
            rounds.append(Outcomes(left_pending=group))  # loud message comes from the cycle
            continue
        rounds += _write_group(deps, group, conditional)
    return rounds


_WARNED: set[str] = set()


def _warn_unconditional() -> None:
    """Say once per process that the opt-out is on (a config copied from an old template
    may carry it without anyone having chosen it)."""
    if "unconditional" not in _WARNED:
        _WARNED.add("unconditional")
        log.warning(
            "writeback.conditional is false: owners are written with no precondition, and "
            "a person's change between our owner re-read and our write is overwritten"
        )


def journal_outcomes(deps: Deps, groups: Sequence[Outcomes]) -> Outcomes:
    """The store half of :func:`write_back`: journal the groups' outcomes, each with the
    time its answers came, in ONE transaction (a page's three groups were three commits
    and three state saves); returns them merged."""
    done = [g for g in groups if g.applied or g.skipped or g.failed or g.reroute]
    if done:
        _journal(deps, done)
    return merged(groups)


def merged(groups: Sequence[Outcomes]) -> Outcomes:
    """The groups' outcomes as one (for the cycle's report)."""
    total = Outcomes()
    for outcome in groups:
        total.merge(outcome)
    return total


def _guard(owners: dict[str, OwnerRow], items: list[WriteItem], out: Outcomes) -> list[WriteItem]:
    ready = []
    for item in items:
        row = owners.get(item.lead_id)
        if row is None:
            out.skip("lead deleted", item)
        elif row.owner_id == item.owner_id:
            # our earlier PATCH landed (its answer was lost, or we died before journaling
            # it) when we made the last change, or the rep we wrote has worked the lead
            # since (their own edit, e.g. a status), or the rep we moved it FROM has (an
            # edit racing our SLA move: they did not pick our rep, our write did); else a
            # person chose this rep, or someone else made the last change: not ours
            if item.sent and _ours(row, item):
                out.applied.append(item)
            else:
                out.skip(_changed(item), item)
        elif row.is_converted:
            out.skip("lead converted", item)
        elif row.owner_id not in item.expected:
            out.skip(_changed(item), item)
        else:
            ready.append(item)
    return ready


def _changed(item: WriteItem) -> str:
    """Why a lead whose owner someone else changed is skipped: a decision that may have
    been sent says our write may have landed before that change."""
    return OWNER_CHANGED_AFTER_SEND if item.sent else OWNER_CHANGED


def _ours(row: OwnerRow, item: WriteItem) -> bool:
    """Whether a lead already owned by ``item``'s rep got that owner from our write."""
    if row.modified_by_us is not False or row.modified_by_owner:
        return True
    previous = {owner[:15] for owner in item.expected if is_user_id(owner)}
    return row.modified_by is not None and row.modified_by in previous


def _write_group(deps: Deps, group: list[WriteItem], conditional: bool = True) -> list[Outcomes]:
    """Guard, then PATCH; items to try again (a locked record, a chunk whose call failed
    in transit, a conditional write refused or held back) go round again, so the owners
    are ALWAYS re-read before a PATCH is re-sent: a resend never lands on an owner a
    person set in the meantime. What is still unwritten when the rounds run out is left
    ``pending``: the next cycle's reconcile re-reads and writes it (a lead is never left
    in the queue with nothing that will try it again). One :class:`Outcomes` per round,
    each with the time its answers came (a lead written in the first round was not
    written when a held-back one was)."""
    rounds: list[Outcomes] = []
    todo, why = group, ""
    retries = waits = 0  # rounds spent on retries, and on waiting into a later second
    wait = 0.0  # from the last re-read until the held-back leads' re-read may come
    read_done = deps.monotonic()
    waiting: list[WriteItem] = []  # held back: re-read in the second of their last change
    transient: SfdcError | None = None
    while todo:
        if retries or waits:
            settle = wait - (deps.monotonic() - read_done) if waiting else 0.0
            deps.sleep(_pause(retries, transient is not None, settle))
        out = Outcomes()
        rounds.append(out)
        # the cycle thread stands aside from the moment the owners' answer arrives until
        # the burst is on its way (not while Salesforce is still reading them)
        hold = deps.hush.later()
        release = hold.release
        try:
            try:
                with on_answer(hold.take):
                    owners = deps.gateway.current_owners([i.lead_id for i in todo])
            except SfdcError as exc:
                _left_pending(deps, out, todo, exc)
                return rounds
            hold.take()  # a gateway without HTTP answers (tests) never called it
            read_done, guard_from = deps.monotonic(), time.monotonic()
            ready = _guard(owners, todo, out)
            waiting = []
            if conditional:
                ready, waiting, wait = split_settled(owners, ready)
                if waiting and deps.settling.enabled:
                    _hold_back(deps, out, waiting, read_done + wait)
                    waiting = []
            size = COMPOSITE_MAX if conditional else CHUNK
            chunks = [ready[start : start + size] for start in range(0, len(ready), size)]
            since = preconditions(owners, ready) if conditional else None
            started = countdown(min(len(chunks), _concurrency(deps, conditional)), release)
            answers = _patch_all(deps, chunks, guard_from, started, since)
        finally:
            release()
        out.answered_at = deps.now()
        todo, transient, why = list(waiting), None, "changed in the second it was re-read"
        for chunk, answer in zip(chunks, answers, strict=True):
            if isinstance(answer, SfdcTransientError):
                transient, why = answer, str(answer)  # it may have landed: re-check, re-send
                todo += [replace(i, sent=True) for i in chunk]
            elif isinstance(answer, SfdcError):
                _left_pending(deps, out, chunk, answer)
            else:
                retry, refused = _classify(deps, chunk, answer, out)
                todo += [replace(i, sent=True) for i in retry]
                todo += refused  # not applied (412): an owner equal to ours is not ours
                if retry or refused:
                    why = "still locked, or changed as we wrote (lock error / 412)"
        if len(todo) > len(waiting):
            retries += 1
        elif todo:
            waits += 1
        if retries > deps.lock_retries or waits > MAX_WAITS:
            log.warning("write-back of %d leads left pending for the next cycle: %s",
                        len(todo), why)  # fmt: skip
            out.left_pending += todo
            break
    return rounds


MAX_WAITS = 3  # rounds a lead re-read in the second of its last change may wait


def _hold_back(deps: Deps, out: Outcomes, items: list[WriteItem], settled_at: float) -> None:
    """Leave ``items`` pending for a later cycle (the worker runs one at ``settled_at``)
    rather than hold this one until Salesforce's clock has left the second of their
    last change; their reconcile knows the unsent ones were not sent."""
    deps.settling.hold([i.decision_id for i in items if not i.sent], settled_at)
    out.left_pending += items
    log.debug("%d leads left pending until the second of their last change is over", len(items))


def _pause(retries: int, transient: bool, settle: float) -> float:
    """Seconds to back off before the next round: exponential with jitter for retries,
    and at least ``settle`` (until Salesforce's clock has left the second a held-back
    lead was last changed in; 0 when none is)."""
    pause = 0.0
    if retries:
        base = 0.2 if transient else 0.05
        pause = base * 2 ** (retries - 1) + random.uniform(0, base)  # noqa: S311
    return max(pause, settle, 0.0)


def _concurrency(deps: Deps, conditional: bool) -> int:
    """PATCH calls in flight at once: ``write_concurrency`` collections calls of 200, or
    ``conditional_concurrency`` Composite calls of 25 (each runs its subrequests one by
    one: a header makes Salesforce leave them uncollated)."""
    return deps.conditional_concurrency if conditional else deps.write_concurrency


def _patch_all(
    deps: Deps,
    chunks: list[list[WriteItem]],
    read_done: float,
    sent: Callable[[], None],
    since: Mapping[str, datetime] | None = None,
) -> list[list[WriteResult] | SfdcError]:
    """Send the chunks' PATCHes, several at a time: the burst after the owner re-read
    is short, which keeps the check -> write window small. ``sent`` is called as each
    request starts.

    ``since`` (conditional writes, :mod:`worker.jobs.precondition`): each lead is
    written only if unmodified since the re-read (``If-Unmodified-Since``, sObject Rows
    in Composite calls of 25): a person's change inside the window makes Salesforce
    refuse ours (412) instead of losing theirs."""

    def send(chunk: list[WriteItem]) -> list[WriteResult] | SfdcError:
        deps.metrics.guard_window.observe(time.monotonic() - read_done)
        updates = [OwnerUpdate(i.lead_id, i.owner_id, i.extra) for i in chunk]
        sent()
        try:
            if since is None:
                return deps.gateway.update_owners(updates)
            return deps.gateway.update_owners(updates, unmodified_since=since)
        except SfdcError as exc:
            return exc

    workers = max(1, min(_concurrency(deps, since is not None), len(chunks)))
    if workers == 1:
        return [send(chunk) for chunk in chunks]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="patch") as pool:
        return list(pool.map(send, chunks))


def _left_pending(deps: Deps, out: Outcomes, items: list[WriteItem], exc: SfdcError) -> None:
    """A call failed after the retry policy: reconcile finds out what happened."""
    deps.metrics.errors.labels(kind=type(exc).__name__).inc()
    log.warning("write-back of %d leads left pending: %s", len(items), exc)
    out.left_pending += items


def _classify(
    deps: Deps, ready: list[WriteItem], results: list[WriteResult], out: Outcomes
) -> tuple[list[WriteItem], list[WriteItem]]:
    """Sort per-record results; return the items to retry: lock errors, and conditional
    writes refused because the lead changed after the re-read."""
    by_id = {r.lead_id: r for r in results}
    retry, refused = [], []
    for item in ready:
        result = by_id.get(item.lead_id)
        if result is None or result.success:
            if result is not None:
                out.applied.append(item)
            else:
                out.left_pending.append(item)
            continue
        deps.metrics.errors.labels(kind=result.code).inc()
        kind = result.kind
        if kind is WriteKind.LOCKED:
            retry.append(item)
        elif kind is WriteKind.OWNER_CHANGED:  # changed after the re-read: re-read, re-judge
            refused.append(item)
        elif kind is WriteKind.OWNER_INACTIVE:
            deps.directory.mark_inactive(item.owner_id)
            out.reroute.append(item)
        elif kind in CLOSED:
            out.skip(CLOSED[kind], item)
        else:
            out.failed.append((item, result.reason))
    return retry, refused


def _given_back(out: Outcomes) -> list[tuple[str, str | None]]:
    """(rep, pool) of each decision in ``out`` the rep did not get (skipped, failed, sent
    back to be re-routed): the cap counters it consumed are released, one per decision."""
    items = [*(x for v in out.skipped.values() for x in v), *(f for f, _ in out.failed)]
    return [(i.rep_key, i.pool) for i in [*items, *out.reroute] if i.rep_key]


def _journal(deps: Deps, groups: Sequence[Outcomes]) -> None:
    for attempt in range(5):
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
            if attempt == 4:
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


def _mark_all(s: Session, deps: Deps, out: Outcomes, now: datetime) -> None:
    """Journal the outcomes; applied and re-held decisions queue their notifications in
    this same transaction."""
    ids = [i.decision_id for i in out.applied]
    journal_repo.mark_applied(s, ids, now)
    if deps.notify.enabled:  # ORM rows only when someone is told
        announce_decisions(s, deps, journal_repo.by_ids(s, ids))
    for reason, items in out.skipped.items():
        journal_repo.mark(s, [i.decision_id for i in items], DecisionStatus.SKIPPED, error=reason)
    for item, error in out.failed:
        journal_repo.mark(s, [item.decision_id], DecisionStatus.FAILED, error=error)
    reroute_ids = [i.decision_id for i in out.reroute]
    journal_repo.mark(s, reroute_ids, DecisionStatus.FAILED, error=REROUTED)
    held = [
        Decision(
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
        for row in journal_repo.by_ids(s, reroute_ids)
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
