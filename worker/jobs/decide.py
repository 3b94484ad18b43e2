"""Call the routing core's one entry point for a batch, never failing the batch.

A lead the core cannot handle (it raised) is held with the error's type as its reason
(:func:`worker.routing.api.failed_decision`), so one absurd record never stops a cycle;
the lead Id is logged, never its content.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from worker.routing.api import Ask, route_batch
from worker.routing.model import Decision, Lead, RoutingConfig, RoutingContext
from worker.routing.state import RoutingState

log = logging.getLogger("leadrouter.decide")

__all__ = ["Ask", "decide_batch", "release"]


def _log_failure(lead: Lead, exc: Exception) -> None:
    log.error("routing failed for lead %s", lead.id, exc_info=exc)


def decide_batch(
    asks: Sequence[Ask],
    *,
    config: RoutingConfig,
    context: RoutingContext,
    state: RoutingState,
    now: datetime,
    pause: Callable[[], object] | None = None,
) -> tuple[list[Decision], RoutingState]:
    """``pause``: called before each lead (the intake's stand-aside point while a write
    is in its check-then-write window, see :class:`worker.runtime.pipeline.Hush`)."""
    return route_batch(
        asks, config=config, context=context, state=state, now=now,
        before_each=pause, on_error=_log_failure,
    )  # fmt: skip


def release(state: RoutingState, taken: Iterable[tuple[str, str | None]]) -> RoutingState:
    """Give back the cap counters of decisions that were never written: one count per
    ``(rep, pool)`` pair, so two of a rep's decisions skipped give back two.

    A decision consumed one count of its rep's hour/day counters; when the write was
    skipped (a human took the lead) or failed, the rep did not get the lead, so the
    counters must not say so. Round-robin credits are left alone (fairness self-corrects).
    """
    from dataclasses import replace

    reps = dict(state.reps)
    pool_reps = {p: dict(r) for p, r in state.pool_reps.items()}
    for rep, pool in taken:
        if rep in reps:
            c = reps[rep]
            reps[rep] = replace(
                c, day_count=max(0, c.day_count - 1), hour_count=max(0, c.hour_count - 1)
            )
        if pool and rep in pool_reps.get(pool, {}):
            c = pool_reps[pool][rep]
            pool_reps[pool][rep] = replace(
                c, day_count=max(0, c.day_count - 1), hour_count=max(0, c.hour_count - 1)
            )
    return replace(state, reps=reps, pool_reps=pool_reps)
