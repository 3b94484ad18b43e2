"""Run a parsed query over the org's rows: filter, sort, page, aggregate, render."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from devkit.sandbox.schema import SObject, sobject
from devkit.sandbox.soql.ast import Aggregate, FieldPath, OrderItem, Query, SemiJoin, SoqlError
from devkit.sandbox.soql.filters import Compiler, category
from devkit.sandbox.soql.resolve import Renderer, Resolved, Row, Source, format_value, resolve

MAX_OFFSET = 2000
MAX_AGGREGATE_ROWS = 2000
# Objects Salesforce refuses as the inner select of a semi-join ("Comparison Operators").
NO_SEMI_JOIN = frozenset({"task", "event"})


@dataclass
class Result:
    """Matching rows (a snapshot: rows are never mutated in place) and how to render them."""

    total_size: int
    rows: list[Row] = field(default_factory=list)
    render: Callable[[Row], Row] = lambda row: row
    aggregate: bool = False  # GROUP BY results cannot be paged with a locator


def lookup_object(name: str) -> SObject:
    obj = sobject(name)
    if obj is None:
        raise SoqlError(
            "INVALID_TYPE",
            f"sObject type '{name}' is not supported. If you are attempting to use a custom "
            "object, be sure to append the '__c' after the entity name. Please reference your "
            "WSDL or the describe call for the appropriate names.",
        )
    return obj


def execute(
    query: Query, source: Source, *, now: datetime, include_deleted: bool, version: str
) -> Result:
    obj = lookup_object(query.sobject)
    rows = _filtered(query, obj, source, now, include_deleted)
    if query.offset is not None and query.offset > MAX_OFFSET:
        raise SoqlError(
            "NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}"
        )
    if query.count_only:
        if query.order_by:
            raise SoqlError("MALFORMED_QUERY", "COUNT() cannot be used with ORDER BY")
        return Result(_window(len(rows), query))
    if query.is_aggregate:
        return _aggregate(query, obj, rows, source, version)
    selected = _select_fields(query, obj)
    order = [
        (resolve(obj, o.target), o) for o in _plain_order(query) if isinstance(o.target, FieldPath)
    ]
    _sort(rows, order, source)
    start = query.offset or 0
    stop = start + query.limit if query.limit is not None else None
    rows = rows[start:stop]
    renderer = Renderer(obj, selected, source, version)
    return Result(len(rows), rows, renderer.render)


def _window(count: int, query: Query) -> int:
    count = max(0, count - (query.offset or 0))
    return min(count, query.limit) if query.limit is not None else count


def _filtered(
    query: Query, obj: SObject, source: Source, now: datetime, include_deleted: bool
) -> list[Row]:
    rows = source.rows(obj.name, include_deleted=include_deleted)
    if query.where is None:
        return list(rows)

    def run_semi(semi: SemiJoin) -> set[str]:
        sub = semi.query
        if sub.sobject.lower() in NO_SEMI_JOIN:
            raise SoqlError(
                "MALFORMED_QUERY",
                f"Entity '{sub.sobject}' is not supported for semi join inner selects",
            )
        if len(sub.select) != 1 or not isinstance(sub.select[0], FieldPath) or sub.is_aggregate:
            raise SoqlError(
                "MALFORMED_QUERY", "a semi join inner select must select exactly one Id field"
            )
        sub_obj = lookup_object(sub.sobject)
        inner = resolve(sub_obj, sub.select[0])
        if category(inner.field.type) != "id":
            raise SoqlError(
                "MALFORMED_QUERY", "a semi join inner select must select an Id or reference field"
            )
        get = inner.getter(source)
        return {v for r in _filtered(sub, sub_obj, source, now, False) if (v := get(r))}

    predicate = Compiler(obj, source, now, run_semi).compile(query.where)
    return [row for row in rows if predicate(row)]


def _select_fields(query: Query, obj: SObject) -> list[Resolved]:
    seen: set[str] = set()
    out: list[Resolved] = []
    for item in query.select:
        assert isinstance(item, FieldPath)
        res = resolve(obj, item)
        if res.key in seen:
            raise SoqlError("MALFORMED_QUERY", f"duplicate field selected: {item.text}")
        seen.add(res.key)
        out.append(res)
    return out


def _plain_order(query: Query) -> list[OrderItem]:
    for item in query.order_by:
        if isinstance(item.target, Aggregate):
            raise SoqlError("MALFORMED_QUERY", "ORDER BY an aggregate needs GROUP BY")
    return list(query.order_by)


def _sort_key(cat: str) -> Callable[[Any], Any]:
    if cat == "text":
        return lambda v: str(v).casefold()
    if cat == "number":
        return float
    return lambda v: v


def _sort(rows: list[Row], order: list[tuple[Resolved, OrderItem]], source: Source) -> None:
    """Stable multi-key sort, last key first; nulls first unless NULLS LAST."""
    for res, item in reversed(order):
        cat = category(res.field.type)
        if cat == "multi" or res.field.type == "textarea":
            raise SoqlError(
                "MALFORMED_QUERY", f"field '{res.path.text}' can not be sorted in a query call"
            )
        get = res.getter(source)
        rows.sort(key=_keyer(get, _sort_key(cat), item), reverse=item.descending)


def _keyer(
    get: Callable[[Row], Any], norm: Callable[[Any], Any], item: OrderItem
) -> Callable[[Row], tuple[Any, ...]]:
    # With reverse=True the tuple order flips, so the null rank flips too.
    null_high = item.nulls_last != item.descending

    def key(row: Row) -> tuple[Any, ...]:
        v = get(row)
        if v is None:
            return (1,) if null_high else (0,)
        return (0, norm(v)) if null_high else (1, norm(v))

    return key


# --- aggregates -------------------------------------------------------------------------
def _aggregate(query: Query, obj: SObject, rows: list[Row], source: Source, version: str) -> Result:
    groups = [resolve(obj, g) for g in query.group_by]
    group_keys = {g.key for g in groups}
    columns: list[tuple[str, Callable[[list[Row]], Any]]] = []
    expr = 0
    for item in query.select:
        if isinstance(item, FieldPath):
            res = resolve(obj, item)
            if res.key not in group_keys:
                raise SoqlError(
                    "MALFORMED_QUERY", f"Field must be grouped or aggregated: {item.text}"
                )
            columns.append((res.field.name, _first(res, source)))
        else:
            name = item.alias or f"expr{expr}"
            expr += 0 if item.alias else 1
            columns.append((name, _aggregator(item, obj, source)))
    buckets: dict[tuple[Any, ...], list[Row]] = {}
    getters = [(g.getter(source), _sort_key(category(g.field.type))) for g in groups]
    for row in rows:
        key = tuple(norm(v) if (v := get(row)) is not None else None for get, norm in getters)
        buckets.setdefault(key, []).append(row)
    if not groups:
        buckets = {(): rows}
    out = [_agg_row(columns, members) for members in buckets.values()]
    out = _order_aggregates(query, obj, out, buckets, source)
    start = query.offset or 0
    out = out[start : start + query.limit if query.limit is not None else None]
    if len(out) > MAX_AGGREGATE_ROWS:
        raise SoqlError(
            "MALFORMED_QUERY",
            "Aggregate query does not support queryMore(), use LIMIT to restrict the results to a single batch",
        )
    return Result(len(out), out, lambda r: r, aggregate=True)


def _agg_row(columns: list[tuple[str, Callable[[list[Row]], Any]]], members: list[Row]) -> Row:
    row: Row = {"attributes": {"type": "AggregateResult"}}
    for name, fn in columns:
        row[name] = fn(members)
    return row


def _first(res: Resolved, source: Source) -> Callable[[list[Row]], Any]:
    get = res.getter(source)
    return lambda members: format_value(res.field.type, get(members[0])) if members else None


def _aggregator(agg: Aggregate, obj: SObject, source: Source) -> Callable[[list[Row]], Any]:
    if agg.arg is None:
        return len
    res = resolve(obj, agg.arg)
    get = res.getter(source)
    cat = category(res.field.type)
    if agg.func in ("SUM", "AVG") and cat != "number":
        raise SoqlError(
            "INVALID_FIELD", f"field {agg.arg.text} does not support aggregate operator {agg.func}"
        )
    if agg.func in ("MIN", "MAX") and cat in ("boolean", "multi"):
        raise SoqlError(
            "INVALID_FIELD", f"field {agg.arg.text} does not support aggregate operator {agg.func}"
        )

    def values(members: list[Row]) -> list[Any]:
        return [v for r in members if (v := get(r)) is not None]

    norm = _sort_key(cat)
    funcs: dict[str, Callable[[list[Row]], Any]] = {
        "COUNT": lambda m: len(values(m)),
        "COUNT_DISTINCT": lambda m: len({norm(v) for v in values(m)}),
        "SUM": lambda m: float(sum(values(m))) if values(m) else None,
        "AVG": lambda m: (sum(vs) / len(vs)) if (vs := values(m)) else None,
        "MIN": lambda m: (
            format_value(res.field.type, min(values(m), key=norm)) if values(m) else None
        ),
        "MAX": lambda m: (
            format_value(res.field.type, max(values(m), key=norm)) if values(m) else None
        ),
    }
    return funcs[agg.func]


def _order_aggregates(
    query: Query,
    obj: SObject,
    out: list[Row],
    buckets: dict[tuple[Any, ...], list[Row]],
    source: Source,
) -> list[Row]:
    if not query.order_by:
        return out
    members = list(buckets.values())
    indexed = list(range(len(out)))
    for item in reversed(query.order_by):
        if isinstance(item.target, Aggregate):
            fn = _aggregator(item.target, obj, source)
            vals = [fn(m) for m in members]
        else:
            res = resolve(obj, item.target)
            if res.key not in {resolve(obj, g).key for g in query.group_by}:
                raise SoqlError(
                    "MALFORMED_QUERY",
                    f"Ordered field must be grouped or aggregated: {item.target.text}",
                )
            get = res.getter(source)
            norm = _sort_key(category(res.field.type))
            vals = [norm(v) if (v := get(m[0])) is not None else None for m in members]
        null_high = item.nulls_last != item.descending
        indexed.sort(
            key=lambda i: (
                ((1,) if null_high else (0,))
                if vals[i] is None
                else ((0, vals[i]) if null_high else (1, vals[i]))
            ),
            reverse=item.descending,
        )
    return [out[i] for i in indexed]
