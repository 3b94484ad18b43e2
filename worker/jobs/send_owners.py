"""Send decided owners to Salesforce: per group of one burst, a guard read, then the
PATCHes at once, round after round until each lead is written, closed out or left pending.

Per group (as many decisions as go out in ONE burst of PATCHes: ``write_concurrency`` x
200, 800 by default):

1. re-read the group's ``OwnerId`` in ONE call (sObject Collections retrieve) and judge
   it (:mod:`worker.jobs.owner_guard`);
2. PATCH the rest in one burst, each lead only if unmodified since step 1: an sObject
   Rows PATCH with ``If-Unmodified-Since`` (the lead's last change as re-read), 25 to a
   Composite call (``allOrNone=false``, ``Sforce-Auto-Assign: FALSE``), several calls
   in flight at once. A person's change between step 1 and our write makes Salesforce
   refuse ours (412) instead of losing theirs; the lead goes round again from step 1.
   The header has second precision, so a lead whose re-read may have come in the same
   second as its last change is held back and re-read once Salesforce's clock has left
   that second (:mod:`worker.jobs.precondition`; the long-running worker leaves it
   pending for a cycle run then, rather than wait). The time between the end of step 1
   and each request is measured (``leadrouter_guard_window_seconds``). With
   ``writeback.conditional: false`` (an opt-out) the burst is sObject Collections calls
   of 200 instead, without a precondition: a person's change inside that window is
   overwritten;
3. per-record answers by kind (:class:`~worker.sfdc.outcomes.WriteKind`): locked leads
   and calls that failed in transit are retried (owners re-read first, then re-sent) a
   few times; an inactive owner marks the user inactive and sends the lead back to be
   re-routed; deleted/converted leads are closed out; anything else fails the decision.

Groups overlap (:func:`send_all`): once every PATCH of a group's first burst has started,
the next group's owner re-read goes out, so Salesforce reads the next group while it
writes this one; at most :data:`GROUPS_IN_FLIGHT` groups at once, each with its own
bounded burst (so at most ``GROUPS_IN_FLIGHT`` x the burst's calls in flight, all short
requests: Salesforce limits only those running 20 s or more). Each group's PATCHes still
follow its own re-read by one round trip: the overlap adds nothing to the guard window.

A fresh lead known from its create event (:attr:`WriteItem.changed_at`, its last change
as the event showed it) skips step 1 when few go out at once (:data:`GUARDED_LEADS`):
its write is guarded by a query in the same Composite call
(:meth:`~worker.sfdc.gateway.SimpleSalesforceGateway.update_owners_guarded`: one API
call instead of a re-read and a write), sent once Salesforce's clock has left the second
of that change. Salesforce runs the query a few milliseconds before the PATCH, and runs
the PATCH only if it found the lead unconverted and still in an intake owner's hands;
``If-Unmodified-Since`` (the event's stamp) refuses it if anything changed the lead after
that second. A lead whose guard or precondition failed goes through steps 1-3 like any
other (re-read, judged); one whose call failed in transit too, as possibly sent.

A call that still fails after the retry policy leaves its decisions ``pending``: the
next cycle's reconcile finds out what happened. Nothing here touches the store (it may
run on a thread while the next page is decided): :mod:`worker.jobs.outcome_journal`
journals what it returns.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from random import Random

from worker.jobs.deps import Deps
from worker.jobs.owner_guard import judge
from worker.jobs.precondition import preconditions, seconds_to_settle, split_settled
from worker.jobs.write_items import Outcomes, WriteItem
from worker.runtime.budget import Pace
from worker.runtime.pipeline import countdown
from worker.sfdc.errors import SfdcError, SfdcTransientError
from worker.sfdc.mapping import GuardedUpdate, OwnerRow, OwnerUpdate, WriteResult
from worker.sfdc.outcomes import GUARD_FAILED, NO_RESULT, WriteKind

log = logging.getLogger("leadrouter.writeback")

CHUNK = 200  # records per collections PATCH (decisions per group: one burst of these)
COMPOSITE_MAX = 25  # conditional PATCHes per Composite call (Salesforce's subrequest limit)
# Decisions per owner re-read: no more than one burst of parallel PATCHes, so every
# write follows its guard read by about one round trip. (2,000 per re-read, the retrieve's
# maximum, queued the last PATCHes three round trips behind the read: the soak saw a
# person's change land in that window.) Costs one retrieve per 800 instead of per 2,000.
# groups written at once: the next group's owner re-read (and its burst) overlaps the
# PATCHes of the one before; 2 keeps Salesforce reading while it writes, and bounds the
# calls in flight at twice a burst (16 Composite calls, or 8 collections PATCHes)
GROUPS_IN_FLIGHT = 2
MAX_WAITS = 3  # rounds a lead re-read in the second of its last change may wait
# fresh leads written by guarded writes when no more than this many go out at once (one
# Composite call). Salesforce runs a Composite's subrequests one after another, each
# guard query at a query's server time, where one re-read reads them all: beyond two
# leads, the re-read and a conditional write answer sooner, for one call more
GUARDED_LEADS = 2
# the longest the guarded writes wait for Salesforce's clock to leave the second of the
# leads' last change (the subscriber has waited for it already: this is the rest)
GUARDED_WAIT = 1.5
CLOSED = {WriteKind.DELETED: "lead deleted", WriteKind.CONVERTED: "lead converted"}

# each chunk of a burst with Salesforce's answer to it (or the error its call ended in)
Burst = list[tuple[list[WriteItem], list[WriteResult] | SfdcError]]


def send_all(deps: Deps, items: Sequence[WriteItem], *, conditional: bool = True) -> list[Outcomes]:
    """Send ``items`` (pending decisions) group by group; one :class:`Outcomes` per
    round of each group (a re-read and the writes that followed it). ``conditional``
    (``writeback.conditional``, the default): each PATCH applies only if the lead is
    unmodified since the re-read."""
    if not conditional and items:
        _warn_unconditional()
    size = CHUNK * max(1, deps.write_concurrency)
    groups = [list(items[start : start + size]) for start in range(0, len(items), size)]
    if len(groups) <= 1:
        return [r for group in groups for r in _group_or_stop(deps, group, conditional)]
    return _overlapped(deps, groups, conditional)


def _group_or_stop(
    deps: Deps,
    group: list[WriteItem],
    conditional: bool,
    started: Callable[[], None] = lambda: None,
) -> list[Outcomes]:
    """Write ``group``, unless the API budget says stop (then it is left pending; the
    loud message comes from the cycle). ``started``: called once every PATCH of its first
    burst is on its way, or once it is over without one."""
    try:
        if deps.budget.pace(deps.gateway.api_usage()) is Pace.STOP:
            return [Outcomes(left_pending=group)]
        return _write_group(deps, group, conditional, started)
    finally:
        started()


def _overlapped(deps: Deps, groups: list[list[WriteItem]], conditional: bool) -> list[Outcomes]:
    """:func:`_group_or_stop` for each group, in order, the next one starting when the one
    before has sent its first burst (its re-read overlaps those PATCHes), no more than
    :data:`GROUPS_IN_FLIGHT` at once. The rounds come back in group order. A group that
    raises stops the groups not yet started (their decisions stay ``pending`` for
    reconcile, as when the cycle dies) and is raised once the started ones are over."""
    futures: list[Future[list[Outcomes]]] = []
    with ThreadPoolExecutor(max_workers=GROUPS_IN_FLIGHT, thread_name_prefix="group") as pool:
        for group in groups:
            if len(futures) >= GROUPS_IN_FLIGHT:
                futures[-GROUPS_IN_FLIGHT].exception()  # wait for a free place
            if any(f.done() and f.exception() is not None for f in futures):
                break
            sent = threading.Event()
            futures.append(pool.submit(_group_or_stop, deps, group, conditional, sent.set))
            sent.wait()
    return [r for future in futures for r in future.result()]


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


@dataclass
class _Rounds:
    """What a round of a group's write leaves the next one."""

    todo: list[WriteItem]  # to re-read and (re-)send
    read_done: float  # (monotonic) when the last owner re-read was in
    # held back: re-read in the second of their last change; ``wait``: from ``read_done``
    # until their re-read may come
    waiting: list[WriteItem] = field(default_factory=list)
    wait: float = 0.0
    retries: int = 0  # rounds spent on retries
    waits: int = 0  # rounds spent waiting into a later second
    transient: bool = False  # the last round had a call fail in transit
    why: str = ""  # why ``todo`` is not written yet (for the log)


