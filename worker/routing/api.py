"""The public entry points of the routing core: the one way a lead is routed.

The worker (:func:`worker.jobs.decide.decide_batch`), ``simulate``, What-if and the
benchmarks all route through :func:`route_batch` (one batch at one instant) or
:func:`route_stream` (batches one after another, as the worker's pages and cycles are):
same router, same facts, same per-lead error handling, so the same inputs give the same
decisions whichever screen or command asks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from worker.routing.engine import Router
from worker.routing.matching import AccountIndex
from worker.routing.model import (
    Account,
    Decision,
    KnownEmail,
    Lead,
    RepStatus,
    RoutingConfig,
    RoutingContext,
)
from worker.routing.state import RoutingState


@dataclass(frozen=True)
class Ask:
    """One lead to decide, with the SLA re-assignment options when relevant.

    ``exclude``: rep keys that must not get the lead (everyone who already had it).
    ``only_pool``: skip matching and rules and pick in this pool, following its
    overflow chain (SLA re-assignment).
    """

    lead: Lead
    exclude: frozenset[str] = frozenset()
    only_pool: str | None = None


OnError = Callable[[Lead, Exception], None]


def routing_context(
    reps: Mapping[str, RepStatus],
    *,
    accounts: Sequence[Account] | AccountIndex = (),
    known_emails: Iterable[KnownEmail] | Mapping[str, Sequence[KnownEmail]] = (),
    users_active: Mapping[str, bool] | None = None,
    account_note: str = "",
) -> RoutingContext:
    """The org facts of a batch, built the same way for the worker, ``simulate`` and
    What-if: rep statuses by rep key, the candidate accounts (or their index), and the
    existing records carrying the leads' e-mail addresses. A user's activity is what its
    rep status says, then ``users_active`` (users known inactive, e.g. an account owner
    refused as inactive by a write), then its account's own flag.
    """
    index = accounts if isinstance(accounts, AccountIndex) else AccountIndex.build(accounts)
    known: dict[str, list[KnownEmail]] = {}
    if isinstance(known_emails, Mapping):
        known = {email: list(found) for email, found in known_emails.items()}
    else:
        for k in known_emails:
            known.setdefault(k.email, []).append(k)
    active = {s.user_id: s.sf_active for s in reps.values() if s.user_id}
    active.update(users_active or {})
    return RoutingContext(
        accounts=tuple(index.by_id.values()), known_emails=known, reps=dict(reps),
        users_active=active, account_index=index, account_note=account_note,
    )  # fmt: skip


def _asked(item: Ask | Lead) -> Ask:
    return item if isinstance(item, Ask) else Ask(item)


def failed_decision(lead: Lead, exc: Exception) -> Decision:
    """A lead the core could not decide is held, never dropped, with the error's type."""
    reason = f"held: routing error ({type(exc).__name__})"
    return Decision(lead.id, "hold", None, None, None, None, "hold", reason)


def route_batch(
    leads: Iterable[Ask | Lead],
    *,
    config: RoutingConfig,
    context: RoutingContext,
    state: RoutingState,
    now: datetime,
    before_each: Callable[[], object] | None = None,
    on_error: OnError | None = None,
) -> tuple[list[Decision], RoutingState]:
    """Route leads in order with one ``now``; assignments within the batch count towards
    caps and open load of the following leads. The input state is not modified.

    Args:
        before_each: called before each lead (the worker's stand-aside point).
        on_error: called with a lead the core raised on (then held, see
            :func:`failed_decision`); None re-raises.

    Raises:
        ValueError: ``now`` is not timezone-aware.
    """
    router = Router(config, context, state, now)
    decisions = []
    for item in leads:
        ask = _asked(item)
        if before_each is not None:
            before_each()
        try:
            decisions.append(router.route(ask.lead, ask.exclude, ask.only_pool))
        except Exception as exc:  # noqa: BLE001 - one bad lead must not stop the batch
            if on_error is None:
                raise
            on_error(ask.lead, exc)
            decisions.append(failed_decision(ask.lead, exc))
    return decisions, router.new_state()


def route_lead(
    lead: Lead,
    *,
    config: RoutingConfig,
    context: RoutingContext,
    state: RoutingState,
    now: datetime,
    exclude_reps: frozenset[str] = frozenset(),
    only_pool: str | None = None,
) -> tuple[Decision, RoutingState]:
    """Route one lead (see :class:`Ask` for ``exclude_reps`` and ``only_pool``)."""
    decisions, new = route_batch(
        [Ask(lead, exclude_reps, only_pool)], config=config, context=context, state=state, now=now
    )
    return decisions[0], new


def with_assignments(context: RoutingContext, decisions: Sequence[Decision]) -> RoutingContext:
    """``context`` with the open leads the decisions assigned counted in, as the worker's
    open-lead counts grow between its pages (the account index is kept, not rebuilt)."""
    added: dict[str, int] = {}
    for d in decisions:
        key = d.rep_key
        if d.action == "assign" and key is not None and key in context.reps:
            added[key] = added.get(key, 0) + 1
    if not added:
        return context
    reps = dict(context.reps)
    for key, n in added.items():
        reps[key] = dataclasses.replace(reps[key], open_leads=reps[key].open_leads + n)
    index = context.account_index
    if not isinstance(index, AccountIndex):
        index = AccountIndex.build(context.accounts)
    return dataclasses.replace(context, reps=reps, account_index=index)


def route_stream(
    batches: Iterable[tuple[datetime, Sequence[Ask | Lead]]],
    *,
    config: RoutingConfig,
    context: RoutingContext,
    state: RoutingState,
    on_error: OnError | None = None,
) -> Iterator[tuple[list[Decision], RoutingState]]:
    """Route ``(now, leads)`` batches one after another, each starting from the state
    the previous one left and with its assignments counted in the reps' open leads:
    how the worker's pages follow each other. Yields each batch's decisions and state."""
    for now, leads in batches:
        decisions, state = route_batch(
            leads, config=config, context=context, state=state, now=now, on_error=on_error
        )
        context = with_assignments(context, decisions)
        yield decisions, state
