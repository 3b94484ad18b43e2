"""WHERE conditions compiled into predicates over rows.

Null semantics follow SOQL, not SQL: there is no UNKNOWN. ``x = 'a'`` is false and
``x != 'a'`` is true when x is null; ``x = null`` / ``x != null`` test for null; ``<``,
``>``, ``LIKE`` are false on null. String comparisons are case-insensitive. Salesforce
stores empty text as null, so ``Email = ''`` behaves as ``Email = null``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from devkit.sandbox.schema import NUMBER_TYPES, TEXT_TYPES, SObject
from devkit.sandbox.soql.ast import (
    BoolOp,
    Comparison,
    Condition,
    Includes,
    InList,
    Literal,
    Not,
    RelativeDate,
    SemiJoin,
    SoqlError,
)
from devkit.sandbox.soql.dates import day_range
from devkit.sandbox.soql.resolve import Resolved, Row, Source, resolve
from worker.sfdc.ids import MalformedId, normalise

Predicate = Callable[[Row], bool]
SemiJoinRunner = Callable[[SemiJoin], set[str]]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def category(field_type: str) -> str:
    if field_type == "multipicklist":
        return "multi"
    if field_type in TEXT_TYPES:
        return "text"
    if field_type in ("id", "reference"):
        return "id"
    if field_type in NUMBER_TYPES:
        return "number"
    return field_type  # boolean date datetime


class Compiler:
    def __init__(self, obj: SObject, source: Source, now: datetime, semi: SemiJoinRunner) -> None:
        self.obj = obj
        self.source = source
        self.now = now
        self.semi = semi

    def compile(self, cond: Condition, *, top: bool = True) -> Predicate:
        if isinstance(cond, BoolOp):
            nested_ok = top and cond.op == "AND"
            parts = [self.compile(c, top=nested_ok) for c in cond.items]
            if cond.op == "AND":
                return lambda row: all(p(row) for p in parts)
            return lambda row: any(p(row) for p in parts)
        if isinstance(cond, Not):
            inner = self.compile(cond.item, top=False)
            return lambda row: not inner(row)
        if isinstance(cond, SemiJoin):
            if not top:
                raise SoqlError(
                    "MALFORMED_QUERY",
                    "Semi join sub-selects are only allowed at the top level WHERE expressions "
                    "and not in nested WHERE expressions.",
                )
            return self._semi_join(cond)
        res = resolve(self.obj, cond.field)
        if isinstance(cond, InList):
            return self._in_list(res, cond)
        if isinstance(cond, Includes):
            return self._includes(res, cond)
        return self._comparison(res, cond)

    # --- comparisons ---------------------------------------------------------------------
    def _comparison(self, res: Resolved, cond: Comparison) -> Predicate:
        get = res.getter(self.source)
        cat = category(res.field.type)
        op, value = cond.op, cond.value
        if value == "" and cat in ("text", "multi"):
            value = None
        if value is None:
            if op not in ("=", "!="):
                raise _bad_value(res, f"operator {op} cannot be used with null")
            if op == "=":
                return lambda row: get(row) is None
            return lambda row: get(row) is not None
        if op == "LIKE":
            if cat != "text":
                raise SoqlError(
                    "INVALID_QUERY_FILTER_OPERATOR",
                    f"invalid operator on field '{res.path.text}': LIKE is only for text fields",
                )
            regex = like_regex(str(value))
            return lambda row: (v := get(row)) is not None and regex.fullmatch(str(v)) is not None
        if isinstance(value, RelativeDate):
            return self._relative(res, get, op, value)
        if cat == "multi":
            if op not in ("=", "!="):
                raise _bad_value(res, f"operator {op} is not valid on a multi-select picklist")
            target = _multi_set(self._coerce(res, value))

            def eq(row: Row) -> bool:
                v = get(row)
                return v is not None and _multi_set(v) == target

            return eq if op == "=" else (lambda row: not eq(row))
        if cat == "boolean" and op not in ("=", "!="):
            raise _bad_value(res, f"operator {op} is not valid on a boolean")
        literal = self._coerce(res, value)
        compare = _OPS[op]
        norm = _normaliser(cat)
        if op == "!=":
            return lambda row: (v := get(row)) is None or norm(v) != literal
        return lambda row: (v := get(row)) is not None and compare(norm(v), literal)

    def _relative(
        self, res: Resolved, get: Callable[[Row], Any], op: str, value: RelativeDate
    ) -> Predicate:
        cat = category(res.field.type)
        if cat not in ("date", "datetime"):
            raise _bad_value(res, f"date literal {value.name} used on a non-date field")
        start_d, end_d = day_range(value.name, value.n, self.now.astimezone(UTC).date())
        start: date | datetime = start_d
        end: date | datetime = end_d
        if cat == "datetime":
            start = datetime.combine(start_d, time(), UTC)
            end = datetime.combine(end_d, time(), UTC)
        inside: dict[str, Callable[[Any], bool]] = {
            "=": lambda v: start <= v < end,
            "!=": lambda v: not (start <= v < end),
            "<": lambda v: v < start,
            "<=": lambda v: v < end,
            ">": lambda v: v >= end,
            ">=": lambda v: v >= start,
        }
        test = inside[op]
        if op == "!=":
            return lambda row: (v := get(row)) is None or test(v)
        return lambda row: (v := get(row)) is not None and test(v)

    def _in_list(self, res: Resolved, cond: InList) -> Predicate:
        get = res.getter(self.source)
        cat = category(res.field.type)
        if cat in ("multi",):
            raise _bad_value(res, "IN is not valid on a multi-select picklist; use INCLUDES")
        values = [None if (v == "" and cat == "text") else v for v in cond.values]
        has_null = any(v is None for v in values)
        wanted = {self._coerce(res, v) for v in values if v is not None}
        norm = _normaliser(cat)

        def member(row: Row) -> bool:
            v = get(row)
            return has_null if v is None else norm(v) in wanted

        if cond.negated:
            return lambda row: not member(row)
        return member

    def _includes(self, res: Resolved, cond: Includes) -> Predicate:
        if category(res.field.type) != "multi":
            raise SoqlError(
                "INVALID_QUERY_FILTER_OPERATOR",
                f"includes or excludes operator only valid on multipicklist field: {res.path.text}",
            )
        get = res.getter(self.source)
        groups = [_multi_set(v) for v in cond.values]

        def includes(row: Row) -> bool:
            v = get(row)
            have = _multi_set(v) if v else set()
            return any(g <= have for g in groups)

        if cond.excludes:
            return lambda row: not includes(row)
        return includes

    def _semi_join(self, cond: SemiJoin) -> Predicate:
        res = resolve(self.obj, cond.field)
        if category(res.field.type) != "id":
            raise SoqlError(
                "MALFORMED_QUERY", f"semi join field must be an Id or reference: {cond.field.text}"
            )
        get = res.getter(self.source)
        ids = self.semi(cond)
        if cond.negated:
            return lambda row: get(row) not in ids
        return lambda row: get(row) in ids

    # --- literal coercion ----------------------------------------------------------------
    def _coerce(self, res: Resolved, value: Literal) -> Any:
        cat = category(res.field.type)
        ok = {
            "text": isinstance(value, str),
            "multi": isinstance(value, str),
            "id": isinstance(value, str),
            "number": isinstance(value, Decimal),
            "boolean": isinstance(value, bool),
            "date": isinstance(value, date) and not isinstance(value, datetime),
            "datetime": isinstance(value, datetime),
        }.get(cat, False)
        if not ok:
            kind = {"text": "string", "multi": "string", "id": "id", "number": "number"}.get(
                cat, cat
            )
            raise _bad_value(
                res,
                f"value of filter criterion for field '{res.path.text}' must be of type {kind}"
                + (
                    ""
                    if cat in ("text", "multi", "id")
                    else " and should not be enclosed in quotes"
                ),
            )
        if cat == "text":
            return str(value).casefold()
        if cat == "id":
            try:
                return normalise(str(value))
            except MalformedId:
                raise SoqlError(
                    "INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {value}"
                ) from None
        if cat == "number":
            return float(value)  # type: ignore[arg-type]
        return value


def _normaliser(cat: str) -> Callable[[Any], Any]:
    if cat == "text":
        return lambda v: str(v).casefold()
    if cat == "number":
        return float
    return lambda v: v


def _multi_set(value: str) -> set[str]:
    return {part.strip().casefold() for part in value.split(";") if part.strip()}


def _bad_value(res: Resolved, message: str) -> SoqlError:
    return SoqlError("INVALID_QUERY_FILTER_OPERATOR", message)


def like_regex(pattern: str) -> re.Pattern[str]:
    """``%`` any run, ``_`` one character, ``\\%``/``\\_``/``\\\\`` literal; case-insensitive."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)