def _write_group(
    deps: Deps,
    group: list[WriteItem],
    conditional: bool = True,
    started: Callable[[], None] = lambda: None,
) -> list[Outcomes]:
    """Guard, then PATCH; items to try again (a locked record, a chunk whose call failed
    in transit, a conditional write refused or held back) go round again, so the owners
    are ALWAYS re-read before a PATCH is re-sent: a resend never lands on an owner a
    person set in the meantime. What is still unwritten when the rounds run out is left
    ``pending``: the next cycle's reconcile re-reads and writes it (a lead is never left
    in the queue with nothing that will try it again). One :class:`Outcomes` per round,
    each with the time its answers came (a lead written in the first round was not
    written when a held-back one was). ``started``: called when the first round's
    PATCHes are all on their way (see :func:`send_all`)."""
    rounds: list[Outcomes] = []
    if conditional:
        guarded, group, wait = _guardable(deps, group)
        if guarded:
            first = Outcomes()
            rounds.append(first)
            if wait > 0 and deps.settling.enabled:  # no wait in the cycle: a later one
                _hold_back(deps, first, guarded, deps.monotonic() + wait)
            else:
                if wait > 0:
                    deps.sleep(wait)
                group = _send_guarded(deps, guarded, first) + group
    state = _Rounds(group, deps.monotonic())
    while state.todo:
        _back_off(deps, state)
        out = Outcomes()
        rounds.append(out)
        burst = _read_and_send(deps, state, out, conditional, started if len(rounds) == 1 else None)
        if burst is None:
            break
        out.answered_at = deps.now()
        _sort_answers(deps, state, out, burst)
        if state.retries > deps.lock_retries or state.waits > MAX_WAITS:
            log.warning("write-back of %d leads left pending for the next cycle: %s",
                        len(state.todo), state.why)  # fmt: skip
            out.left_pending += state.todo
            break
    return rounds


