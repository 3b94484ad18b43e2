"""Cross-checks over the parsed config: references, empty pools, fallbacks never tried
and overflow cycles, rules that can never match, territory overlaps without an explicit
priority."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from worker.routing.model import Condition, Pool, Rep, Rule, SlaPolicy, Target, Territory
from worker.routing.overflow import Hop, overflow_order
from worker.routing_config.problems import Collector
from worker.routing_config.yamlsrc import Path, format_path


def check_all(
    c: Collector, reps: Mapping[str, Rep], pools: Mapping[str, Pool],
    rules: Sequence[Rule], territories: Sequence[Territory], sla: SlaPolicy | None = None,
) -> None:  # fmt: skip
    _check_pools(c, reps, pools)
    _check_overflow(c, pools)
    _check_rules(c, pools, rules, {t.name for t in territories})
    _check_territories(c, pools, territories)
    targets = [t for p in pools.values() for t in p.fallback]
    targets += [s.escalate_to for _, s in sla_blocks(pools, rules, sla) if s.escalate_to]
    used = {m.rep for p in pools.values() for m in p.members}
    used |= {t.name for t in targets if t.kind == "rep" and t.name}
    for i, key in enumerate(reps):
        if key not in used:
            c.warn(("reps", i), f"{key} is in no pool and no fallback/escalation: never routed to")
    reached = {r.pool for r in rules} | {t.pool for t in territories}
    reached |= {t.name for t in targets if t.kind == "pool"}
    for name in pools:
        if name not in reached:
            c.warn(("pools", name), "no rule, territory or fallback leads here: never used")


def sla_blocks(
    pools: Mapping[str, Pool], rules: Sequence[Rule], default: SlaPolicy | None
) -> list[tuple[Path, SlaPolicy]]:
    """Every ``sla:`` block written in the file, with its key path."""
    out: list[tuple[Path, SlaPolicy]] = [
        (("pools", name, "sla"), p.sla) for name, p in pools.items() if p.sla
    ]
    out += [(("rules", i, "sla"), r.sla) for i, r in enumerate(rules) if r.sla]
    return out + ([(("sla",), default)] if default else [])


def check_slas(
    c: Collector, reps: Mapping[str, Rep], pools: Mapping[str, Pool], rules: Sequence[Rule],
    default: SlaPolicy | None, notifications: Any,
) -> None:  # fmt: skip
    """Escalation targets of rule and default SLAs (pools': :func:`_check_pools`), and a
    warning for a step that only notifies when no notification would carry it."""
    for path, sla in sla_blocks(pools, rules, default):
        if sla.escalate_to and path[0] != "pools":
            _check_target(c, sla.escalate_to, (*path, "escalate_to"), reps, pools)
        if sla.escalate_to == Target("manager"):
            why = _unheard(notifications, "sla_escalated", "sla_reassigned")
            if why:
                c.warn((*path, "escalate_to"), f"manager is only told by a notification, and {why}: "
                       "the journal records the miss, the manager never hears of it")  # fmt: skip
        if sla.on_breach == "remind":
            why = _unheard(notifications, "sla_missed", "sla_reminder")
            if why:
                c.warn((*path, "on_breach"), f"remind only sends a notification, and {why}: "
                       "the owner is never reminded")  # fmt: skip


def _unheard(notifications: Any, event: str, borrowed: str) -> str | None:
    """Why no notification would carry ``event`` (it borrows ``borrowed``'s route), or
    None. Reads the raw section: its own loader reports its mistakes."""
    if not isinstance(notifications, dict) or notifications.get("enabled", True) is False:
        return "notifications are off (no `notifications:` section, or enabled: false)"
    tables = [notifications.get("events")]
    pools = notifications.get("pools")
    tables += list(pools.values()) if isinstance(pools, dict) else []
    if any(isinstance(t, dict) and (event in t or borrowed in t) for t in tables):
        return None
    return f"notifications.events routes neither {event} nor {borrowed}"


def _check_target(c: Collector, t: Target, path: tuple[str | int, ...], reps: Mapping[str, Rep],
                  pools: Mapping[str, Pool]) -> None:  # fmt: skip
    if t.kind == "rep" and t.name not in reps:
        c.error(path, f"unknown rep {t.name!r} (not in reps)")
    if t.kind == "pool" and t.name not in pools:
        c.error(path, f"unknown pool {t.name!r}")


def _check_pools(c: Collector, reps: Mapping[str, Rep], pools: Mapping[str, Pool]) -> None:
    for name, pool in pools.items():
        path = ("pools", name)
        if not pool.members:
            c.summary((*path, "members"), "empty pool: add at least one rep")
        seen: set[str] = set()
        for i, m in enumerate(pool.members):
            if m.rep not in reps:
                c.error((*path, "members", i), f"unknown rep {m.rep!r} (not in reps)")
            if m.rep in seen:
                c.error((*path, "members", i), f"{m.rep} is listed twice")
            seen.add(m.rep)
        if pool.members and all(m.rep in reps and not reps[m.rep].enabled for m in pool.members):
            c.warn((*path, "members"), "every member is turned off: leads will overflow or hold")
        for i, t in enumerate(pool.fallback):
            _check_target(c, t, (*path, "fallback", i), reps, pools)
        if pool.sla and pool.sla.escalate_to:
            _check_target(c, pool.sla.escalate_to, (*path, "sla", "escalate_to"), reps, pools)


def _check_overflow(c: Collector, pools: Mapping[str, Pool]) -> None:
    """Warnings, in the order the router tries fallbacks (:func:`overflow_order`): entries
    of a pool's own list never tried, targets a ``hold`` cuts off, and cycles. Entries of
    a listed pool's list that were already tried are not warned about: they are skipped
    from here but used when a lead starts in that pool."""
    for name in pools:
        hops = list(overflow_order(pools, name, past_hold=True))
        stop = next((i for i, h in enumerate(hops) if h.target.kind == "hold"), len(hops))
        tried = {(h.source, h.position) for h in hops[: stop + 1]}
        own = pools[name].fallback
        for i in range(len(own)):
            why = None if (name, i) in tried else _never_tried(name, own, i, pools)
            if why:
                c.warn(("pools", name, "fallback", i), why)
        cut = [h for h in hops[stop + 1 :] if h.source != name and h.target.kind != "hold"]
        if cut:
            _warn_cut(c, name, hops[stop], cut)
    for path, loop in _cycles(pools):
        c.warn(
            path,
            f"overflow cycle {' → '.join(loop)}: each pool is tried at most once per lead, "
            "so the way back is skipped; check each chain's order is what you mean",
        )


def _never_tried(name: str, own: Sequence[Target], i: int, pools: Mapping[str, Pool]) -> str | None:
    """Why entry ``i`` of pool ``name``'s own fallback list is never tried (None: unknown
    pool, reported as an error)."""
    t = own[i]
    hold = next((j for j, u in enumerate(own[:i]) if u.kind == "hold"), None)
    if hold is not None:
        return f"never tried: the hold at fallback[{hold}] stops overflow first"
    if t.kind == "pool" and t.name == name:
        return "a pool listing itself is never tried again (each pool once per lead)"
    if t.kind == "pool" and t.name not in pools:
        return None
    first = own.index(t)
    return f"never tried: repeats fallback[{first}]" if first < i else None


def _warn_cut(c: Collector, name: str, hold: Hop, cut: Sequence[Hop]) -> None:
    where = ("pools", hold.source, "fallback", hold.position)
    missed = ", ".join(f"{h.target.kind} {h.target.name} (in {h.source}'s fallback)" for h in cut)
    path = where if hold.source == name else ("pools", name, "fallback")
    c.warn(
        path,
        f"overflow from {name} stops at the hold in {format_path(where)}, "
        f"so these are never tried from {name}: {missed}",
    )


def _cycles(pools: Mapping[str, Pool]) -> list[tuple[tuple[str | int, ...], list[str]]]:
    """Overflow cycles between pools (A → B → A), each once, with the path of the entry
    closing it; a pool listing itself is warned about as an entry never tried."""
    found: list[tuple[tuple[str | int, ...], list[str]]] = []
    seen: set[frozenset[str]] = set()
    done: set[str] = set()
    for root in pools:
        if root in done:
            continue
        stack = [(root, iter(enumerate(pools[root].fallback)))]
        on_path = [root]
        while stack:
            name, entries = stack[-1]
            step = next(entries, None)
            if step is None:
                stack.pop()
                on_path.pop()
                done.add(name)
                continue
            i, t = step
            nxt = t.name
            if t.kind != "pool" or nxt is None or nxt not in pools or nxt == name:
                continue
            if nxt in on_path:
                loop = [*on_path[on_path.index(nxt) :], nxt]
                if frozenset(loop) not in seen:
                    seen.add(frozenset(loop))
                    found.append((("pools", name, "fallback", i), loop))
            elif nxt not in done:
                stack.append((nxt, iter(enumerate(pools[nxt].fallback))))
                on_path.append(nxt)
    return found


def never_matches(conds: Sequence[Condition], mode: str) -> str | None:
    """Why an ``all`` rule is self-contradictory, or None."""
    if mode != "all":
        return None
    by_field: dict[str, list[Condition]] = {}
    for cond in conds:
        by_field.setdefault(cond.field.lower(), []).append(cond)
    for field, cs in by_field.items():
        ops = {c.op for c in cs}
        equals = {str(c.value).lower() for c in cs if c.op == "equals"}
        if len(equals) > 1:
            return f"{field} cannot equal {' and '.join(sorted(equals))} at once"
        for c in cs:
            if c.op == "not_equals" and str(c.value).lower() in equals:
                return f"{field} both equals and not_equals {c.value}"
            if c.op == "in" and equals and not equals & {str(v).lower() for v in c.value}:  # type: ignore[attr-defined]
                return f"{field} equals {next(iter(equals))} but must be in {list(c.value)}"  # type: ignore[call-overload]
        if {"is_blank", "not_blank"} <= ops:
            return f"{field} cannot be blank and not blank"
        if "is_blank" in ops and ops & {"equals", "between", "starts_with", "contains"}:
            return f"{field} cannot be blank and have a value"
        lows = [c.value[0] for c in cs if c.op == "between" and c.value[0] is not None]  # type: ignore[index]
        highs = [c.value[1] for c in cs if c.op == "between" and c.value[1] is not None]  # type: ignore[index]
        if lows and highs and max(lows) > min(highs):
            return f"{field} cannot be >= {max(lows):g} and <= {min(highs):g}"
    return None


def _check_rules(
    c: Collector, pools: Mapping[str, Pool], rules: Sequence[Rule], territories: set[str]
) -> None:
    if not rules:
        c.summary(("rules",), "no rules: add at least a default rule (one without `when`)")
        return
    catch_all: str | None = None
    names: set[str] = set()
    for i, r in enumerate(rules):
        path = ("rules", i)
        if r.name in names:
            c.error((*path, "name"), f"duplicate rule name {r.name!r}")
        names.add(r.name)
        if catch_all is not None:
            c.error(
                path,
                f"rule {r.name!r} can never match: rule {catch_all!r} above matches every lead",
            )
        if r.pool is not None and r.pool not in pools:
            c.error((*path, "action", "pool"), f"unknown pool {r.pool!r}")
        if r.territory is not None and r.territory not in territories:
            c.error((*path, "territory"), f"unknown territory {r.territory!r}")
        if r.action == "territory" and not territories:
            c.error((*path, "action"), "routes by territory but no territories are defined")
        why = never_matches(r.conditions, r.match)
        if why:
            c.error((*path, "when"), f"can never match: {why}")
        if (
            not r.conditions
            and r.territory is None
            and r.action not in ("account_owner", "territory")
        ):
            catch_all = catch_all or r.name
    if catch_all is None:
        c.error(
            ("rules",),
            "no default rule: add a last rule without `when` (e.g. hold or a pool) "
            "so that every lead is decided",
        )


def _sets_meet(a: frozenset[str], b: frozenset[str]) -> bool:
    return not a or not b or bool(a & b)


def _bands_meet(a: object, b: object) -> bool:
    if a is None or b is None:
        return True
    lo = max(x for x in (a.low, b.low, float("-inf")) if x is not None)  # type: ignore[attr-defined]
    hi = min(x for x in (a.high, b.high, float("inf")) if x is not None)  # type: ignore[attr-defined]
    return lo <= hi


def _postal_meet(a: Territory, b: Territory) -> bool:
    pa = list(a.postal_prefixes) + [lo for lo, _ in a.postal_ranges]
    pb = list(b.postal_prefixes) + [lo for lo, _ in b.postal_ranges]
    if not pa or not pb or a.postal_ranges or b.postal_ranges:
        return True
    return any(x.startswith(y) or y.startswith(x) for x in pa for y in pb)


def territories_overlap(a: Territory, b: Territory) -> bool:
    """Whether some lead could be in both (conservative: True when unsure)."""
    states_a = {s.split("-")[0] for s in a.states}
    states_b = {s.split("-")[0] for s in b.states}
    return (
        _sets_meet(a.countries | frozenset(states_a), b.countries | frozenset(states_b))
        and _sets_meet(a.states, b.states)
        and _sets_meet(a.industries, b.industries)
        and _postal_meet(a, b)
        and _bands_meet(a.employees, b.employees)
        and _bands_meet(a.revenue, b.revenue)
    )


def _check_territories(
    c: Collector, pools: Mapping[str, Pool], territories: Sequence[Territory]
) -> None:
    seen: dict[str, int] = {}
    for i, t in enumerate(territories):
        if t.name in seen:
            c.error(("territories", i, "name"), f"duplicate territory name {t.name!r}")
        seen[t.name] = i
        if t.pool not in pools:
            c.error(("territories", i, "pool"), f"unknown pool {t.pool!r}")
        for j, u in enumerate(territories[:i]):
            if u.priority == t.priority and territories_overlap(t, u):
                c.error(
                    ("territories", i, "priority"),
                    f"territory {t.name!r} overlaps {u.name!r} "
                    f"(territories[{j}]) with the same priority {t.priority}: give one a higher priority",
                )
