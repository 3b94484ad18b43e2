"""The routing editor's form edits, as plain functions on the parsed routing section.

Each edit takes the draft's data (parsed YAML) and returns a changed copy, or raises
:class:`EditError` naming the field; the page then validates the result with the checks
of ``config check`` (:func:`worker.config_source.check_routing_text`) before saving. An
edit is a value (:class:`Edit`), so when another editor's save got in first, the same
edit can be applied again to the newer draft: nothing typed is lost.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from dashboard.shape.routing_diff import parse
from worker.routing.model import CONDITION_OPS
from worker.routing_config.problems import Problem

METHODS = ("weighted_round_robin", "round_robin", "least_loaded")
CATCH_UP = ("forgive", "full", "capped")
OPERATORS: tuple[str, ...] = (*CONDITION_OPS, "gte", "lte")
NO_VALUE_OPS = ("is_blank", "not_blank")
LIST_OPS = ("in", "not_in", "between")
MEMBER_COLUMNS = ("rep", "name", "weight in pool", "cap/day in pool", "cap/hour in pool")


class EditError(ValueError):
    """The edit cannot be made; ``field`` is the form field it concerns."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Edit:
    """One form submission: what it does (in words, for the history and messages), the
    function that makes it, and the config key paths it touches (messages of the checks
    under those paths are shown beside the form)."""

    label: str
    apply: Callable[[dict[str, Any]], dict[str, Any]]
    paths: tuple[str, ...] = field(default=())


def dump(doc: Mapping[str, Any]) -> str:
    """The routing section as YAML (the draft's text after a form edit)."""
    return yaml.safe_dump(dict(doc), sort_keys=False, allow_unicode=True, width=100)


def load(text: str) -> dict[str, Any]:
    data = parse(text)
    return dict(data) if isinstance(data, Mapping) else {}


def _pools(doc: dict[str, Any]) -> dict[str, Any]:
    pools = doc.get("pools")
    if not isinstance(pools, dict):
        raise EditError("pool", "the draft has no pools section")
    return pools


def _pool(doc: dict[str, Any], name: str) -> dict[str, Any]:
    pool = _pools(doc).get(name)
    if not isinstance(pool, dict):
        raise EditError("pool", f"no pool {name!r}")
    return pool


def member_key(item: Any) -> str:
    if isinstance(item, Mapping):
        return str(item.get("rep") or "").strip().lower()
    return str(item).strip().lower()


def _member_index(pool: dict[str, Any], rep: str) -> int | None:
    for i, item in enumerate(pool.get("members") or []):
        if member_key(item) == rep.strip().lower():
            return i
    return None


def parse_value(op: str, raw: str) -> Any:
    """A condition's value typed in a form: a list for in/not_in/between (comma
    separated), a number when it reads as one, true for is_blank/not_blank."""
    if op in NO_VALUE_OPS:
        return True
    text = raw.strip()
    if op in LIST_OPS:
        items = [_scalar(x.strip()) for x in text.split(",") if x.strip()]
        if op == "between" and len(items) != 2:
            raise EditError("value", "between needs two values: low, high")
        if not items:
            raise EditError("value", f"{op} needs at least one value (comma separated)")
        return items
    if not text:
        raise EditError("value", "a value is required")
    return _scalar(text)


