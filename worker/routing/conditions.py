"""Rule conditions compiled to fast predicates, with a plain-language explanation.

Strings compare case-insensitively after trimming. ``Country``/``CountryCode`` and
``State``/``StateCode`` compare as ISO codes (the config side is normalised by the loader,
:mod:`worker.routing_config.rules`), so "USA", "United States" and "us" are one
country. ``between`` is an inclusive numeric range; a blank or non-numeric value never
satisfies it. ``regex`` searches case-insensitively in linear time (RE2, see
:mod:`worker.routing.patterns`).
"""

from __future__ import annotations

from collections.abc import Callable

from worker.routing.facts import LeadFacts, as_number
from worker.routing.model import Condition
from worker.routing.patterns import compile_rule_regex

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
    if value.__class__ is str:
        return value.strip().lower()  # type: ignore[attr-defined]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip().lower()


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
        if len(parts) == 1:
            part = parts[0]
            return lambda v: part in _norm_text(v)
        return lambda v: any(p in _norm_text(v) for p in parts)
    if op == "regex":
        matches = compile_rule_regex(str(val))
        return lambda v: v is not None and matches(str(v))
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
    if value.__class__ is str:
        return value or "(blank)"  # type: ignore[return-value]
    if value is None:
        return "(blank)"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"
    return str(value)


def _getter(name: str) -> Callable[[LeadFacts], object]:
    if name in COUNTRY_FIELDS:
        return lambda f: f.country
    if name in STATE_FIELDS:
        return lambda f: f.state
    if name in PSEUDO_FIELDS:
        return lambda f: field_value(f, name)
    return lambda f: f.lead.fields.get(name)


def _explain_template(c: Condition) -> str:
    """``{}`` stands for the lead's value, e.g. ``Country {} in DE, FR``."""
    if c.op in ("is_blank", "not_blank"):
        return f"{c.field} is {{}}"
    if c.op == "between":
        low, high = c.value if isinstance(c.value, list | tuple) else (None, None)
        lo = "-∞" if low is None else describe_value(low)
        hi = "∞" if high is None else describe_value(high)
        return f"{c.field} {{}} in {lo}..{hi}"
    want = c.value
    if isinstance(want, list | tuple | frozenset | set):
        want = ", ".join(describe_value(x) for x in want)
    return f"{c.field} {{}} {_OP_WORDS[c.op]} {describe_value(want)}"


_MEMO_LIMIT = 4096  # distinct values remembered per condition (picklists repeat a lot)


class CompiledCondition:
    """A condition with its test, value getter and explanation template.

    ``failure(facts)`` returns None when the condition holds, else the plain-language
    reason; results are memoised per field value (bounded), because a batch of leads
    repeats the same countries, sources and industries over and over.
    """

    __slots__ = ("condition", "test", "get", "template", "memo", "plain_field")

    def __init__(self, condition: Condition, test: Callable[[object], bool],
                 get: Callable[[LeadFacts], object], template: str) -> None:  # fmt: skip
        self.condition, self.test, self.get, self.template = condition, test, get, template
        self.memo: dict[object, str | None] = {}
        # a plain lead field (not country/state/pseudo): the engine reads it directly
        f = condition.field
        self.plain_field = (
            None if f in COUNTRY_FIELDS or f in STATE_FIELDS or f in PSEUDO_FIELDS else f
        )

    def failure(self, facts: LeadFacts) -> str | None:
        value = self.get(facts)
        try:
            return self.memo[value]
        except KeyError:
            return self.failure_of(value)
        except TypeError:  # unhashable value
            return None if self.test(value) else self._why(value)

    def failure_of(self, value: object) -> str | None:
        """Evaluate (memo miss) and remember the result while the memo has room."""
        result = None if self.test(value) else self._why(value)
        if len(self.memo) < _MEMO_LIMIT:
            try:
                self.memo[value] = result
            except TypeError:
                pass
        return result

    def _why(self, value: object) -> str:
        return self.template.format(describe_value(value))

    def explain(self, facts: LeadFacts) -> str:
        """E.g. ``Country DE in DE, AT`` or ``NumberOfEmployees 1,200 in 1,000..∞``."""
        return self._why(self.get(facts))


def compile_condition(cond: Condition) -> CompiledCondition:
    template = (
        _explain_template(cond).replace("{", "{{").replace("}", "}}").replace("{{}}", "{}", 1)
    )
    return CompiledCondition(cond, _test_for(cond), _getter(cond.field), template)


def evaluate(conditions: tuple[CompiledCondition, ...], match: str, facts: LeadFacts) -> str | None:
    """None when the conditions match (empty conditions always do), else why not: for
    ``all`` the first failing condition, for ``any`` every condition."""
    if match == "any" and conditions:
        whys = []
        for cc in conditions:
            why = cc.failure(facts)
            if why is None:
                return None
            whys.append(why)
        return "none of: " + "; ".join(whys)
    for cc in conditions:
        why = cc.failure(facts)
        if why is not None:
            return why
    return None


FastRule = tuple[
    str, bool, tuple[tuple[str | None, dict[object, str | None], CompiledCondition], ...]
]


def fast_rule(name: str, match: str, conds: tuple[CompiledCondition, ...]) -> FastRule:
    """A rule flattened for :func:`scan_rules`: (name, is_all, ((field, memo, cc), ...))."""
    return name, match == "all", tuple((cc.plain_field, cc.memo, cc) for cc in conds)


def scan_rules(
    rules: tuple[FastRule, ...], start: int, facts: LeadFacts, failed: list[tuple[str, str]]
) -> int:
    """Index of the first rule at or after ``start`` whose conditions match (len(rules)
    when none does); every rule passed over is appended to ``failed`` with why.

    This is the hot loop of every decision (dozens of rules per lead), hence the local
    bindings and the memo lookups inlined from :meth:`CompiledCondition.failure`.
    """
    get = facts.lead.fields.get
    add = failed.append
    for i in range(start, len(rules)):
        name, is_all, conds = rules[i]
        if not is_all:
            why = evaluate(tuple(c for _, _, c in conds), "any", facts)
        else:
            why = None
            for field, memo, cc in conds:
                if field is None:
                    why = cc.failure(facts)
                else:
                    value = get(field)
                    try:
                        why = memo[value]
                    except KeyError:
                        why = cc.failure_of(value)
                    except TypeError:
                        why = cc.failure(facts)
                if why is not None:
                    break
        if why is None:
            return i
        add((name, why))
    return len(rules)
