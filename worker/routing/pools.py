"""Choosing a rep inside a pool: eligibility (toggle, Salesforce status, availability,
caps, tags), the pool's distribution method and catch-up policy. Every skipped
candidate is recorded in the trace with why.

Per batch (one ``now``) most eligibility facts are fixed: Salesforce status, working
hours, out of office, holidays, the toggle. They are evaluated once per pool into a
*plan*; only caps, open load and exclusions are checked per lead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from worker.routing import caps, round_robin
from worker.routing.availability import RepClock, rep_clock
from worker.routing.members import member_weight
from worker.routing.model import (
    Caps,
    Pool,
    PoolMember,
    Rep,
    RoutingConfig,
    RoutingContext,
    TraceStep,
)
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


class Pick(NamedTuple):
    """The rep chosen in a pool (internal; a tuple because one is built per decision)."""

    rep: Rep
    user_id: str
    method: str
    note: str  # e.g. "0.4 leads behind their share"
    eligible_weights: dict[str, float]


@dataclass(frozen=True, slots=True)
class Slot:
    """A pool member as seen at this batch's ``now``."""

    rep: Rep
    member: PoolMember | None
    candidate: Candidate
    user_id: str | None
    open_leads: int
    clock: RepClock
    static_skip: TraceStep | None  # unavailable for the whole batch
    away: bool  # the static reason earns catch-up
    capped: bool  # has any cap (rep or pool): checked per lead


_NO_CAPS = Caps()


def _skip_step(rep: Rep, why: str) -> TraceStep:
    return TraceStep("candidate", f"{rep.name} skipped ({why})", {"rep": rep.key, "skip": why})


