"""Portable SQL pieces for the read side (SQLite and PostgreSQL differ on dates).

SQLite stores our timezone-aware timestamps as ISO text in UTC; PostgreSQL as
``timestamptz``. These constructs compile to the right expression for each.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement[float]):  # noqa: N801 - reads like a SQL function
    """``later - earlier`` in seconds (a float)."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"((julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)})) * 86400.0)"
    )


@compiles(seconds_between, "postgresql")
def _seconds_pg(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)}))"
    )


class unindexed(FunctionElement[str]):  # noqa: N801
    """The column, with SQLite told not to search by an index on it (``+col``): its
    planner has no statistics and prefers any equality index (``status = 'applied'``:
    nearly every row) over a range on a better one. PostgreSQL plans with statistics."""

    type = String()
    inherit_cache = True


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


@compiles(unindexed)
def _unindexed_other(element: unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


class utc_day(FunctionElement[str]):  # noqa: N801
    """The UTC calendar day of a timestamp as ``'YYYY-MM-DD'`` text."""

    type = String()
    inherit_cache = True


@compiles(utc_day, "sqlite")
def _day_sqlite(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"


@compiles(utc_day, "postgresql")
def _day_pg(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


class utc_ten_minutes(FunctionElement[str]):  # noqa: N801
    """The UTC ten minutes a timestamp falls in as ``'YYYY-MM-DD HH:M'`` text (the
    minute's tens digit): fine enough to place it in any time zone's day (every zone's
    offset but a few quarter-hour ones is a multiple of ten minutes)."""

    type = String()
    inherit_cache = True


@compiles(utc_ten_minutes, "sqlite")
def _ten_sqlite(element: utc_ten_minutes, compiler: Any, **kw: Any) -> str:
    return f"replace(substr({compiler.process(element.clauses, **kw)}, 1, 15), 'T', ' ')"


@compiles(utc_ten_minutes, "postgresql")
def _ten_pg(element: utc_ten_minutes, compiler: Any, **kw: Any) -> str:
    return (
        f"substr(to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD HH24:MI'), 1, 15)"
    )


def ten_minutes_start(bucket: str) -> datetime:
    """The UTC instant a :class:`utc_ten_minutes` bucket begins."""
    return datetime.strptime(bucket + "0", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def as_utc(value: datetime | str | None) -> datetime | None:
    """Timestamps come back naive from SQLite and as text from raw SQL: make them aware."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
