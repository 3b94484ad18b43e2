"""Rule conditions compiled to fast predicates, with a plain-language explanation.

Strings compare case-insensitively after trimming. ``Country``/``CountryCode`` and
``State``/``StateCode`` compare as ISO codes (the config side is normalised by the loader
with :func:`normalise_condition_value`), so "USA", "United States" and "us" are one
country. ``between`` is an inclusive numeric range; a blank or non-numeric value never
satisfies it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from worker.routing import normalise
from worker.routing.facts import LeadFacts, as_number
from worker.routing.model import Condition

COUNTRY_FIELDS = frozenset({"Country", "CountryCode"})
STATE_FIELDS = frozenset({"State", "StateCode"})
# computed fields rules may test besides the lead's own
PSEUDO_FIELDS = ("$email_domain", "$free_mail")


def field_value(facts: LeadFacts, name: str) -> object:
    """The comparable value of field ``name``: ISO codes for country/state."""
    if name in COUNTRY_FIELDS:
        return facts.country
    if name in STATE_FIELDS:
        return facts.state
    if name == "$email_domain":
        return facts.email_domain
    if name == "$free_mail":
        return facts.email_is_public
    return facts.lead.fields.get(name)


def _norm_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().lower()


def normalise_condition_value(field: str, value: str) -> str | None:
    """Config-side normalisation: a country/state value to its ISO code (None: unknown)."""
    if field in COUNTRY_FIELDS:
        return normalise.country_code(value)
    if field in STATE_FIELDS:
        return normalise.state_code(value, None)
    return value


def _as_tuple(value: object) -> tuple[object, ...]:
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(value)
    return (value,)


def _test_for(cond: Condition) -> Callable[[object], bool]:  # noqa: C901 - a flat table
    op, val = cond.op, cond.value
    if op in ("equals", "not_equals"):
        num = as_number(val) if not isinstance(val, str) else None
        target = _norm_text(val)

        def eq(v: object) -> bool:
            if num is not None:
                return as_number(v) == num
            return _norm_text(v) == target

        return eq if op == "equals" else (lambda v: not eq(v))
    if op in ("in", "not_in"):
        options = frozenset(_norm_text(x) for x in _as_tuple(val))
        if op == "in":
            return lambda v: _norm_text(v) in options
        return lambda v: _norm_text(v) not in options
    if op == "starts_with":
        prefixes = tuple(_norm_text(x) for x in _as_tuple(val))
        return lambda v: _norm_text(v).startswith(prefixes)
    if op == "contains":
        parts = tuple(_norm_text(x) for x in _as_tuple(val))
        return lambda v: any(p in _norm_text(v) for p in parts)
    if op == "regex":
        pattern = re.compile(str(val), re.IGNORECASE)
        return lambda v: v is not None and pattern.search(str(v)) is not None
    if op == "between":
        low, high = _as_tuple(val) if isinstance(val, list | tuple) else (None, None)
        lo, hi = as_number(low), as_number(high)

        def between(v: object) -> bool:
            n = as_number(v)
            return n is not None and (lo is None or n >= lo) and (hi is None or n <= hi)

        return between
    if op == "is_blank":
        return lambda v: _norm_text(v) == ""
    if op == "not_blank":
        return lambda v: _norm_text(v) != ""
    raise ValueError(f"unknown condition operator {op!r}")


_OP_WORDS = {
    "equals": "=",
    "not_equals": "!=",
    "in": "in",
    "not_in": "not in",
    "starts_with": "starts with",
    "contains": "contains",
    "regex": "matches",
}


def describe_value(value: object) -> str:
    if value is None or value == "":
        return "(blank)"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"
    return str(value)


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    condition: Condition
    test: Callable[[object], bool]

    def check(self, facts: LeadFacts) -> bool:
        return self.test(field_value(facts, self.condition.field))

    def explain(self, facts: LeadFacts) -> str:
        """E.g. ``Country = DE`` or ``NumberOfEmployees 1,200 in 1,000..∞``."""
        c = self.condition
        shown = describe_value(field_value(facts, c.field))
        if c.op in ("is_blank", "not_blank"):
            return f"{c.field} is {shown}" if shown != "(blank)" else f"{c.field} is blank"
        if c.op == "between":
            low, high = c.value if isinstance(c.value, list | tuple) else (None, None)
            lo = "-∞" if low is None else describe_value(low)
            hi = "∞" if high is None else describe_value(high)
            return f"{c.field} {shown} in {lo}..{hi}"
        want = c.value
        if isinstance(want, list | tuple | frozenset | set):
            want = ", ".join(describe_value(x) for x in want)
        return f"{c.field} {shown} {_OP_WORDS[c.op]} {describe_value(want)}"


def compile_condition(cond: Condition) -> CompiledCondition:
    return CompiledCondition(cond, _test_for(cond))


def evaluate(
    conditions: tuple[CompiledCondition, ...], match: str, facts: LeadFacts
) -> tuple[bool, CompiledCondition | None]:
    """(matched, the deciding condition): for ``all`` the first failing one, for ``any``
    the first passing one. Empty conditions always match."""
    if not conditions:
        return True, None
    if match == "any":
        for cc in conditions:
            if cc.check(facts):
                return True, cc
        return False, None
    for cc in conditions:
        if not cc.check(facts):
            return False, cc
    return True, None
