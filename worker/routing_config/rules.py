"""Parsing rule conditions, rules and lead-tag rules."""

from __future__ import annotations

import re
from typing import Any

from worker.routing import normalise
from worker.routing.conditions import COUNTRY_FIELDS, PSEUDO_FIELDS, STATE_FIELDS
from worker.routing.model import CONDITION_OPS, Condition, Rule, SlaPolicy, TagRule
from worker.routing_config.problems import Collector, norway_hint
from worker.routing_config.regex_safety import regex_problem
from worker.routing_config.sections import parse_sla
from worker.routing_config.yamlsrc import Path

_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_SUGAR = ("gte", "lte")
RULE_KEYS = ("name", "when", "territory", "action", "reason", "sla")
ACTIONS = ("hold", "stop", "account_owner", "territory")


def _norm_geo(c: Collector, field: str, value: Any, path: Path, countries: set[str]) -> Any:
    if field in COUNTRY_FIELDS:
        code = normalise.country_code(value)
        if code is None:
            c.error(path, f"unknown country {value!r}{norway_hint(value)}")
            return value
        countries.add(code)
        return code
    if field in STATE_FIELDS:
        code = normalise.state_code(value, None)
        for country in sorted(countries):
            code = code or normalise.state_code(value, country)
        if code is None:
            c.error(
                path,
                f"unknown state {value!r}: use an ISO 3166-2 code like US-CA, or add a "
                "Country condition before it",
            )
            return value
        return code
    return value


def parse_condition(c: Collector, raw: Any, path: Path, countries: set[str]) -> Condition | None:
    m = c.mapping(raw, path, ("field", *CONDITION_OPS, *_SUGAR), required=("field",))
    if m is None or m.get("field") is None:
        return None
    field = str(m.pop("field"))
    if not (_FIELD.match(field) or field in PSEUDO_FIELDS):
        c.error(
            (*path, "field"),
            f"not a field API name: {field!r} (pseudo-fields: {', '.join(PSEUDO_FIELDS)})",
        )
    if len(m) != 1:
        c.error(path, f"needs exactly one operator ({', '.join(CONDITION_OPS)}, gte, lte)")
        return None
    op, value = next(iter(m.items()))
    p = (*path, op)
    if op in _SUGAR:
        if c.number(value, p) is None:
            c.error(p, "must be a number")
            return None
        return Condition(field, "between", (value, None) if op == "gte" else (None, value))
    if op in ("in", "not_in", "starts_with", "contains"):
        items = value if isinstance(value, list) else [value]
        if op in ("in", "not_in") and not isinstance(value, list):
            c.error(p, "must be a list")
        if not items:
            c.error(p, "empty list: the condition can never match")
        items = [_norm_geo(c, field, v, (*p, i), countries) for i, v in enumerate(items)]
        return Condition(field, op, tuple(items))  # type: ignore[arg-type]
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            c.error(p, "must be [low, high] (use null for an open end)")
            return None
        lo, hi = (c.number(v, (*p, i)) for i, v in enumerate(value))
        if lo is not None and hi is not None and lo > hi:
            c.error(p, f"low {lo:g} > high {hi:g}: the condition can never match")
        return Condition(field, "between", (lo, hi))
    if op in ("is_blank", "not_blank"):
        if value is not True:
            c.error(p, "must be true")
        return Condition(field, op, None)  # type: ignore[arg-type]
    if op == "regex":
        problem = regex_problem(str(value))
        if problem:
            c.error(p, problem)
            return None
    if value is None or isinstance(value, list | dict):
        c.error(p, "must be a single value")
        return None
    return Condition(field, op, _norm_geo(c, field, value, p, countries))  # type: ignore[arg-type]


def parse_when(c: Collector, raw: Any, path: Path) -> tuple[tuple[Condition, ...], str]:
    """``when`` is a list (all must match) or ``{all: [...]}`` / ``{any: [...]}``."""
    if raw is None:
        return (), "all"
    mode = "all"
    items = raw
    if isinstance(raw, dict):
        m = c.mapping(raw, path, ("all", "any"))
        if not m or len(m) != 1:
            c.error(path, "use exactly one of all: [...] or any: [...]")
            return (), "all"
        mode, items = next(iter(m.items()))
        path = (*path, mode)
    countries: set[str] = set()
    conds = [parse_condition(c, x, (*path, i), countries) for i, x in enumerate(c.seq(items, path))]
    if not conds and raw is not None:
        c.error(path, "no conditions: leave `when` out for a rule that matches every lead")
    return tuple(x for x in conds if x is not None), mode


def parse_rule(c: Collector, raw: Any, path: Path) -> Rule | None:
    m = c.mapping(raw, path, RULE_KEYS, required=("name", "action"))
    if m is None or m.get("name") is None or m.get("action") is None:
        return None
    before = len(c.problems)
    conds, mode = parse_when(c, m.get("when"), (*path, "when"))
    if len(c.problems) > before:  # without its broken condition it would match every lead
        return None
    action, pool = m["action"], None
    if isinstance(action, dict):
        am = c.mapping(action, (*path, "action"), ("pool",), required=("pool",))
        pool = c.text((am or {}).get("pool"), (*path, "action", "pool"))
        action = "pool"
    elif action not in ACTIONS:
        c.error(
            (*path, "action"),
            f"must be one of {', '.join(ACTIONS)} or {{pool: NAME}}, got {action!r}",
        )
        return None
    return Rule(
        name=str(m["name"]),
        action=action,
        conditions=conds,
        match=mode,  # type: ignore[arg-type]
        territory=c.text(m.get("territory"), (*path, "territory")),
        pool=pool,
        reason=c.text(m.get("reason"), (*path, "reason")),
        sla=_rule_sla(c, m.get("sla"), (*path, "sla"), action),
    )


def _rule_sla(c: Collector, raw: Any, path: Path, action: str) -> SlaPolicy | None:
    """A rule's own SLA. An account owner's lead has no pool to move within: its misses
    are escalated unless the block says otherwise, and it cannot be re-assigned."""
    if raw is None:
        return None
    if action in ("hold", "stop"):
        c.error(path, f"a rule with action {action} assigns nobody: there is no SLA to keep")
        return None
    owner = action == "account_owner"
    sla = parse_sla(c, raw, path, on_breach="escalate" if owner else "reassign")
    if sla is not None and owner and sla.on_breach == "reassign":
        c.error(
            (*path, "on_breach"),
            "reassign needs a pool, and a lead routed to its account owner has none: "
            "use remind or escalate",
        )
    return sla


def parse_tag_rule(c: Collector, raw: Any, path: Path) -> TagRule | None:
    m = c.mapping(raw, path, ("tag", "when", "field", "prefix"))
    if m is None:
        return None
    if (m.get("tag") is None) == (m.get("field") is None):
        c.error(path, "set either tag (with when) or field (with an optional prefix)")
        return None
    if m.get("field") is not None:
        field = c.text(m["field"], (*path, "field"))
        if field is not None and not _FIELD.match(field):  # it goes into the intake SELECT
            c.error((*path, "field"), f"not a field API name: {field!r}")
            return None
        return TagRule(
            field=field,
            prefix=(c.text(m.get("prefix"), (*path, "prefix")) or "").lower(),
        )
    conds, mode = parse_when(c, m.get("when"), (*path, "when"))
    if not conds:
        c.error((*path, "when"), "is required with tag")
    tag = c.text(m["tag"], (*path, "tag"))
    return TagRule(tag=tag.lower() if tag else None, conditions=conds, match=mode)  # type: ignore[arg-type]
