"""Routing state: what the core remembers between decisions, as an immutable value.

Per pool: each member's *credit* (how many leads it is behind its weighted share; the
smooth weighted round-robin's "current weight" divided by the total weight), the plain
round-robin cursor, and the catch-up *debts*: signed, in leads, summing to 0 over the
members (positive: owed for an absence; negative: ahead, for covering one), defined in
:mod:`worker.routing.round_robin`. Per rep (overall and per pool): assignment
counters for the current local hour and local day in the REP's time zone. A counter whose
bucket is not the current one counts as zero and is dropped when next written, so the
state prunes itself.

The worker persists ``state_to_json(state)`` in the same transaction as the decision.
The JSON is versioned (``"v": 1``) and stable (sorted keys). States saved before debts
were signed hold only positive debts; they load as they are and the pool's first batch
re-centres them to sum 0, which keeps the catch-up leads they promised.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

STATE_VERSION = 1


class StateError(ValueError):
    """The stored state cannot be read (corrupt or from a newer version)."""


@dataclass(frozen=True, slots=True)
class Counter:
    """Assignments in the current local hour/day buckets (``2026-11-23T09`` / ``2026-11-23``)."""

    day: str = ""
    day_count: int = 0
    hour: str = ""
    hour_count: int = 0

    def today(self, day: str) -> int:
        return self.day_count if self.day == day else 0

    def this_hour(self, hour: str) -> int:
        return self.hour_count if self.hour == hour else 0

    def bumped(self, day: str, hour: str) -> Counter:
        return Counter(day, self.today(day) + 1, hour, self.this_hour(hour) + 1)


@dataclass(frozen=True, slots=True)
class PoolState:
    credits: Mapping[str, float] = field(default_factory=dict)
    last_rep: str | None = None  # plain round-robin cursor
    debts: Mapping[str, float] = field(default_factory=dict)  # catch-up ledger, in leads
    paid: Mapping[str, Counter] = field(default_factory=dict)  # catch-up paid per local day
    last_was_catch_up: bool = False
    picks: int = 0


@dataclass(frozen=True, slots=True)
class RoutingState:
    pools: Mapping[str, PoolState] = field(default_factory=dict)
    reps: Mapping[str, Counter] = field(default_factory=dict)  # overall, per rep
    pool_reps: Mapping[str, Mapping[str, Counter]] = field(default_factory=dict)


def empty_state() -> RoutingState:
    return RoutingState()


def _counter_json(c: Counter) -> list[object]:
    return [c.day, c.day_count, c.hour, c.hour_count]


def _counter_from(raw: object) -> Counter:
    if not isinstance(raw, list) or len(raw) != 4:
        raise StateError(f"bad counter {raw!r}")
    return Counter(str(raw[0]), int(raw[1]), str(raw[2]), int(raw[3]))


def state_to_json(state: RoutingState) -> str:
    """Serialise ``state`` to stable, versioned JSON."""
    pools = {
        name: {
            "credits": {k: round(v, 12) + 0.0 for k, v in p.credits.items()},
            "last_rep": p.last_rep,
            "debts": {k: round(v, 12) + 0.0 for k, v in p.debts.items() if v},
            "paid": {k: _counter_json(c) for k, c in p.paid.items()},
            "last_was_catch_up": p.last_was_catch_up,
            "picks": p.picks,
        }
        for name, p in state.pools.items()
    }
    doc = {
        "v": STATE_VERSION,
        "pools": pools,
        "reps": {k: _counter_json(c) for k, c in state.reps.items()},
        "pool_reps": {
            pool: {k: _counter_json(c) for k, c in reps.items()}
            for pool, reps in state.pool_reps.items()
        },
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def state_from_json(text: str | None) -> RoutingState:
    """Parse :func:`state_to_json` output; None or "" gives the empty state.

    Raises:
        StateError: malformed JSON or an unknown version.
    """
    if not text:
        return RoutingState()
    try:
        doc = json.loads(text)
        if not isinstance(doc, dict) or doc.get("v") != STATE_VERSION:
            raise StateError(f"unsupported routing state version {doc.get('v')!r}")
        pools = {name: _pool_from(raw) for name, raw in doc.get("pools", {}).items()}
        reps = {k: _counter_from(v) for k, v in doc.get("reps", {}).items()}
        pool_reps = {
            pool: {k: _counter_from(v) for k, v in raw.items()}
            for pool, raw in doc.get("pool_reps", {}).items()
        }
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        if isinstance(exc, StateError):
            raise
        raise StateError(f"corrupt routing state: {exc}") from exc
    return RoutingState(pools=pools, reps=reps, pool_reps=pool_reps)


def _pool_from(raw: dict[str, object]) -> PoolState:
    credits = raw.get("credits", {})
    debts = raw.get("debts", {})
    paid = raw.get("paid", {})
    assert isinstance(credits, dict) and isinstance(debts, dict) and isinstance(paid, dict)
    last = raw.get("last_rep")
    picks = raw.get("picks", 0)
    return PoolState(
        credits={str(k): float(v) for k, v in credits.items()},
        last_rep=None if last is None else str(last),
        debts={str(k): float(v) for k, v in debts.items()},
        paid={str(k): _counter_from(v) for k, v in paid.items()},
        last_was_catch_up=bool(raw.get("last_was_catch_up", False)),
        picks=int(picks) if isinstance(picks, int | float | str) else 0,
    )
