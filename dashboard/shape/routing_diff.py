"""Two versions of the routing section compared in plain words, one line per change:
``Pool emea: Sarah Johnson's weight 1 → 2``, ``Rule "Enterprise" added (position 4)``.

Works on the parsed YAML (plain dicts and lists), so it describes any two texts, valid or
not: the editor's draft against the published version, and what another editor's save
changed under you. Reps are named by their name (else their e-mail); pools, rules and
territories by their names; list items keyed by what identifies them, so a reorder reads
as a move and not as a dozen changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml

from worker.routing_config.yamlsrc import YamlSyntaxError, load_yaml

ARROW = "→"
MAX_VALUE = 90


def parse(text: str) -> Any:
    """The YAML text as plain data; ``{}`` when it is not YAML (the diff then shows all)."""
    try:
        return load_yaml(text)[0]
    except YamlSyntaxError:
        return {}


def value(v: Any) -> str:
    """A value on one line: ``(not set)``, a number, text, or a short flow-style YAML."""
    if v is None:
        return "(not set)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float | str):
        text = str(v)
    else:
        try:
            text = yaml.safe_dump(v, default_flow_style=True, width=10_000, sort_keys=False)
        except yaml.YAMLError:
            text = json.dumps(v, default=str)
        text = text.strip().removesuffix("...").strip()
    text = " ".join(text.split())
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _rep_key(item: Any) -> str | None:
    if isinstance(item, str):
        return item.strip().lower()
    if isinstance(item, Mapping):
        key = item.get("rep") or item.get("email")
        return str(key).strip().lower() if key else None
    return None


def _by_key(items: Any, key: Callable[[Any], str | None]) -> tuple[dict[str, Any], list[str]]:
    """(item by key, keys in order); items without a usable key get their position."""
    out: dict[str, Any] = {}
    order: list[str] = []
    for i, item in enumerate(items if isinstance(items, list) else []):
        k = key(item) or f"#{i + 1}"
        if k in out:
            k = f"{k} #{i + 1}"
        out[k] = item
        order.append(k)
    return out, order


def _fields(old: Any, new: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted field, old, new) for every leaf that differs (dicts descended into)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: list[tuple[str, Any, Any]] = []
        for k in [*old, *(k for k in new if k not in old)]:
            out += _fields(old.get(k), new.get(k), f"{prefix}.{k}" if prefix else str(k))
        return out
    return [] if old == new else [(prefix, old, new)]


def _changes(subject: str, old: Any, new: Any, skip: Sequence[str] = ()) -> list[str]:
    return [
        f"{subject}: {field} {value(a)} {ARROW} {value(b)}"
        for field, a, b in _fields(old, new)
        if field.split(".")[0] not in skip
    ]


def _keyed_list(
    what: str,
    old_items: Any,
    new_items: Any,
    key: Callable[[Any], str | None],
    label: Callable[[str], str],
    *,
    describe: Callable[[str, Any, Any], list[str]] | None = None,
) -> list[str]:
    old, old_order = _by_key(old_items, key)
    new, new_order = _by_key(new_items, key)
    lines = [f"{what} {label(k)} removed" for k in old_order if k not in new]
    kept_old = [k for k in old_order if k in new]
    kept_new = [k for k in new_order if k in old]
    for k in new_order:
        if k not in old:
            lines.append(f"{what} {label(k)} added (position {new_order.index(k) + 1})")
            continue
        if kept_old.index(k) != kept_new.index(k):
            lines.append(
                f"{what} {label(k)} moved from position {old_order.index(k) + 1} "
                f"to {new_order.index(k) + 1}"
            )
        if describe is not None:
            lines += describe(k, old[k], new[k])
        else:
            lines += _changes(f"{what} {label(k)}", old[k], new[k])
    return lines


def _member_terms(item: Any) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "rep"} if isinstance(item, Mapping) else {}


def _pool_lines(name: str, old: Any, new: Any, person: Callable[[str], str]) -> list[str]:
    old = old if isinstance(old, Mapping) else {}
    new = new if isinstance(new, Mapping) else {}
    subject = f"Pool {name}"
    lines = _changes(subject, old, new, skip=("members",))
    old_m, old_order = _by_key(old.get("members"), _rep_key)
    new_m, new_order = _by_key(new.get("members"), _rep_key)
    lines += [f"{subject}: {person(k)} removed" for k in old_order if k not in new_m]
    for k in new_order:
        if k not in old_m:
            terms = _member_terms(new_m[k])
            extra = f" ({value(terms)})" if terms else ""
            lines.append(f"{subject}: {person(k)} added{extra}")
            continue
        for field, a, b in _fields(_member_terms(old_m[k]), _member_terms(new_m[k])):
            lines.append(
                f"{subject}: {person(k)}'s {field.replace('.', ' ')} "
                f"{value(a if a is not None else 'default')} {ARROW} "
                f"{value(b if b is not None else 'default')}"
            )
    return lines


def _names(*docs: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for doc in docs:
        reps = doc.get("reps") if isinstance(doc, Mapping) else None
        for rep in reps if isinstance(reps, list) else []:
            if isinstance(rep, Mapping) and rep.get("email"):
                key = str(rep["email"]).strip().lower()
                out.setdefault(key, str(rep.get("name") or rep["email"]))
    return out


def _named(field: str) -> Callable[[Any], str | None]:
    def key(item: Any) -> str | None:
        if isinstance(item, Mapping) and item.get(field) is not None:
            return str(item[field])
        return None

    return key


def diff_words(old_doc: Any, new_doc: Any) -> list[str]:
    """Every difference from ``old_doc`` to ``new_doc`` (parsed YAML), in plain words;
    ``[]`` when they mean the same."""
    old = old_doc if isinstance(old_doc, Mapping) else {}
    new = new_doc if isinstance(new_doc, Mapping) else {}
    names = _names(new, old)

    def person(key: str) -> str:
        return names.get(key, key)

    lines: list[str] = []
    sections = ("reps", "pools", "territories", "lead_tags", "rules")
    for key in [*old, *(k for k in new if k not in old)]:
        if key not in sections and old.get(key) != new.get(key):
            lines += _changes("Setting", {key: old.get(key)}, {key: new.get(key)})
    lines += _keyed_list("Rep", old.get("reps"), new.get("reps"), _rep_key, person)
    old_pools = old.get("pools") if isinstance(old.get("pools"), Mapping) else {}
    new_pools = new.get("pools") if isinstance(new.get("pools"), Mapping) else {}
    lines += [f"Pool {n} removed" for n in old_pools if n not in new_pools]
    for n in new_pools:
        if n not in old_pools:
            count = (
                len(new_pools[n].get("members") or []) if isinstance(new_pools[n], Mapping) else 0
            )
            lines.append(f"Pool {n} added ({count} members)")
        else:
            lines += _pool_lines(str(n), old_pools[n], new_pools[n], person)
    lines += _keyed_list(
        "Territory", old.get("territories"), new.get("territories"), _named("name"), str
    )
    lines += _keyed_list(
        "Lead tag", old.get("lead_tags"), new.get("lead_tags"),
        lambda t: _named("tag")(t) or _named("prefix")(t), str,
    )  # fmt: skip
    lines += _keyed_list(
        "Rule", old.get("rules"), new.get("rules"), _named("name"), lambda k: f'"{k}"'
    )
    return lines


def diff_texts(old_text: str, new_text: str) -> list[str]:
    return diff_words(parse(old_text), parse(new_text))
