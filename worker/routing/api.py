"""The public entry points of the routing core."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from worker.routing.engine import Router
from worker.routing.model import Decision, Lead, RoutingConfig, RoutingContext
from worker.routing.state import RoutingState


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
    """Route one lead.

    Args:
        exclude_reps: rep keys that must not get the lead (SLA re-assignment: everyone
            who already had it).
        only_pool: skip matching and rules and pick in this pool (SLA re-assignment),
            following its overflow chain.

    Returns:
        The decision and the new state (the input state is not modified).

    Raises:
        ValueError: ``now`` is not timezone-aware.
    """
    router = Router(config, context, state, now)
    decision = router.route(lead, exclude_reps, only_pool)
    return decision, router.new_state()


def route_batch(
    leads: Iterable[Lead],
    *,
    config: RoutingConfig,
    context: RoutingContext,
    state: RoutingState,
    now: datetime,
) -> tuple[list[Decision], RoutingState]:
    """Route leads in order with one ``now``; assignments within the batch count towards
    caps and open load of the following leads."""
    router = Router(config, context, state, now)
    decisions = [router.route(lead) for lead in leads]
    return decisions, router.new_state()
