"""Dashboard overrides, per rep: the same keys as a rep entry in the YAML (weight, caps,
tags, working_hours, timezone, holidays, out_of_office, enabled, disabled_reason, name),
plus ``pools``: the rep's own terms in the pools it belongs to, with the keys of a pool
member entry (``pools: {enterprise: {weight: 0.5, caps: {per_day: 10}}}``). A key the
override does not hold keeps the file's value; a ``null`` member weight or cap removes
the pool's own value, so the rep's value applies (see :mod:`worker.routing.members`).

Everything is validated by the same parsers as the file, so an override can never hold
what ``leadrouter config check`` would refuse.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from worker.routing.model import Pool, PoolMember, Rep, RoutingConfig
from worker.routing_config.dump import member_to_raw, rep_to_raw
from worker.routing_config.problems import Collector, ConfigError, Problem
from worker.routing_config.reps import REP_KEYS, parse_rep
from worker.routing_config.sections import parse_member

REP_OVERRIDE_KEYS = tuple(k for k in REP_KEYS if k != "email")
MEMBER_OVERRIDE_KEYS = ("weight", "caps")
OVERRIDE_KEYS = (*REP_OVERRIDE_KEYS, "pools")

Members = dict[str, PoolMember]  # pool name -> the rep's overridden membership


def _merged(raw: dict[str, Any], data: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    """Apply override ``data`` onto the file's ``raw`` entry: a partial ``caps`` keeps the
    other caps, and ``None`` removes a key (the file's value, or the default, applies)."""
    for k, v in data.items():
        if k not in keys:
            continue
        if k == "caps" and isinstance(v, Mapping):
            caps = {**(raw.get("caps") or {}), **v}
            raw["caps"] = {n: c for n, c in caps.items() if c is not None}
        elif v is None:
            raw.pop(k, None)
        else:
            raw[k] = _plain(v)


def _plain(v: object) -> object:
    """JSON overrides may carry tuples; YAML-shaped parsers expect lists."""
    return list(v) if isinstance(v, tuple) else v


def _members(c: Collector, config: RoutingConfig, key: str, raw: object) -> Members:
    """The rep's memberships as overridden (validated like the file's member entries)."""
    out: Members = {}
    if not isinstance(raw, Mapping):
        c.error((key, "pools"), "must map pool names to {weight, caps}")
        return out
    for pool_name, data in raw.items():
        path = (key, "pools", str(pool_name))
        pool = config.pools.get(str(pool_name))
        member = next((m for m in pool.members if m.rep == key), None) if pool else None
        if pool is None or member is None:
            c.error(path, "unknown pool" if pool is None else "the rep is not a member of it")
            continue
        if not isinstance(data, Mapping):
            c.error(path, "must be a mapping with weight and/or caps")
            continue
        for k in data:
            if k not in MEMBER_OVERRIDE_KEYS:
                c.error((*path, str(k)), "unknown key (allowed: weight, caps)")
        entry = member_to_raw(member)
        entry = dict(entry) if isinstance(entry, dict) else {"rep": entry}
        _merged(entry, data, MEMBER_OVERRIDE_KEYS)
        parsed = parse_member(c, entry, path)
        if parsed is not None:
            out[pool.name] = parsed
    return out


def _apply_one(
    config: RoutingConfig, rep_key: str, data: Mapping[str, object]
) -> tuple[Rep | None, Members, list[Problem]]:
    c = Collector(file="override")
    key = rep_key.lower()
    if key not in config.reps:
        c.error((key,), "unknown rep (not in the routing config)")
        return None, {}, c.problems
    for k in data:
        if k not in OVERRIDE_KEYS:
            c.error((key, str(k)), f"unknown key (allowed: {', '.join(OVERRIDE_KEYS)})")
    raw: dict[str, Any] = rep_to_raw(config.reps[key])
    _merged(raw, data, REP_OVERRIDE_KEYS)
    rep = parse_rep(c, raw, (key,))
    members = _members(c, config, key, data["pools"]) if data.get("pools") else {}
    return rep, members, c.problems


def validate_rep_override(
    config: RoutingConfig, rep_key: str, data: Mapping[str, object]
) -> list[str]:
    """Messages (``rep.key: message``) for an override the dashboard wants to save; [] = valid."""
    _, _, problems = _apply_one(config, rep_key, data)
    return [f"{p.path}: {p.message}" for p in problems]


def _with_members(pool: Pool, rep: str, member: PoolMember) -> Pool:
    members = tuple(member if m.rep == rep else m for m in pool.members)
    return dataclasses.replace(pool, members=members)


def apply_overrides(
    config: RoutingConfig, overrides: Mapping[str, Mapping[str, object]]
) -> RoutingConfig:
    """A new config with per-rep overrides (keyed by rep e-mail) applied.

    Raises:
        ConfigError: listing every invalid override.
    """
    effective, problems = apply_valid_overrides(config, overrides)
    if problems:
        raise ConfigError(problems)
    return effective


def apply_valid_overrides(
    config: RoutingConfig, overrides: Mapping[str, Mapping[str, object]]
) -> tuple[RoutingConfig, list[Problem]]:
    """Like :func:`apply_overrides`, but an invalid rep override is left out (the file's
    values apply to that rep) and its problems are returned instead of raised: the worker
    keeps routing when the file changed under an old override (a rep removed from a pool)."""
    reps = dict(config.reps)
    pools = dict(config.pools)
    problems: list[Problem] = []
    for key, data in overrides.items():
        rep, members, found = _apply_one(config, key, data)
        problems.extend(found)
        if rep is None or found:
            continue
        reps[rep.key] = rep
        for pool_name, member in members.items():
            pools[pool_name] = _with_members(pools[pool_name], rep.key, member)
    if not problems and reps == dict(config.reps) and pools == dict(config.pools):
        return config, []
    return dataclasses.replace(config, reps=reps, pools=pools), problems
