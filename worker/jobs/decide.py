"""Call the pure routing core for a batch, one lead at a time, never failing the batch.

A lead the core cannot handle (it raised) is held with the error's type as its reason,
so one absurd record never stops a cycle; the lead Id is logged, never its content.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from worker.routing.engine import Router
from worker.routing.model import Decision, Lead, RoutingConfig, RoutingContext
from worker.routing.state import RoutingState

log = logging.getLogger("leadrouter.decide")


@dataclass(frozen=True)
class Ask:
    """One lead to decide, with the SLA re-assignment options when relevant."""

    lead: Lead
    exclude: frozenset[str] = frozenset()
    only_pool: str | None = None


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
    is in its check-then-write window, see :class:`worker.jobs.pipeline.Hush`)."""
    router = Router(config, context, state, now)
    decisions = []
    for ask in asks:
        if pause is not None:
            pause()
        try:
            decisions.append(router.route(ask.lead, ask.exclude, ask.only_pool))
        except Exception as exc:  # noqa: BLE001 - one bad lead must not stop the batch
            log.exception("routing failed for lead %s", ask.lead.id)
            reason = f"held: routing error ({type(exc).__name__})"
            decisions.append(Decision(ask.lead.id, "hold", None, None, None, None, "hold", reason))
    return decisions, router.new_state()


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
