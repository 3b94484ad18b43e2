"""``dump_config``: the effective config back to YAML that ``load_config`` accepts."""

from __future__ import annotations

from typing import Any

import yaml

from worker.routing.model import (
    Band,
    Caps,
    Condition,
    Pool,
    PoolMember,
    Rep,
    RoutingConfig,
    Rule,
    SlaPolicy,
    Subscribe,
    TagRule,
    Target,
    Territory,
    TimeBlock,
)  # fmt: skip
from worker.routing_config.reps import DAYS, fmt_minutes


def _caps(c: Caps) -> dict[str, int]:
    return {
        k: v
        for k, v in (("per_hour", c.per_hour), ("per_day", c.per_day), ("max_open", c.max_open))
        if v is not None
    }


def _hours(week: tuple[tuple[TimeBlock, ...], ...]) -> dict[str, list[str]]:
    return {DAYS[d]: [f"{fmt_minutes(b.start)}-{fmt_minutes(b.end)}" for b in blocks]
            for d, blocks in enumerate(week) if blocks}  # fmt: skip


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def rep_to_raw(r: Rep) -> dict[str, Any]:
    out: dict[str, Any] = {
        "email": r.key,
        "name": r.name,
        "timezone": r.timezone,
        "weight": _num(r.weight),
    }
    if _caps(r.caps):
        out["caps"] = _caps(r.caps)
    if r.tags:
        out["tags"] = sorted(r.tags)
    if r.working_hours is not None:
        out["working_hours"] = _hours(r.working_hours)
    if r.holidays:
        out["holidays"] = r.holidays
    if r.out_of_office:
        out["out_of_office"] = [
            {"from": d.start.isoformat(), "to": d.end.isoformat()} for d in r.out_of_office
        ]
    out["enabled"] = r.enabled
    if r.disabled_reason:
        out["disabled_reason"] = r.disabled_reason
    return out


def _target(t: Target) -> Any:
    return t.kind if t.kind in ("hold", "manager") else {t.kind: t.name}


def _sla(s: SlaPolicy) -> dict[str, Any]:
    out: dict[str, Any] = {
        "minutes": s.minutes,
        "working_hours_only": s.working_hours_only,
        "untouched_statuses": sorted(s.untouched_statuses),
        "on_breach": s.on_breach,
        "max_hops": s.max_hops,
    }
    if s.escalate_to:
        out["escalate_to"] = _target(s.escalate_to)
    return out


def member_to_raw(m: PoolMember) -> str | dict[str, Any]:
    """A pool member as written in the file: the e-mail, or ``{rep, weight, caps}``."""
    entry: dict[str, Any] = {"rep": m.rep}
    if m.weight is not None:
        entry["weight"] = _num(m.weight)
    if _caps(m.caps):
        entry["caps"] = _caps(m.caps)
    return entry if len(entry) > 1 else m.rep


def _pool(p: Pool) -> dict[str, Any]:
    members = [member_to_raw(m) for m in p.members]
    out: dict[str, Any] = {"label": p.label} if p.label else {}
    out |= {
        "method": p.method,
        "members": members,
        "tags": {"mode": p.tags_mode, "fallback": p.tags_fallback},
    }
    if p.least_loaded_weighted:
        out["least_loaded_weighted"] = True
    out["catch_up"] = (
        {"capped": p.catch_up.per_day} if p.catch_up.policy == "capped" else p.catch_up.policy
    )
    if p.fallback:
        out["fallback"] = [_target(t) for t in p.fallback]
    if p.sla:
        out["sla"] = _sla(p.sla)
    return out


def _cond(c: Condition) -> dict[str, Any]:
    if c.op in ("is_blank", "not_blank"):
        return {"field": c.field, c.op: True}
    if c.op == "between":
        bounds = c.value if isinstance(c.value, tuple) else (None, None)
        return {"field": c.field, "between": [_num(x) if x is not None else None for x in bounds]}
    value = list(c.value) if isinstance(c.value, tuple) else c.value
    return {"field": c.field, c.op: value}


