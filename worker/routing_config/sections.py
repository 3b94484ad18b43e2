"""Parsing pools, territories and the settings sections the worker needs (intake,
write-back, retention, account matching)."""

from __future__ import annotations

from typing import Any

from worker.routing import normalise
from worker.routing.model import (
    AccountMatching,
    Band,
    BusinessHours,
    CatchUp,
    Intake,
    Pool,
    PoolMember,
    SlaPolicy,
    Subscribe,
    Target,
    Territory,
    Writeback,
)
from worker.routing_config.problems import Collector, norway_hint
from worker.routing_config.reps import _days, parse_block, parse_caps, parse_timezone
from worker.routing_config.yamlsrc import Path

POOL_KEYS = (
    "label",
    "method",
    "least_loaded_weighted",
    "members",
    "tags",
    "catch_up",
    "fallback",
    "sla",
)
METHODS = ("weighted_round_robin", "round_robin", "least_loaded")
SLA_KEYS = ("minutes", "working_hours_only", "untouched_statuses", "on_breach", "max_hops",
            "escalate_to")  # fmt: skip
BREACH_ACTIONS = ("reassign", "remind", "escalate")
TERRITORY_KEYS = ("name", "pool", "priority", "countries", "states", "postal_codes", "industries",
                  "employees", "revenue")  # fmt: skip
MATCHING_KEYS = ("enabled", "route_to_owner", "by_known_email", "by_email_domain", "by_website",
                 "by_name", "fuzzy_threshold", "corroborate_with")  # fmt: skip


_BARE = ("hold", "manager")  # targets written as a word, not {kind: NAME}


def parse_target(c: Collector, raw: Any, path: Path, kinds: tuple[str, ...]) -> Target | None:
    if raw in _BARE and raw in kinds:
        return Target(raw)
    forms = ", ".join(k if k in _BARE else "{" + k + ": NAME}" for k in kinds)
    if isinstance(raw, str):
        c.error(path, f"must be one of: {forms}, got {raw!r}")
        return None
    m = c.mapping(raw, path, [k for k in kinds if k not in _BARE])
    if not m or len(m) != 1:
        c.error(path, f"must be one of: {forms}")
        return None
    kind, name = next(iter(m.items()))
    text = c.text(name, (*path, kind), required=True)
    return Target(kind, text.lower() if kind == "rep" and text else text)  # type: ignore[arg-type]


def parse_member(c: Collector, raw: Any, path: Path) -> PoolMember | None:
    if isinstance(raw, str):
        return PoolMember(raw.strip().lower())
    m = c.mapping(raw, path, ("rep", "weight", "caps"), required=("rep",))
    if not m or m.get("rep") is None:
        return None
    rep = c.text(m["rep"], (*path, "rep"), required=True)
    weight = c.number(m.get("weight"), (*path, "weight"), positive=True)
    caps = parse_caps(c, m.get("caps"), (*path, "caps"), ("per_hour", "per_day"))
    return PoolMember(rep.lower(), weight, caps) if rep else None


def parse_catch_up(c: Collector, raw: Any, path: Path) -> CatchUp:
    if raw is None or raw in ("forgive", "full"):
        return CatchUp(raw or "forgive")
    m = c.mapping(raw, path, ("capped",))
    if not m or "capped" not in m:
        c.error(path, "must be forgive, full or {capped: N} (at most N extra leads per day)")
        return CatchUp()
    n = c.number(m["capped"], (*path, "capped"), positive=True, integer=True)
    return CatchUp("capped", int(n or 1))


def parse_sla(c: Collector, raw: Any, path: Path, on_breach: str = "reassign") -> SlaPolicy | None:
    """An ``sla:`` block (a pool's, a rule's or the default); ``on_breach`` is the
    action when the block names none."""
    m = c.mapping(raw, path, SLA_KEYS, required=("minutes",))
    if not m or m.get("minutes") is None:
        return None
    minutes = c.number(m["minutes"], (*path, "minutes"), positive=True, integer=True)
    action = c.choice(m.get("on_breach"), (*path, "on_breach"), BREACH_ACTIONS, on_breach)
    hops = c.number(m.get("max_hops"), (*path, "max_hops"), integer=True, minimum=0)
    statuses = [
        c.text(s, (*path, "untouched_statuses", i))
        for i, s in enumerate(c.seq(m.get("untouched_statuses"), (*path, "untouched_statuses")))
    ]
    esc = m.get("escalate_to")
    return SlaPolicy(
        minutes=int(minutes or 1),
        working_hours_only=c.flag(
            m.get("working_hours_only"), (*path, "working_hours_only"), False
        ),
        untouched_statuses=frozenset(s for s in statuses if s)
        or frozenset({"Open - Not Contacted"}),
        max_hops=2 if hops is None else int(hops),
        escalate_to=None
        if esc is None
        else parse_target(c, esc, (*path, "escalate_to"), ("rep", "pool", "queue", "manager")),
        on_breach=action,  # type: ignore[arg-type]
    )


