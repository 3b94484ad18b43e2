"""``load_config``: YAML file -> validated, frozen :class:`RoutingConfig`, or a
:class:`ConfigError` listing every problem (file, line, key path, what is wrong)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worker.routing.config_model import DEFAULT_SLA
from worker.routing.model import Rep, RoutingConfig
from worker.routing_config.checks import check_all, check_slas
from worker.routing_config.problems import Collector, ConfigError, Problem
from worker.routing_config.reps import parse_rep
from worker.routing_config.rules import parse_rule, parse_tag_rule
from worker.routing_config.sections import (
    parse_intake,
    parse_matching,
    parse_pool,
    parse_sla,
    parse_territory,
    parse_writeback,
)
from worker.routing_config.yamlsrc import YamlSyntaxError, format_path, load_yaml

MAX_CONFIG_CHARS = 2_000_000  # ~4,000 reps; the example with 40 reps is 20 kB
# `notifications` is validated by worker.notify.config (the notifier owns its section).
TOP_KEYS = ("version", "intake", "writeback", "retention_days", "account_matching", "sla",
            "reps", "pools", "territories", "lead_tags", "rules", "notifications")  # fmt: skip


@dataclass
class CheckResult:
    config: RoutingConfig | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # the parsed YAML and each key path's line: the other sections of the same file
    # (notifications) are validated from these, not by reading the file again
    document: Any = None
    lines: dict[Any, int] = field(default_factory=dict)


def _reps(c: Collector, raw: Any) -> dict[str, Rep]:
    reps: dict[str, Rep] = {}
    for i, item in enumerate(c.seq(raw, ("reps",))):
        rep = parse_rep(c, item, ("reps", i))
        if rep is None:
            continue
        if rep.key in reps:
            c.error(("reps", i, "email"), f"duplicate rep {rep.key}")
        reps[rep.key] = rep
    return reps


def build(c: Collector, data: Any) -> RoutingConfig:
    top = c.mapping(data, (), TOP_KEYS, required=("reps", "pools", "rules"))
    if top is None:  # not a mapping: every further message would only repeat that
        return RoutingConfig(reps={}, pools={}, rules=(), source=c.file)
    if top.get("version", 1) != 1:
        c.error(("version",), "unsupported version (this leadrouter reads version 1)")
    reps = _reps(c, top.get("reps"))
    raw_pools = top.get("pools")
    names = [str(k) for k in raw_pools] if isinstance(raw_pools, dict) else []  # `pools: 5`
    pools_raw = c.mapping(raw_pools, ("pools",), names) or {}
    pools = {n: p for n, raw in pools_raw.items() if (p := parse_pool(c, n, raw, ("pools", n)))}
    terr = [
        parse_territory(c, x, ("territories", i))
        for i, x in enumerate(c.seq(top.get("territories"), ("territories",)))
    ]
    territories = [t for t in terr if t is not None]
    rules = [
        r
        for i, x in enumerate(c.seq(top.get("rules"), ("rules",)))
        if (r := parse_rule(c, x, ("rules", i)))
    ]
    tags = [
        t
        for i, x in enumerate(c.seq(top.get("lead_tags"), ("lead_tags",)))
        if (t := parse_tag_rule(c, x, ("lead_tags", i)))
    ]
    retention = c.number(
        top.get("retention_days"), ("retention_days",), positive=True, integer=True
    )
    sla = None if top.get("sla") is None else parse_sla(c, top["sla"], ("sla",), "escalate")
    check_all(c, reps, pools, rules, territories, sla)
    check_slas(c, reps, pools, rules, sla, top.get("notifications"))
    matching = parse_matching(c, top.get("account_matching"), ("account_matching",))
    for i, rule in enumerate(rules):
        if rule.action == "account_owner" and not matching.enabled:
            c.error(("rules", i, "action"), "can never match: account_matching.enabled is false")
    return RoutingConfig(
        reps=reps, pools=pools, rules=tuple(rules),
        territories=tuple(sorted(territories, key=lambda t: -t.priority)),
        lead_tags=tuple(tags),
        account_matching=matching,
        intake=parse_intake(c, top.get("intake"), ("intake",)),
        writeback=parse_writeback(c, top.get("writeback"), ("writeback",)),
        retention_days=int(retention or 90), source=c.file, sla=sla or DEFAULT_SLA,
    )  # fmt: skip


def check_text(text: str, file: str | None = None) -> CheckResult:
    """Parse and validate YAML text; never raises for config mistakes."""
    c = Collector(file=file)
    if len(text) > MAX_CONFIG_CHARS:  # parsing 5 MB of YAML takes a minute: refuse it
        why = f"larger than {MAX_CONFIG_CHARS:,} characters: not a routing config"
        return CheckResult(None, [Problem("(file)", why, None, file)])
    try:
        data, lines, dupes = load_yaml(text)
    except YamlSyntaxError as exc:
        where = format_path(exc.path) if exc.path else "(file)"
        return CheckResult(None, [Problem(where, str(exc), exc.line, file)])
    c.lines = lines
    for path, line in dupes:
        c.problems.append(Problem(format_path(path), "duplicate key", line, file))
    config = build(c, data)
    return CheckResult(None if c.problems else config, c.problems, c.warnings, data, lines)


def check_config(path: str | Path) -> CheckResult:
    """Like :func:`load_config` but returns errors and warnings instead of raising
    (``FileNotFoundError`` still propagates)."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        why = f"not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start})"
        return CheckResult(None, [Problem("(file)", why, line, str(path))])
    return check_text(text, str(path))


def load_config(path: str | Path) -> RoutingConfig:
    """Load and validate a routing config file.

    Raises:
        ConfigError: with every problem found (``.problems``).
        FileNotFoundError: no such file.
    """
    result = check_config(path)
    if result.config is None:
        raise ConfigError(result.errors)
    return result.config


def parse_config(text: str, file: str | None = None) -> RoutingConfig:
    """Validate YAML text (e.g. an upload in the dashboard); raises :class:`ConfigError`."""
    result = check_text(text, file)
    if result.config is None:
        raise ConfigError(result.errors)
    return result.config