def _guardable(
    deps: Deps, group: list[WriteItem]
) -> tuple[list[WriteItem], list[WriteItem], float]:
    """(written by guarded writes, the rest, how long until they may be sent): the
    group's leads known from their create events and never sent, when there are no more
    than :data:`GUARDED_LEADS` of them, guarded writes are not turned off, and
    Salesforce's clock is known; they may be sent once that clock has left the second of
    their last change (plus the skew), at most :data:`GUARDED_WAIT` from now."""
    fresh = [i for i in group if i.changed_at is not None and not i.sent]
    if not fresh or len(fresh) > GUARDED_LEADS or deps.state.guarded_off:
        return [], group, 0.0
    stamps = [i.changed_at for i in fresh if i.changed_at is not None]
    server = deps.gateway.server_time()
    if server is None:
        return [], group, 0.0
    wait = seconds_to_settle(max(stamps), server)
    if wait > GUARDED_WAIT:  # a stamp that far ahead: clocks apart, re-read instead
        return [], group, 0.0
    ids = {i.decision_id for i in fresh}
    return fresh, [i for i in group if i.decision_id not in ids], max(wait, 0.0)


def _send_guarded(deps: Deps, items: list[WriteItem], out: Outcomes) -> list[WriteItem]:
    """Write ``items`` by guarded writes, their outcomes into ``out``; return those left
    for the re-read rounds: the ones whose guard or precondition failed, or that are to
    be tried again (locked), and, marked as possibly sent, all of them when the call
    failed in transit."""
    updates = [
        GuardedUpdate(
            OwnerUpdate(i.lead_id, i.owner_id, i.extra),
            i.expected - {i.owner_id},
            i.changed_at,
        )
        for i in items
        if i.changed_at is not None
    ]
    try:
        results = deps.gateway.update_owners_guarded(updates)
    except SfdcTransientError as exc:
        log.info("guarded write of %d leads failed in transit (%s): re-read", len(items), exc)
        return [replace(i, sent=True) for i in items]
    except SfdcError as exc:  # refused as a whole: nothing of it was applied
        _guarded_off(deps, str(exc))
        return items
    out.answered_at = deps.now()
    failed = [r for r in results if r.error_code == GUARD_FAILED]
    if failed:  # the org will not run the guard query: every lead would pay twice
        _guarded_off(deps, failed[0].reason)
    unknown = {r.lead_id for r in results if r.error_code == NO_RESULT}
    again = [replace(i, sent=True) for i in items if i.lead_id in unknown]
    answered = [i for i in items if i.lead_id not in unknown]
    retry, refused = _classify(deps, answered, results, out)
    return again + [replace(i, sent=True) for i in retry] + refused


def _guarded_off(deps: Deps, why: str) -> None:
    deps.state.guarded_off = True
    log.warning("guarded owner writes refused (%s): owners are re-read before each write "
                "from now on", why)  # fmt: skip


def _back_off(deps: Deps, state: _Rounds) -> None:
    """Before a round that tries again: sleep for the back-off, and at least until the
    held-back leads' re-read may come."""
    if state.retries or state.waits:
        settle = state.wait - (deps.monotonic() - state.read_done) if state.waiting else 0.0
        deps.sleep(_pause(state.retries, state.transient, settle, deps.rng))


