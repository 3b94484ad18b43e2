"""A rep's terms inside one pool: the single place where "the pool member's value, else
the rep's own value" is decided.

A pool member may carry its own weight and its own caps (``members: [{rep, weight,
caps}]`` in the config, or a per-pool override in the dashboard). The weight is the
member's when set, else the rep's. Caps are two separate limits that both apply: the
member's caps count only this pool's leads, the rep's caps count the rep's leads from
every pool. The router, ``simulate``, What-if and every dashboard page read these terms
from here, so what a screen shows is what the router applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from worker.routing.model import Caps, PoolMember, Rep, RoutingConfig

Source = Literal["pool", "rep"]
CAP_FIELDS: tuple[str, ...] = ("per_hour", "per_day", "max_open")


def member_weight(rep: Rep, member: PoolMember | None) -> float:
    """The weight the router gives ``rep`` in a pool (``member`` None: outside any pool)."""
    return rep.weight if member is None or member.weight is None else member.weight


@dataclass(frozen=True, slots=True)
class MemberTerms:
    """How the router treats one member of one pool."""

    pool: str
    rep: str
    name: str
    weight: float
    weight_source: Source  # "pool": the member's own weight; "rep": the rep's default
    pool_caps: Caps  # counted over this pool's leads only
    rep_caps: Caps  # counted over the rep's leads from every pool

    def cap(self, name: str) -> tuple[int | None, Source | None]:
        """The tighter of the pool's and the rep's cap ``name`` and where it comes from
        (None, None: no such cap). Both apply; the tighter one binds first."""
        pool = getattr(self.pool_caps, name, None)
        rep = getattr(self.rep_caps, name, None)
        if pool is None and rep is None:
            return None, None
        if rep is None or (pool is not None and pool <= rep):
            return pool, "pool"
        return rep, "rep"


def member_terms(config: RoutingConfig, pool: str) -> tuple[MemberTerms, ...]:
    """The terms of every member of ``pool`` (members whose rep is not configured are
    left out: the config loader refuses them, so only a hand-built config has them)."""
    found = config.pools.get(pool)
    if found is None:
        return ()
    out = []
    for m in found.members:
        rep = config.reps.get(m.rep)
        if rep is None:
            continue
        source: Source = "rep" if m.weight is None else "pool"
        out.append(
            MemberTerms(pool, rep.key, rep.name, member_weight(rep, m), source, m.caps, rep.caps)
        )
    return tuple(out)


def pool_weights(config: RoutingConfig, pool: str) -> dict[str, float]:
    """Each member's weight in ``pool`` as the router applies it."""
    return {t.rep: t.weight for t in member_terms(config, pool)}