def _scalar(text: str) -> Any:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def add_rule(
    name: str,
    conditions: Sequence[tuple[str, str, str]],
    action: str,
    pool: str | None = None,
    position: int | None = None,
    reason: str = "",
) -> Edit:
    """A new rule at ``position`` (1-based; default: just before the last rule, which must
    match everything). ``conditions``: (field, operator, value typed in the form)."""
    name = name.strip()
    if not name:
        raise EditError("name", "a rule needs a name")
    when: list[dict[str, Any]] = []
    for field_name, op, raw in conditions:
        if not field_name.strip():
            continue
        if op not in OPERATORS:
            raise EditError("operator", f"unknown operator {op!r}")
        when.append({"field": field_name.strip(), op: parse_value(op, raw)})
    rule: dict[str, Any] = {"name": name}
    if when:
        rule["when"] = when
    rule["action"] = {"pool": pool} if action == "pool" else action
    if action == "pool" and not pool:
        raise EditError("pool", "choose the pool the rule sends leads to")
    if reason.strip():
        rule["reason"] = reason.strip()

    def apply(doc: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(doc)
        rules = out.setdefault("rules", [])
        if not isinstance(rules, list):
            raise EditError("name", "the draft's rules are not a list")
        if any(isinstance(r, Mapping) and r.get("name") == name for r in rules):
            raise EditError("name", f"a rule named {name!r} exists already")
        at = len(rules) - 1 if position is None else position - 1
        rules.insert(max(0, min(at, len(rules))), rule)
        return out

    return Edit(f'add rule "{name}"', apply, ("rules",))


def remove_rule(name: str) -> Edit:
    def apply(doc: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(doc)
        rules = out.get("rules") or []
        kept = [r for r in rules if not (isinstance(r, Mapping) and r.get("name") == name)]
        if len(kept) == len(rules):
            raise EditError("rule", f"no rule {name!r}")
        out["rules"] = kept
        return out

    return Edit(f'remove rule "{name}"', apply, ("rules",))


def move_member(rep: str, from_pool: str, to_pool: str) -> Edit:
    """Move ``rep`` from one pool to another, with its per-pool weight and caps."""
    if from_pool == to_pool:
        raise EditError("to_pool", "choose another pool to move to")

    def apply(doc: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(doc)
        source, target = _pool(out, from_pool), _pool(out, to_pool)
        i = _member_index(source, rep)
        if i is None:
            raise EditError("rep", f"{rep} is not in pool {from_pool}")
        if _member_index(target, rep) is not None:
            raise EditError("to_pool", f"{rep} is in pool {to_pool} already")
        item = source["members"].pop(i)
        target.setdefault("members", []).append(item)
        return out

    return Edit(f"move {rep} from pool {from_pool} to {to_pool}", apply, ("pools",))


def add_member(rep: str, pool: str) -> Edit:
    def apply(doc: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(doc)
        target = _pool(out, pool)
        if _member_index(target, rep) is not None:
            raise EditError("rep", f"{rep} is in pool {pool} already")
        target.setdefault("members", []).append(rep)
        return out

    return Edit(f"add {rep} to pool {pool}", apply, (f"pools.{pool}",))


def set_member_terms(
    pool: str,
    rep: str,
    weight: float | None,
    per_day: int | None = None,
    per_hour: int | None = None,
) -> Edit:
    """The rep's weight and caps in this pool only (None: the rep's own value applies)."""

    def apply(doc: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(doc)
        target = _pool(out, pool)
        i = _member_index(target, rep)
        if i is None:
            raise EditError("rep", f"{rep} is not in pool {pool}")
        old = target["members"][i]
        item: dict[str, Any] = {"rep": member_key(old) if isinstance(old, str) else old["rep"]}
        if weight is not None:
            item["weight"] = weight
        caps = {k: v for k, v in (("per_day", per_day), ("per_hour", per_hour)) if v is not None}
        if caps:
            item["caps"] = caps
        target["members"][i] = item if len(item) > 1 else item["rep"]
        return out

    return Edit(f"set {rep}'s terms in pool {pool}", apply, (f"pools.{pool}",))


def set_pool(
    pool: str,
    *,
    method: str,
    catch_up: str,
    capped: int | None = None,
    fallback: Sequence[str] = (),
) -> Edit:
    """Distribution method, catch-up policy and fallback order (pool names, ``rep:EMAIL``
    or ``hold``) of one pool."""
    if method not in METHODS:
        raise EditError("method", f"unknown method {method!r}")
    if catch_up not in CATCH_UP:
        raise EditError("catch_up", f"unknown catch-up policy {catch_up!r}")
    if catch_up == "capped" and (capped is None or capped < 1):
        raise EditError("capped", "capped catch-up needs a number of extra leads a day (>= 1)")
    chain: list[Any] = []
    for entry in fallback:
        entry = entry.strip()
        if not entry:
            continue
        if entry == "hold":
            chain.append("hold")
        elif entry.startswith("rep:"):
            chain.append({"rep": entry[4:].strip()})
        else:
            chain.append({"pool": entry})

    def apply(doc: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(doc)
        target = _pool(out, pool)
        target["method"] = method
        target["catch_up"] = {"capped": capped} if catch_up == "capped" else catch_up
        if chain:
            target["fallback"] = chain
        else:
            target.pop("fallback", None)
        return out

    return Edit(f"set pool {pool}'s method, catch-up and fallback", apply, (f"pools.{pool}",))


def _words(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def set_territory(
    name: str, *, pool: str, priority: int = 0, countries: str = "", states: str = ""
) -> Edit:
    """Add the territory ``name`` or replace its pool, priority, countries and states
    (comma separated; its other criteria are kept)."""
    name = name.strip()
    if not name:
        raise EditError("territory", "a territory needs a name")
    if not pool:
        raise EditError("pool", "choose the territory's pool")

    def apply(doc: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(doc)
        items = out.setdefault("territories", [])
        if not isinstance(items, list):
            raise EditError("territory", "the draft's territories are not a list")
        found = next((t for t in items if isinstance(t, dict) and t.get("name") == name), None)
        item: dict[str, Any] = found if found is not None else {"name": name}
        item["pool"] = pool
        for key, value in (("countries", _words(countries)), ("states", _words(states))):
            if value:
                item[key] = value
            else:
                item.pop(key, None)
        if priority:
            item["priority"] = priority
        else:
            item.pop("priority", None)
        if found is None:
            items.append(item)
        return out

    return Edit(f"set territory {name}", apply, ("territories",))


def remove_territory(name: str) -> Edit:
    def apply(doc: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(doc)
        items = out.get("territories") or []
        kept = [t for t in items if not (isinstance(t, Mapping) and t.get("name") == name)]
        if len(kept) == len(items):
            raise EditError("territory", f"no territory {name!r}")
        out["territories"] = kept
        return out

    return Edit(f"remove territory {name}", apply, ("territories",))


def territory_rows(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per territory: name, pool, priority, countries and states as text."""
    items = doc.get("territories")
    rows = []
    for t in items if isinstance(items, list) else []:
        if isinstance(t, Mapping):
            rows.append(
                {
                    "territory": str(t.get("name") or ""),
                    "pool": str(t.get("pool") or ""),
                    "priority": str(t.get("priority") or 0),
                    "countries": ", ".join(str(x) for x in t.get("countries") or []),
                    "states": ", ".join(str(x) for x in t.get("states") or []),
                }
            )
    return rows


BREACH = ("reassign", "remind", "escalate")


def set_pool_sla(
    pool: str,
    *,
    minutes: int | None,
    on_breach: str = "reassign",
    max_hops: int = 2,
    working_hours_only: bool = True,
) -> Edit:
    """The pool's SLA (``minutes`` None: none of its own, the default applies). Keys the
    form does not show (escalate_to, untouched_statuses) are kept."""
    if on_breach not in BREACH:
        raise EditError("on_breach", f"unknown action {on_breach!r}")

    def apply(doc: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(doc)
        target = _pool(out, pool)
        if minutes is None:
            target.pop("sla", None)
            return out
        sla = dict(target.get("sla") or {})
        sla.update(minutes=minutes, on_breach=on_breach, max_hops=max_hops,
                   working_hours_only=working_hours_only)  # fmt: skip
        target["sla"] = sla
        return out

    return Edit(f"set pool {pool}'s SLA", apply, (f"pools.{pool}",))


def sla_of(pool: Mapping[str, Any]) -> dict[str, Any]:
    """The pool's own SLA as the form shows it (defaults where the YAML is silent)."""
    raw = pool.get("sla") if isinstance(pool.get("sla"), Mapping) else {}
    return {
        "minutes": raw.get("minutes"),
        "on_breach": raw.get("on_breach", "reassign"),
        "max_hops": raw.get("max_hops", 2),
        "working_hours_only": raw.get("working_hours_only", True),
    }


def fallback_entries(pool: Mapping[str, Any]) -> list[str]:
    """A pool's fallback list as the form shows it: pool names, ``rep:EMAIL``, ``hold``."""
    out: list[str] = []
    for entry in pool.get("fallback") or []:
        if entry == "hold":
            out.append("hold")
        elif isinstance(entry, Mapping) and entry.get("pool"):
            out.append(str(entry["pool"]))
        elif isinstance(entry, Mapping) and entry.get("rep"):
            out.append(f"rep:{entry['rep']}")
    return out


def catch_up_of(pool: Mapping[str, Any]) -> tuple[str, int | None]:
    raw = pool.get("catch_up") or "forgive"
    if isinstance(raw, Mapping) and "capped" in raw:
        try:
            return "capped", int(raw["capped"])
        except (TypeError, ValueError):
            return "capped", None
    return (str(raw), None) if raw in CATCH_UP else ("forgive", None)


def member_rows(doc: Mapping[str, Any], pool: str) -> list[dict[str, Any]]:
    """One row per member of ``pool``: rep, name, weight and caps in the pool (None: the
    rep's own value applies)."""
    pools = doc.get("pools")
    target = pools.get(pool) if isinstance(pools, Mapping) else None
    names = {
        str(r.get("email")).strip().lower(): str(r.get("name") or "")
        for r in doc.get("reps") or []
        if isinstance(r, Mapping)
    }
    rows = []
    for item in (target or {}).get("members") or []:
        terms = item if isinstance(item, Mapping) else {}
        caps = terms.get("caps") if isinstance(terms.get("caps"), Mapping) else {}
        rows.append(
            {
                "rep": member_key(item),
                "name": names.get(member_key(item), ""),
                "weight in pool": terms.get("weight"),
                "cap/day in pool": caps.get("per_day"),
                "cap/hour in pool": caps.get("per_hour"),
            }
        )
    return rows


def messages_for(problems: Sequence[Problem], paths: Sequence[str]) -> list[str]:
    """The checks' messages about the keys an edit touched (all of them when none match,
    so a problem is never hidden)."""
    lines = [f"{p.path}: {p.message}" for p in problems]
    near = [
        f"{p.path}: {p.message}"
        for p in problems
        if any(p.path == x or p.path.startswith((f"{x}.", f"{x}[")) for x in paths)
    ]
    return near or lines