class PoolRouter:
    """Eligibility and picking against one working state and one ``now``."""

    def __init__(
        self, config: RoutingConfig, context: RoutingContext, work: WorkingState, now: datetime
    ) -> None:
        self.config, self.context, self.work, self.now = config, context, work, now
        self.clocks: dict[str, RepClock] = {}
        self.plans: dict[str, tuple[Slot, ...]] = {}
        self.recentred: set[str] = set()
        # (rep, why) -> its trace step: with caps filling, every lead of a batch lists the
        # same capped reps, and the steps are immutable, so one is built per batch
        self.skips: dict[tuple[str, str], TraceStep] = {}

    def skip_step(self, rep: Rep, why: str) -> TraceStep:
        step = self.skips.get((rep.key, why))
        if step is None:
            step = self.skips[(rep.key, why)] = _skip_step(rep, why)
        return step

    def clock(self, rep: Rep) -> RepClock:
        hit = self.clocks.get(rep.key)
        if hit is None:
            hit = self.clocks[rep.key] = rep_clock(rep, self.now)
        return hit

    def slot(self, rep: Rep, member: PoolMember | None, order: int) -> Slot:
        weight = member_weight(rep, member)
        status = self.context.reps.get(rep.key)
        clock = self.clock(rep)
        why, away = None, False
        if status is None or not status.user_id:
            why = "no Salesforce user for this e-mail"
        elif not status.sf_active:
            why = "inactive in Salesforce"
        elif clock.unavailable:
            why, away = clock.unavailable, clock.away
        return Slot(
            rep,
            member,
            Candidate(rep.key, weight, order),
            status.user_id if status else None,
            status.open_leads if status else 0,
            clock,
            self.skip_step(rep, why) if why else None,
            away,
            rep.caps != _NO_CAPS or (member is not None and member.caps != _NO_CAPS),
        )

    def plan(self, pool: Pool) -> tuple[Slot, ...]:
        hit = self.plans.get(pool.name)
        if hit is None:
            reps = self.config.reps
            hit = tuple(self.slot(reps[m.rep], m, i) for i, m in enumerate(pool.members))
            self.plans[pool.name] = hit
        return hit

    def open_leads(self, key: str) -> int:
        status = self.context.reps.get(key)
        return (status.open_leads if status else 0) + self.work.open_delta.get(key, 0)

    def dynamic_skip(self, s: Slot, pool: str | None, exclude: frozenset[str]) -> str | None:
        """Why the rep cannot take one more lead now (exclusion, open load, caps)."""
        key = s.rep.key
        if key in exclude:
            return "already had this lead"
        if not s.capped:
            return None
        rep_caps = s.rep.caps
        if rep_caps.max_open is not None:
            why = caps.open_load_reason(rep_caps, s.open_leads + self.work.open_delta.get(key, 0))
            if why:
                return why
        day, hour = s.clock.day_key, s.clock.hour_key
        why = caps.cap_reason(rep_caps, self.work.reps.get(key), day, hour, "")
        if why is None and s.member is not None and pool is not None:
            counter = self.work.pool_counters(pool).get(key)
            why = caps.cap_reason(s.member.caps, counter, day, hour, "pool ")
        return why

    def skip_reason(self, rep: Rep, exclude: frozenset[str]) -> str | None:
        """Why ``rep`` (outside any pool, e.g. a fallback rep) cannot take a lead now."""
        s = self.slot(rep, None, 0)
        if s.static_skip is not None:
            return str(s.static_skip.data["skip"])
        return self.dynamic_skip(s, None, exclude)

    def candidates(
        self, pool: Pool, exclude: frozenset[str], trace: list[TraceStep]
    ) -> tuple[list[Slot], dict[str, float]]:
        """Eligible slots (before tags) and the weights of reps away for catch-up."""
        eligible: list[Slot] = []
        away: dict[str, float] = {}
        for s in self.plan(pool):
            if s.static_skip is not None:
                trace.append(s.static_skip)
                if s.away:
                    away[s.rep.key] = s.candidate.weight
                continue
            why = self.dynamic_skip(s, pool.name, exclude) if s.capped or exclude else None
            if why is None:
                eligible.append(s)
                continue
            if why != "already had this lead":
                away[s.rep.key] = s.candidate.weight
            trace.append(self.skip_step(s.rep, why))
        return eligible, away

    def filter_tags(
        self, pool: Pool, slots: list[Slot], tags: frozenset[str], trace: list[TraceStep]
    ) -> list[Slot]:
        if pool.tags_mode == "ignore" or not tags or not slots:
            return slots
        shown = ", ".join(sorted(tags))
        if pool.tags_mode == "prefer":
            scores = [len(tags & s.rep.tags) for s in slots]
            best = max(scores)
            kept = [s for s, n in zip(slots, scores, strict=True) if n == best] if best else slots
            msg = f"Preferring reps with most of tags {shown} ({best} in common): {len(kept)} of {len(slots)}"
            trace.append(
                TraceStep("tags", msg, {"tags": sorted(tags), "kept": [s.rep.key for s in kept]})
            )
            return kept
        kept = []
        for s in slots:
            if tags <= s.rep.tags:
                kept.append(s)
            else:
                trace.append(
                    self.skip_step(s.rep, f"lacks tags {', '.join(sorted(tags - s.rep.tags))}")
                )
        if not kept and pool.tags_fallback == "ignore":
            trace.append(
                TraceStep(
                    "tags", "Nobody has all the lead's tags: ignoring tags", {"tags": sorted(tags)}
                )
            )
            return slots
        return kept

    def pick(
        self, pool: Pool, exclude: frozenset[str], tags: frozenset[str], trace: list[TraceStep]
    ) -> Pick | None:
        """Choose a rep in ``pool`` or None when nobody is eligible."""
        slots, away = self.candidates(pool, exclude, trace)
        slots = self.filter_tags(pool, slots, tags, trace)
        if not slots:
            return None
        work = self.work.pool(pool.name)
        eligible = [s.candidate for s in slots]
        weights = {c.key: c.weight for c in eligible}
        _accrue_debts(pool, work, weights, away)
        chosen, method, note = self._choose(pool, work, eligible, trace)
        slot = slots[eligible.index(chosen)]
        self.work.record(chosen.key, pool.name, slot.clock.day_key, slot.clock.hour_key)
        work.last_rep, work.picks = chosen.key, work.picks + 1
        assert slot.user_id is not None
        return Pick(slot.rep, slot.user_id, method, note, weights)

    def _choose(
        self, pool: Pool, work: PoolWork, eligible: list[Candidate], trace: list[TraceStep]
    ) -> tuple[Candidate, str, str]:
        owed = self._catch_up_candidate(pool, work, eligible)
        if owed is not None:
            work.debts[owed.key] -= 1.0
            day = self._day_of(owed.key)
            work.paid[owed.key] = work.paid.get(owed.key, Counter()).bumped(day, "")
            work.last_was_catch_up = True
            return owed, "catch_up", f"catching up, {work.debts[owed.key]:.1f} leads still owed"
        work.last_was_catch_up = False
        if pool.method == "round_robin":
            order = [m.rep for m in pool.members]
            return round_robin.round_robin_pick(eligible, order, work.last_rep), pool.method, ""
        if pool.method == "least_loaded":
            c = round_robin.least_loaded_pick(
                eligible, pool.least_loaded_weighted, self.open_leads, self._today
            )
            return c, pool.method, f"{self.open_leads(c.key)} open leads"
        return self._weighted(pool, work, eligible, trace)

    def _weighted(
        self, pool: Pool, work: PoolWork, eligible: list[Candidate], trace: list[TraceStep]
    ) -> tuple[Candidate, str, str]:
        if pool.name not in self.recentred:  # membership may have changed since last batch
            plan = self.plan(pool)
            round_robin.recentre(work.credits, [(s.rep.key, s.candidate.weight) for s in plan])
            self.recentred.add(pool.name)
        credits = work.credits
        before = {c.key: credits.get(c.key, 0.0) for c in eligible}
        chosen, _ = round_robin.weighted_pick(eligible, credits)
        behind = before[chosen.key]  # how far behind its share the rep was before this lead
        # rounded here, where the floats are made, so journaling need not walk every trace
        before = {k: round(v, 4) for k, v in before.items()}
        after = {c.key: round(credits[c.key], 4) for c in eligible}
        data = {"pool": pool.name, "before": before, "after": after}
        trace.append(TraceStep("state", "Round-robin credits (leads behind share)", data))
        word = "behind" if behind >= 0 else "ahead of"
        return chosen, pool.method, f"{abs(behind):.1f} leads {word} their share"

    def _day_of(self, key: str) -> str:
        return self.clock(self.config.reps[key]).day_key

    def _today(self, key: str) -> int:
        counter = self.work.reps.get(key)
        return counter.today(self._day_of(key)) if counter else 0

    def _catch_up_candidate(
        self, pool: Pool, work: PoolWork, eligible: list[Candidate]
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
                if paid is not None and paid.today(self._day_of(c.key)) >= policy.per_day:
                    continue
            if best is None or debt > work.debts[best.key] + round_robin.EPS:
                best = c
        return best


def _accrue_debts(
    pool: Pool, work: PoolWork, eligible: dict[str, float], away: dict[str, float]
) -> None:
    if pool.catch_up.policy == "forgive" or not away:
        return
    total = sum(eligible.values()) + sum(away.values())
    for key, weight in away.items():
        work.debts[key] = work.debts.get(key, 0.0) + weight / total
