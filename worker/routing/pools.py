"""Choosing a rep inside a pool: eligibility (toggle, Salesforce status, availability,
caps, tags), the pool's distribution method and catch-up policy, and the overflow chain
when nobody is eligible. Every skipped candidate is recorded in the trace with why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from worker.routing import caps, round_robin
from worker.routing.availability import RepClock, rep_clock
from worker.routing.model import Pool, PoolMember, Rep, RoutingConfig, RoutingContext, TraceStep
from worker.routing.round_robin import Candidate
from worker.routing.state import Counter
from worker.routing.working import PoolWork, WorkingState

METHOD_WORDS = {
    "weighted_round_robin": "weighted round-robin",
    "round_robin": "round-robin",
    "least_loaded": "least-loaded",
    "catch_up": "catch-up",
    "fallback_rep": "fallback rep",
}


@dataclass(frozen=True, slots=True)
class Pick:
    rep: Rep
    user_id: str
    method: str
    note: str  # e.g. "0.4 leads behind their share"
    eligible_weights: dict[str, float]


class PoolRouter:
    """Eligibility and picking against one working state and one ``now``."""

    def __init__(
        self,
        config: RoutingConfig,
        context: RoutingContext,
        work: WorkingState,
        now: datetime,
    ) -> None:
        self.config, self.context, self.work, self.now = config, context, work, now
        self.clocks: dict[str, RepClock] = {}

    def clock(self, rep: Rep) -> RepClock:
        hit = self.clocks.get(rep.key)
        if hit is None:
            hit = self.clocks[rep.key] = rep_clock(rep, self.now)
        return hit

    def skip_reason(
        self, rep: Rep, member: PoolMember | None, pool: str | None, exclude: frozenset[str]
    ) -> tuple[str | None, bool]:
        """(why ``rep`` cannot take a lead now or None, whether the reason earns catch-up)."""
        if rep.key in exclude:
            return "already had this lead", False
        status = self.context.reps.get(rep.key)
        if status is None or not status.user_id:
            return "no Salesforce user for this e-mail", False
        if not status.sf_active:
            return "inactive in Salesforce", False
        clock = self.clock(rep)
        if clock.unavailable:
            return clock.unavailable, clock.away
        open_now = status.open_leads + self.work.open_delta.get(rep.key, 0)
        why = caps.open_load_reason(rep.caps, open_now)
        why = why or caps.cap_reason(
            rep.caps, self.work.reps.get(rep.key), clock.day_key, clock.hour_key, ""
        )
        if why is None and member is not None and pool is not None:
            counter = self.work.pool_counters(pool).get(rep.key)
            why = caps.cap_reason(member.caps, counter, clock.day_key, clock.hour_key, "pool ")
        return why, why is not None

    def candidates(
        self, pool: Pool, exclude: frozenset[str], trace: list[TraceStep]
    ) -> tuple[list[Candidate], dict[str, float]]:
        """Eligible candidates (before tags) and the weights of reps away for catch-up."""
        eligible: list[Candidate] = []
        away: dict[str, float] = {}
        for i, m in enumerate(pool.members):
            rep = self.config.reps[m.rep]
            weight = rep.weight if m.weight is None else m.weight
            why, earns = self.skip_reason(rep, m, pool.name, exclude)
            if why is None:
                status = self.context.reps[rep.key]
                today = self.work.reps.get(rep.key)
                eligible.append(
                    Candidate(
                        rep.key,
                        weight,
                        i,
                        status.open_leads + self.work.open_delta.get(rep.key, 0),
                        today.today(self.clock(rep).day_key) if today else 0,
                    )
                )
                continue
            if earns:
                away[rep.key] = weight
            trace.append(
                TraceStep("candidate", f"{rep.name} skipped ({why})", {"rep": rep.key, "skip": why})
            )
        return eligible, away

    def filter_tags(
        self, pool: Pool, cands: list[Candidate], tags: frozenset[str], trace: list[TraceStep]
    ) -> list[Candidate]:
        if pool.tags_mode == "ignore" or not tags or not cands:
            return cands
        reps = self.config.reps
        if pool.tags_mode == "prefer":
            scores = {c.key: len(tags & reps[c.key].tags) for c in cands}
            best = max(scores.values())
            kept = [c for c in cands if scores[c.key] == best] if best else cands
            trace.append(
                TraceStep(
                    "tags",
                    f"Preferring reps with the most of tags {', '.join(sorted(tags))} "
                    f"({best} in common): {len(kept)} of {len(cands)}",
                    {"tags": sorted(tags), "kept": [c.key for c in kept]},
                )
            )
            return kept
        kept = [c for c in cands if tags <= reps[c.key].tags]
        for c in cands:
            if c not in kept:
                missing = ", ".join(sorted(tags - reps[c.key].tags))
                trace.append(
                    TraceStep(
                        "candidate",
                        f"{reps[c.key].name} skipped (lacks tags {missing})",
                        {"rep": c.key, "skip": f"lacks tags {missing}"},
                    )
                )
        if not kept and pool.tags_fallback == "ignore":
            trace.append(
                TraceStep(
                    "tags", "Nobody has all the lead's tags: ignoring tags", {"tags": sorted(tags)}
                )
            )
            return cands
        return kept

    def pick(
        self, pool: Pool, exclude: frozenset[str], tags: frozenset[str], trace: list[TraceStep]
    ) -> Pick | None:
        """Choose a rep in ``pool`` or None when nobody is eligible."""
        eligible, away = self.candidates(pool, exclude, trace)
        eligible = self.filter_tags(pool, eligible, tags, trace)
        if not eligible:
            return None
        work = self.work.pool(pool.name)
        weights = {c.key: c.weight for c in eligible}
        _accrue_debts(pool, work, weights, away)
        chosen, method, note = self._choose(pool, work, eligible, trace)
        rep = self.config.reps[chosen.key]
        clock = self.clock(rep)
        self.work.record(rep.key, pool.name, clock.day_key, clock.hour_key)
        work.last_rep, work.picks = rep.key, work.picks + 1
        user_id = self.context.reps[rep.key].user_id
        assert user_id is not None
        return Pick(rep, user_id, method, note, weights)

    def _choose(
        self, pool: Pool, work: PoolWork, eligible: list[Candidate], trace: list[TraceStep]
    ) -> tuple[Candidate, str, str]:
        owed = _catch_up_candidate(pool, work, eligible, self._day_of)
        if owed is not None:
            work.debts[owed.key] -= 1.0
            day = self._day_of(owed.key)
            work.paid[owed.key] = work.paid.get(owed.key, Counter()).bumped(day, "")
            work.last_was_catch_up = True
            left = work.debts[owed.key]
            return owed, "catch_up", f"catching up, {left:.1f} leads still owed"
        work.last_was_catch_up = False
        if pool.method == "round_robin":
            order = [m.rep for m in pool.members]
            return round_robin.round_robin_pick(eligible, order, work.last_rep), pool.method, ""
        if pool.method == "least_loaded":
            c = round_robin.least_loaded_pick(eligible, pool.least_loaded_weighted)
            return c, pool.method, f"{c.open_leads} open leads"
        weighted = [
            (m.rep, self.config.reps[m.rep].weight if m.weight is None else m.weight)
            for m in pool.members
        ]
        round_robin.recentre(work.credits, weighted)
        before = {c.key: round(work.credits.get(c.key, 0.0), 3) for c in eligible}
        chosen, behind = round_robin.weighted_pick(eligible, work.credits)
        after = {c.key: round(work.credits[c.key], 3) for c in eligible}
        trace.append(
            TraceStep(
                "state",
                "Round-robin credits (leads behind share) before and after",
                {"pool": pool.name, "before": before, "after": after},
            )
        )
        word = "behind" if behind >= 0 else "ahead of"
        return chosen, pool.method, f"{abs(behind):.1f} leads {word} their share"

    def _day_of(self, key: str) -> str:
        return self.clock(self.config.reps[key]).day_key


def _accrue_debts(
    pool: Pool, work: PoolWork, eligible: dict[str, float], away: dict[str, float]
) -> None:
    if pool.catch_up.policy == "forgive" or not away:
        return
    total = sum(eligible.values()) + sum(away.values())
    for key, weight in away.items():
        work.debts[key] = work.debts.get(key, 0.0) + weight / total


def _catch_up_candidate(
    pool: Pool, work: PoolWork, eligible: list[Candidate], day_of: Callable[[str], str]
) -> Candidate | None:
    policy = pool.catch_up
    if policy.policy == "forgive" or work.last_was_catch_up or not work.debts:
        return None
    best: Candidate | None = None
    for c in eligible:
        debt = work.debts.get(c.key, 0.0)
        if debt < 1.0 - round_robin.EPS:
            continue
        if policy.policy == "capped":
            paid = work.paid.get(c.key)
            if paid is not None and paid.today(day_of(c.key)) >= policy.per_day:
                continue
        if best is None or debt > work.debts[best.key] + round_robin.EPS:
            best = c
    return best
