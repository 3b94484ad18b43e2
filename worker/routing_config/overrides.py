"""Dashboard per-rep overrides: the same keys as a rep entry in the YAML (weight, caps,
tags, working_hours, timezone, holidays, out_of_office, enabled, disabled_reason, name),
validated by the same rules as the file."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from worker.routing.model import Rep, RoutingConfig
from worker.routing_config.dump import rep_to_raw
from worker.routing_config.problems import Collector, ConfigError, Problem
from worker.routing_config.reps import REP_KEYS, parse_rep

OVERRIDE_KEYS = tuple(k for k in REP_KEYS if k != "email")


def _apply_one(
    config: RoutingConfig, rep_key: str, data: Mapping[str, object]
) -> tuple[Rep | None, list[Problem]]:
    c = Collector(file="override")
    key = rep_key.lower()
    if key not in config.reps:
        c.error((key,), "unknown rep (not in the routing config)")
        return None, c.problems
    for k in data:
        if k not in OVERRIDE_KEYS:
            c.error((key, str(k)), f"unknown key (allowed: {', '.join(OVERRIDE_KEYS)})")
    raw: dict[str, Any] = rep_to_raw(config.reps[key])
    for k, v in data.items():
        if k == "caps" and isinstance(v, Mapping) and isinstance(raw.get("caps"), dict):
            raw["caps"] = {**raw["caps"], **v}  # a partial caps override keeps the other caps
        elif k in OVERRIDE_KEYS:
            raw[k] = _plain(v)
    rep = parse_rep(c, raw, (key,))
    return rep, c.problems


def _plain(v: object) -> object:
    """JSON overrides may carry tuples; YAML-shaped parsers expect lists."""
    return list(v) if isinstance(v, tuple) else v


def validate_rep_override(
    config: RoutingConfig, rep_key: str, data: Mapping[str, object]
) -> list[str]:
    """Messages (``rep.key: message``) for an override the dashboard wants to save; [] = valid."""
    _, problems = _apply_one(config, rep_key, data)
    return [f"{p.path}: {p.message}" for p in problems]


def apply_overrides(
    config: RoutingConfig, overrides: Mapping[str, Mapping[str, object]]
) -> RoutingConfig:
    """A new config with per-rep overrides (keyed by rep e-mail) applied.

    Raises:
        ConfigError: listing every invalid override.
    """
    reps = dict(config.reps)
    problems: list[Problem] = []
    for key, data in overrides.items():
        rep, found = _apply_one(config, key, data)
        problems.extend(found)
        if rep is not None and not found:
            reps[rep.key] = rep
    if problems:
        raise ConfigError(problems)
    return dataclasses.replace(config, reps=reps)
