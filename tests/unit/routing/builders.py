"""Small builders for routing tests: a config, reps, a context and leads in one line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from worker.routing import (
    Account,
    Lead,
    Pool,
    PoolMember,
    Rep,
    RepStatus,
    RoutingConfig,
    RoutingContext,
    Rule,
)

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # a Monday


def a_rep(key: str, **kw: object) -> Rep:
    kw.setdefault("name", key.split("@")[0].title())
    return Rep(key=key, **kw)  # type: ignore[arg-type]


def a_pool(name: str, reps: Iterable[str | tuple[str, float]], **kw: object) -> Pool:
    members = tuple(
        PoolMember(r) if isinstance(r, str) else PoolMember(r[0], weight=r[1]) for r in reps
    )
    return Pool(name=name, members=members, **kw)  # type: ignore[arg-type]


def a_config(
    reps: Iterable[Rep], pools: Iterable[Pool], rules: Iterable[Rule] | None = None, **kw: object
) -> RoutingConfig:
    pools = list(pools)
    rules = list(rules) if rules is not None else [Rule("default", "pool", pool=pools[0].name)]
    return RoutingConfig(
        reps={r.key: r for r in reps}, pools={p.name: p for p in pools}, rules=tuple(rules), **kw
    )  # type: ignore[arg-type]


def uid(key: str) -> str:
    return "005" + key.split("@")[0].ljust(12, "x")[:12]


def a_context(
    reps: Iterable[str],
    *,
    accounts: Iterable[Account] = (),
    inactive: Iterable[str] = (),
    open_leads: Mapping[str, int] | None = None,
    **kw: object,
) -> RoutingContext:
    off, load = set(inactive), open_leads or {}
    statuses = {k: RepStatus(k, uid(k), k not in off, load.get(k, 0)) for k in reps}
    return RoutingContext(accounts=tuple(accounts), reps=statuses, **kw)  # type: ignore[arg-type]


def a_lead(lead_id: str = "00Q1", **fields: object) -> Lead:
    return Lead(lead_id, fields)
