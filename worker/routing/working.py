"""A mutable working copy of :class:`RoutingState` used while routing one batch.

The public API stays immutable: ``route_lead``/``route_batch`` copy what they touch
into a :class:`WorkingState`, route, and return ``freeze()`` as the new state. Pools and
counters that are not touched are shared with the input state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from worker.routing.state import Counter, PoolState, RoutingState


@dataclass
class PoolWork:
    credits: dict[str, float]
    last_rep: str | None
    debts: dict[str, float]
    paid: dict[str, Counter]
    last_was_catch_up: bool
    picks: int

    @classmethod
    def of(cls, p: PoolState) -> PoolWork:
        return cls(
            dict(p.credits), p.last_rep, dict(p.debts), dict(p.paid), p.last_was_catch_up, p.picks
        )

    def frozen(self) -> PoolState:
        return PoolState(
            credits=dict(self.credits),
            last_rep=self.last_rep,
            debts={k: v for k, v in self.debts.items() if abs(v) > 1e-12},
            paid=dict(self.paid),
            last_was_catch_up=self.last_was_catch_up,
            picks=self.picks,
        )


@dataclass
class WorkingState:
    base: RoutingState
    pools: dict[str, PoolWork] = field(default_factory=dict)
    reps: dict[str, Counter] = field(default_factory=dict)
    pool_reps: dict[str, dict[str, Counter]] = field(default_factory=dict)
    open_delta: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reps = dict(self.base.reps)

    def pool(self, name: str) -> PoolWork:
        work = self.pools.get(name)
        if work is None:
            work = PoolWork.of(self.base.pools.get(name) or PoolState())
            self.pools[name] = work
        return work

    def pool_counters(self, name: str) -> dict[str, Counter]:
        counters = self.pool_reps.get(name)
        if counters is None:
            counters = dict(self.base.pool_reps.get(name, {}))
            self.pool_reps[name] = counters
        return counters

    def record(self, rep: str, pool: str | None, day: str, hour: str) -> None:
        """Count one assignment to ``rep`` (overall and in ``pool``) in its local buckets."""
        self.reps[rep] = self.reps.get(rep, Counter()).bumped(day, hour)
        if pool is not None:
            counters = self.pool_counters(pool)
            counters[rep] = counters.get(rep, Counter()).bumped(day, hour)
        self.open_delta[rep] = self.open_delta.get(rep, 0) + 1

    def freeze(self, live_days: dict[str, str] | None = None) -> RoutingState:
        """The new immutable state. Counters of past local days are dropped (pruned) when
        ``live_days`` (rep -> current local day) says so."""
        pools = dict(self.base.pools)
        pools.update({k: w.frozen() for k, w in self.pools.items()})
        pool_reps = {k: dict(v) for k, v in self.base.pool_reps.items()}
        pool_reps.update(self.pool_reps)
        reps = self.reps
        if live_days:
            reps = {k: c for k, c in reps.items() if live_days.get(k, c.day) == c.day}
            pool_reps = {
                p: {k: c for k, c in cs.items() if live_days.get(k, c.day) == c.day}
                for p, cs in pool_reps.items()
            }
        return RoutingState(pools=pools, reps=reps, pool_reps=pool_reps)