def _when(conds: tuple[Condition, ...], mode: str) -> dict[str, Any]:
    return {"when": {mode: [_cond(c) for c in conds]}} if conds else {}


def _rule(r: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {"name": r.name} | _when(r.conditions, r.match)
    if r.territory:
        out["territory"] = r.territory
    out["action"] = {"pool": r.pool} if r.action == "pool" else r.action
    if r.reason:
        out["reason"] = r.reason
    if r.sla:
        out["sla"] = _sla(r.sla)
    return out


def _band(b: Band | None) -> dict[str, Any] | None:
    return (
        None if b is None else {k: v for k, v in (("min", b.low), ("max", b.high)) if v is not None}
    )


def _territory(t: Territory) -> dict[str, Any]:
    out: dict[str, Any] = {"name": t.name, "pool": t.pool, "priority": t.priority}
    for key, value in (("countries", sorted(t.countries)), ("states", sorted(t.states)),
                       ("postal_codes", [*t.postal_prefixes, *(f"{a}-{b}" for a, b in t.postal_ranges)]),
                       ("industries", sorted(t.industries))):  # fmt: skip
        if value:
            out[key] = value
    for key, band in (("employees", t.employees), ("revenue", t.revenue)):
        if band is not None:
            out[key] = _band(band)
    return out


def _tag(t: TagRule) -> dict[str, Any]:
    if t.field:
        return {"field": t.field, "prefix": t.prefix}
    return {"tag": t.tag} | _when(t.conditions, t.match)


def config_to_raw(cfg: RoutingConfig) -> dict[str, Any]:
    am = cfg.account_matching
    intake: dict[str, Any] = {"queues": list(cfg.intake.queues)}
    if cfg.intake.business_hours:
        bh = cfg.intake.business_hours
        intake["business_hours"] = {"timezone": bh.timezone, "days": ",".join(DAYS[d] for d in sorted(bh.days)),
                                    "start": fmt_minutes(bh.start), "end": fmt_minutes(bh.end)}  # fmt: skip
    if cfg.intake.mode != "poll" or cfg.intake.subscribe != Subscribe():
        sub = cfg.intake.subscribe
        intake["mode"] = cfg.intake.mode
        intake["subscribe"] = {"channel": sub.channel, "window_seconds": sub.window_seconds,
                               "max_batch": sub.max_batch, "sweep_seconds": sub.sweep_seconds}  # fmt: skip
    return {
        "version": 1,
        "intake": intake,
        "writeback": {
            "reason_field": cfg.writeback.reason_field,
            "conditional": cfg.writeback.conditional,
        },
        "retention_days": cfg.retention_days,
        "account_matching": {
            "enabled": am.enabled,
            "route_to_owner": am.route_to_owner,
            "by_known_email": am.by_known_email,
            "by_email_domain": am.by_email_domain,
            "by_website": am.by_website,
            "by_name": am.by_name,
            "fuzzy_threshold": _num(am.fuzzy_threshold),
            "corroborate_with": sorted(am.corroborate_with),
        },  # fmt: skip
        "sla": _sla(cfg.sla),
        "reps": [rep_to_raw(r) for r in cfg.reps.values()],
        "pools": {name: _pool(p) for name, p in cfg.pools.items()},
        "territories": [_territory(t) for t in cfg.territories],
        "lead_tags": [_tag(t) for t in cfg.lead_tags],
        "rules": [_rule(r) for r in cfg.rules],
    }


def dump_config(cfg: RoutingConfig) -> str:
    """YAML text of the effective config (after overrides); round-trips through load_config."""
    header = (
        "# Effective leadrouter routing config (generated; comments of the source are not kept)\n"
    )
    return header + yaml.safe_dump(
        config_to_raw(cfg), sort_keys=False, allow_unicode=True, width=100
    )