def parse_pool(c: Collector, name: str, raw: Any, path: Path) -> Pool | None:
    m = c.mapping(raw, path, POOL_KEYS, required=("members",))
    if m is None:
        return None
    members = [
        parse_member(c, x, (*path, "members", i))
        for i, x in enumerate(c.seq(m.get("members"), (*path, "members")))
    ]
    tags = c.mapping(m.get("tags"), (*path, "tags"), ("mode", "fallback")) or {}
    fallback = [
        parse_target(c, x, (*path, "fallback", i), ("pool", "rep", "hold"))
        for i, x in enumerate(c.seq(m.get("fallback"), (*path, "fallback")))
    ]
    return Pool(
        name=name,
        label=c.text(m.get("label"), (*path, "label")),
        members=tuple(x for x in members if x is not None),
        method=c.choice(m.get("method"), (*path, "method"), METHODS, METHODS[0]),  # type: ignore[arg-type]
        least_loaded_weighted=c.flag(
            m.get("least_loaded_weighted"), (*path, "least_loaded_weighted"), False
        ),
        tags_mode=c.choice(
            tags.get("mode"), (*path, "tags", "mode"), ("ignore", "require", "prefer"), "ignore"
        ),  # type: ignore[arg-type]
        tags_fallback=c.choice(
            tags.get("fallback"), (*path, "tags", "fallback"), ("ignore", "overflow"), "overflow"
        ),  # type: ignore[arg-type]
        catch_up=parse_catch_up(c, m.get("catch_up"), (*path, "catch_up")),
        fallback=tuple(x for x in fallback if x is not None),
        sla=None if m.get("sla") is None else parse_sla(c, m["sla"], (*path, "sla")),
    )


def parse_band(c: Collector, raw: Any, path: Path) -> Band | None:
    if raw is None:
        return None
    m = c.mapping(raw, path, ("min", "max"))
    if not m:
        return None
    lo, hi = (
        c.number(m.get("min"), (*path, "min"), minimum=0),
        c.number(m.get("max"), (*path, "max"), minimum=0),
    )
    if lo is not None and hi is not None and lo > hi:
        c.error(path, f"min {lo:g} > max {hi:g}: no lead can fall in this band")
    return Band(lo, hi)


