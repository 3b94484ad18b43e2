"""Per-config and per-context memos: compiled rule conditions, the account index and the
user-id -> rep map. Pure caches keyed weakly by object identity (configs and contexts are
immutable), so routing the next lead with the same objects costs no recompilation."""

from __future__ import annotations

from dataclasses import dataclass
from weakref import WeakKeyDictionary

from worker.routing.conditions import CompiledCondition, FastRule, compile_condition, fast_rule
from worker.routing.matching import AccountIndex
from worker.routing.model import RoutingConfig, RoutingContext, Rule, TagRule, Territory
from worker.routing.territories import by_country


@dataclass(frozen=True)
class CompiledConfig:
    rules: tuple[tuple[Rule, tuple[CompiledCondition, ...]], ...]
    fast_rules: tuple[FastRule, ...]
    tag_rules: tuple[tuple[TagRule, tuple[CompiledCondition, ...]], ...]
    pool_of_rep: dict[str, tuple[str, ...]]
    territories_by_country: dict[str | None, tuple[Territory, ...]]


@dataclass(frozen=True)
class ContextCache:
    index: AccountIndex
    rep_of_user: dict[str, str]


_CONFIGS: WeakKeyDictionary[RoutingConfig, CompiledConfig] = WeakKeyDictionary()
_CONTEXTS: WeakKeyDictionary[RoutingContext, ContextCache] = WeakKeyDictionary()


def compiled(config: RoutingConfig) -> CompiledConfig:
    hit = _CONFIGS.get(config)
    if hit is None:
        pools: dict[str, list[str]] = {}
        for p in config.pools.values():
            for m in p.members:
                pools.setdefault(m.rep, []).append(p.name)
        rules = tuple((r, tuple(map(compile_condition, r.conditions))) for r in config.rules)
        fast = tuple(fast_rule(r.name, r.match, conds) for r, conds in rules)
        hit = CompiledConfig(
            rules=rules,
            fast_rules=fast,
            tag_rules=tuple(
                (t, tuple(map(compile_condition, t.conditions))) for t in config.lead_tags
            ),
            pool_of_rep={k: tuple(v) for k, v in pools.items()},
            territories_by_country=by_country(config.territories),
        )
        _CONFIGS[config] = hit
    return hit


def context_cache(context: RoutingContext) -> ContextCache:
    hit = _CONTEXTS.get(context)
    if hit is None:
        index = context.account_index
        if not isinstance(index, AccountIndex):
            index = AccountIndex.build(context.accounts)
        rep_of_user = {s.user_id: k for k, s in context.reps.items() if s.user_id}
        hit = ContextCache(index, rep_of_user)
        _CONTEXTS[context] = hit
    return hit