def _read_and_send(
    deps: Deps,
    state: _Rounds,
    out: Outcomes,
    conditional: bool,
    started: Callable[[], None] | None = None,
) -> Burst | None:
    """One round: re-read the owners of ``state.todo``, judge them, PATCH the leads still
    ours to write. None when the re-read failed (its leads are left pending). The cycle
    thread stands aside from the moment the owners' answer arrives until the burst is on
    its way (not while Salesforce is still reading them)."""
    hold = deps.hush.later()
    try:
        try:
            with deps.gateway.when_answered(hold.take):
                owners = deps.gateway.current_owners([i.lead_id for i in state.todo])
        except SfdcError as exc:
            _left_pending(deps, out, state.todo, exc)
            return None
        hold.take()  # a gateway without HTTP answers (tests) never called it
        guard_from = time.monotonic()  # the window metric measures real time
        ready = _ready(deps, state, owners, out, conditional)
        size = COMPOSITE_MAX if conditional else CHUNK
        chunks = [ready[start : start + size] for start in range(0, len(ready), size)]
        since = preconditions(owners, ready) if conditional else None
        on_way = countdown(
            min(len(chunks), _concurrency(deps, conditional)),
            hold.release if started is None else _both(hold.release, started),
        )
        return list(zip(chunks, _patch_all(deps, chunks, guard_from, on_way, since), strict=True))
    finally:
        hold.release()


def _both(first: Callable[[], None], then: Callable[[], None]) -> Callable[[], None]:
    def both() -> None:
        first()
        then()

    return both


def _ready(
    deps: Deps, state: _Rounds, owners: dict[str, OwnerRow], out: Outcomes, conditional: bool
) -> list[WriteItem]:
    """The leads to PATCH now, judged by their re-read ``owners``. With conditional
    writes, a lead re-read in the second of its last change waits for a later re-read
    (``state.waiting``), or is left for a later cycle when the worker settles them."""
    state.read_done = deps.monotonic()
    ready = judge(owners, state.todo, out)
    state.waiting = []
    if conditional:
        ready, state.waiting, state.wait = split_settled(owners, ready)
        if state.waiting and deps.settling.enabled:
            _hold_back(deps, out, state.waiting, state.read_done + state.wait)
            state.waiting = []
    return ready


def _sort_answers(deps: Deps, state: _Rounds, out: Outcomes, burst: Burst) -> None:
    """Sort the burst's answers into ``out``; what is to go round again becomes
    ``state.todo``: the held-back leads, the chunks whose call failed in transit (they
    may have landed: re-check, re-send), locked leads and refused conditional writes."""
    state.todo, state.transient = list(state.waiting), False
    state.why = "changed in the second it was re-read"
    for chunk, answer in burst:
        if isinstance(answer, SfdcTransientError):
            state.transient, state.why = True, str(answer)
            state.todo += [replace(i, sent=True) for i in chunk]
        elif isinstance(answer, SfdcError):
            _left_pending(deps, out, chunk, answer)
        else:
            retry, refused = _classify(deps, chunk, answer, out)
            state.todo += [replace(i, sent=True) for i in retry]
            state.todo += refused  # not applied (412): an owner equal to ours is not ours
            if retry or refused:
                state.why = "still locked, or changed as we wrote (lock error / 412)"
    if len(state.todo) > len(state.waiting):
        state.retries += 1
    elif state.todo:
        state.waits += 1


def _hold_back(deps: Deps, out: Outcomes, items: list[WriteItem], settled_at: float) -> None:
    """Leave ``items`` pending for a later cycle (the worker runs one at ``settled_at``)
    rather than hold this one until Salesforce's clock has left the second of their
    last change; their reconcile knows the unsent ones were not sent."""
    deps.settling.hold([i.decision_id for i in items if not i.sent], settled_at)
    out.left_pending += items
    log.debug("%d leads left pending until the second of their last change is over", len(items))


def _pause(retries: int, transient: bool, settle: float, rng: Random) -> float:
    """Seconds to back off before the next round: exponential with jitter (drawn from
    ``rng``) for retries, and at least ``settle`` (until Salesforce's clock has left the
    second a held-back lead was last changed in; 0 when none is)."""
    pause = 0.0
    if retries:
        base = 0.2 if transient else 0.05
        pause = base * 2 ** (retries - 1) + rng.uniform(0, base)
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
    """Sort per-record results; return the items to retry: locked leads, and conditional
    writes refused because the lead changed after the re-read."""
    by_id = {r.lead_id: r for r in results}
    retry, refused = [], []
    for item in ready:
        result = by_id.get(item.lead_id)
        if result is None:
            out.left_pending.append(item)
            continue
        kind = result.kind
        if kind is not WriteKind.WRITTEN:
            deps.metrics.errors.labels(kind=result.code).inc()
        if kind is WriteKind.WRITTEN:
            out.applied.append(item)
        elif kind is WriteKind.LOCKED:
            retry.append(item)
        elif kind is WriteKind.OWNER_CHANGED:  # changed since the re-read: re-judge
            refused.append(item)
        elif kind is WriteKind.OWNER_INACTIVE:
            deps.directory.mark_inactive(item.owner_id)
            out.reroute.append(item)
        elif kind in CLOSED:
            out.skip(CLOSED[kind], item)
        else:
            out.failed.append((item, result.reason))
    return retry, refused
