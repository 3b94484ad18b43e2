"""The rule chain compiled to one straight-line Python function.

Every decision walks dozens of rules and needs, for each rule passed over, why it did not
match. A generic loop spends most of its time on interpretation overhead (unpacking,
attribute lookups) rather than on the memoised condition answers, so the chain of a
config is generated once as source code: each distinct field is read once, and each
condition is a dictionary lookup in its memo (see :class:`CompiledCondition`). Built with
``exec`` on code generated only from our own identifiers (names, values and condition
objects are passed in the namespace, never interpolated), so config text cannot inject
code. The generated function has the contract of :func:`conditions.scan_rules`.
"""

from __future__ import annotations

from collections.abc import Callable

from worker.routing.conditions import CompiledCondition, FastRule, scan_rules
from worker.routing.facts import LeadFacts

Scan = Callable[[LeadFacts, int, list[tuple[str, str]]], int]
_MISS = object()


def _cond_code(j: int, value: str, out: str, indent: str) -> list[str]:
    return [
        f"{indent}{out} = M{j}.get({value}, MISS)",
        f"{indent}if {out} is MISS:",
        f"{indent}    {out} = F{j}({value})",
    ]


def _rule_code(
    i: int, rule: FastRule, slots: dict[str, int], ns: dict[str, object], counter: list[int]
) -> list[str]:
    _, is_all, conds = rule
    lines = [f"    if start <= {i}:"]
    if not conds:
        return [*lines, f"        return {i}"]
    refs = []
    for field, memo, cc in conds:
        j = counter[0]
        counter[0] += 1
        ns[f"M{j}"], ns[f"F{j}"] = memo, cc.failure_of
        key = field if field is not None else "$" + cc.condition.field
        refs.append((j, f"V{slots[key]}"))
    if is_all:
        indent = "        "
        for n, (j, value) in enumerate(refs):
            lines += _cond_code(j, value, "w", indent)
            if n < len(refs) - 1:
                lines.append(f"{indent}if w is None:")
                indent += "    "
        lines += ["        if w is None:", f"            return {i}", f"        add((N{i}, w))"]
        return lines
    whys = []
    for n, (j, value) in enumerate(refs):
        lines += _cond_code(j, value, f"w{n}", "        ")
        lines += [f"        if w{n} is None:", f"            return {i}"]
        whys.append(f"w{n}")
    lines.append(f"        add((N{i}, 'none of: ' + '; '.join(({', '.join(whys)},))))")
    return lines


def build_scan(rules: tuple[FastRule, ...]) -> Scan:
    """Generate the chain function for ``rules`` (same contract as ``scan_rules``)."""
    ns: dict[str, object] = {"MISS": _MISS}
    slots: dict[str, int] = {}
    loads: list[str] = []
    for _, _, conds in rules:
        for field, _, cc in conds:
            key = field if field is not None else "$" + cc.condition.field
            if key not in slots:
                k = slots[key] = len(slots)
                if field is not None:
                    ns[f"K{k}"] = field
                    loads.append(f"    V{k} = get(K{k})")
                else:
                    ns[f"G{k}"] = cc.get
                    loads.append(f"    V{k} = G{k}(facts)")
    body = [
        "def scan(facts, start, failed):",
        "    get = facts.lead.fields.get",
        "    add = failed.append",
        *loads,
    ]
    counter = [0]
    for i, rule in enumerate(rules):
        ns[f"N{i}"] = rule[0]
        body += _rule_code(i, rule, slots, ns, counter)
    body.append(f"    return {len(rules)}")
    exec("\n".join(body), ns)  # noqa: S102 - generated from our own identifiers only
    generated = ns["scan"]

    def scan(facts: LeadFacts, start: int, failed: list[tuple[str, str]]) -> int:
        mark = len(failed)
        try:
            return generated(facts, start, failed)  # type: ignore[operator, no-any-return]
        except TypeError:  # an unhashable field value: the generic loop handles it
            del failed[mark:]
            return scan_rules(rules, start, facts, failed)

    return scan


__all__ = ["CompiledCondition", "Scan", "build_scan"]