def _postal(
    c: Collector, raw: Any, path: Path
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    prefixes: list[str] = []
    ranges: list[tuple[str, str]] = []
    for i, x in enumerate(c.seq(raw, path)):
        text = (c.text(x, (*path, i)) or "").upper().replace(" ", "")
        lo, sep, hi = text.partition("-")
        if sep and lo and hi:
            if len(lo) != len(hi) or lo > hi:
                c.error((*path, i), f"range {text!r} must be low-high with equal lengths")
            ranges.append((lo, hi))
        elif text:
            prefixes.append(text)
    return tuple(prefixes), tuple(ranges)


def parse_territory(c: Collector, raw: Any, path: Path) -> Territory | None:
    m = c.mapping(raw, path, TERRITORY_KEYS, required=("name", "pool"))
    if not m or m.get("name") is None or m.get("pool") is None:
        return None
    countries: set[str] = set()
    for i, x in enumerate(c.seq(m.get("countries"), (*path, "countries"))):
        code = normalise.country_code(x)
        if code is None:
            c.error((*path, "countries", i), f"unknown country {x!r}{norway_hint(x)}")
        else:
            countries.add(code)
    states: set[str] = set()
    for i, x in enumerate(c.seq(m.get("states"), (*path, "states"))):
        code = normalise.state_code(x, None)
        for country in sorted(countries):
            code = code or normalise.state_code(x, country)
        if code is None:
            c.error(
                (*path, "states", i),
                f"unknown state {x!r} for countries {', '.join(sorted(countries)) or '(none)'}",
            )
        else:
            states.add(code)
    prefixes, ranges = _postal(c, m.get("postal_codes"), (*path, "postal_codes"))
    industries = {str(x).strip().lower() for x in c.seq(m.get("industries"), (*path, "industries"))}
    prio = c.number(m.get("priority"), (*path, "priority"), integer=True)
    return Territory(
        name=str(m["name"]), pool=str(m["pool"]), priority=int(prio or 0),
        countries=frozenset(countries), states=frozenset(states),
        postal_prefixes=prefixes, postal_ranges=ranges, industries=frozenset(industries),
        employees=parse_band(c, m.get("employees"), (*path, "employees")),
        revenue=parse_band(c, m.get("revenue"), (*path, "revenue")),
    )  # fmt: skip


def parse_intake(c: Collector, raw: Any, path: Path) -> Intake:
    m = c.mapping(raw, path, ("queues", "business_hours", "mode", "subscribe")) or {}
    queues = [
        q
        for i, x in enumerate(c.seq(m.get("queues"), (*path, "queues")))
        if (q := c.text(x, (*path, "queues", i)))
    ]
    bh = None
    if m.get("business_hours") is not None:
        bp = (*path, "business_hours")
        b = (
            c.mapping(
                m["business_hours"],
                bp,
                ("timezone", "days", "start", "end"),
                required=("timezone",),
            )
            or {}
        )
        days = _days(c, str(b.get("days", "mon-fri")), (*bp, "days"))
        block = parse_block(c, f"{b.get('start', '00:00')}-{b.get('end', '24:00')}", bp)
        bh = BusinessHours(
            parse_timezone(c, b.get("timezone"), (*bp, "timezone")),
            frozenset(days),
            block.start if block else 0,
            block.end if block else 1440,
        )
    mode = c.choice(m.get("mode"), (*path, "mode"), INTAKE_MODES, "poll")
    return Intake(
        tuple(queues) or ("Lead_Intake",),
        bh,
        mode,
        parse_subscribe(c, m.get("subscribe"), (*path, "subscribe")),
    )


INTAKE_MODES = ("poll", "subscribe")


def parse_subscribe(c: Collector, raw: Any, path: Path) -> Subscribe:
    """``intake.subscribe``: the change event channel, the micro-batch window and size,
    and the reconciliation sweep's interval."""
    keys = ("channel", "window_seconds", "max_batch", "sweep_seconds")
    m = c.mapping(raw, path, keys) or {}
    d = Subscribe()
    channel = c.text(m.get("channel"), (*path, "channel")) or d.channel
    if not channel.startswith("/data/"):
        c.error((*path, "channel"), f"must be a change event channel (/data/...), got {channel!r}")
        channel = d.channel
    window = c.number(m.get("window_seconds"), (*path, "window_seconds"), minimum=0)
    if window is not None and window > 10:
        c.error((*path, "window_seconds"), "must be <= 10 (it delays every lead)")
        window = None
    batch = c.number(m.get("max_batch"), (*path, "max_batch"), positive=True, integer=True)
    if batch is not None and batch > 2000:
        c.error((*path, "max_batch"), "must be <= 2000 (one read of leads by Id)")
        batch = None
    sweep = c.number(m.get("sweep_seconds"), (*path, "sweep_seconds"), minimum=5)
    return Subscribe(
        channel=channel,
        window_seconds=d.window_seconds if window is None else window,
        max_batch=d.max_batch if batch is None else int(batch),
        sweep_seconds=d.sweep_seconds if sweep is None else sweep,
    )


def parse_writeback(c: Collector, raw: Any, path: Path) -> Writeback:
    m = c.mapping(raw, path, ("reason_field", "conditional")) or {}
    field = c.text(m.get("reason_field"), (*path, "reason_field"))
    if field and not field.endswith("__c"):
        c.error(
            (*path, "reason_field"), f"must be a custom field API name ending in __c, got {field!r}"
        )
    conditional = c.flag(m.get("conditional"), (*path, "conditional"), True)
    if conditional is False:
        c.warn(
            (*path, "conditional"),
            "false writes owners with no precondition: a person's change between the "
            "worker's owner re-read and its write is overwritten (true, the default, "
            "costs one API call per 25 writes instead of per 200)",
        )
    return Writeback(field or None, conditional=bool(conditional))


def parse_matching(c: Collector, raw: Any, path: Path) -> AccountMatching:
    m = c.mapping(raw, path, MATCHING_KEYS) or {}
    d = AccountMatching()
    flags = {k: c.flag(m.get(k), (*path, k), getattr(d, k)) for k in MATCHING_KEYS[:6]}
    threshold = c.number(m.get("fuzzy_threshold"), (*path, "fuzzy_threshold"), minimum=50)
    if threshold is not None and threshold > 100:
        c.error((*path, "fuzzy_threshold"), "must be <= 100")
    corro = set()
    for i, x in enumerate(c.seq(m.get("corroborate_with"), (*path, "corroborate_with"))):
        if x not in ("domain", "country", "phone"):
            c.error((*path, "corroborate_with", i), f"must be domain, country or phone, got {x!r}")
        corro.add(str(x))
    return AccountMatching(**flags, fuzzy_threshold=threshold or d.fuzzy_threshold,
                           corroborate_with=frozenset(corro) if m.get("corroborate_with") is not None else d.corroborate_with)  # fmt: skip
