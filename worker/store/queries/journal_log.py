"""The distribution log: filtered, searched and paged in SQL, newest first."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.engine import Engine

from worker.store.models.journal import (
    NOTE_KINDS,
    DecisionKind,
    DecisionStatus,
    JournalRow,
    email_domain,
    outcome_of,
)
from worker.store.queries._sql import as_utc, seconds_between

OUTCOMES: tuple[str, ...] = ("assigned", "reassigned", "reminded", "escalated", "held", "skipped",
                             "failed", "pending")  # fmt: skip
_SF_ID = re.compile(r"[A-Za-z0-9]{15}([A-Za-z0-9]{3})?")
D: Any = JournalRow  # SQLModel columns typed as plain values; Any keeps mypy quiet on .in_()

LOG_COLUMNS: tuple[str, ...] = (
    "id",
    "decided_at",
    "lead_id",
    "lead_name",
    "lead_company",
    "lead_email",
    "lead_country",
    "kind",
    "status",
    "owner_id",
    "owner_name",
    "pool",
    "rule",
    "method",
    "reason",
    "hop",
)


@dataclass(frozen=True)
class LogFilter:
    """What the distribution log shows; empty tuples mean "any"."""

    start: datetime | None = None
    end: datetime | None = None  # exclusive
    owners: tuple[str, ...] = ()  # owner_id values
    pools: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    search: str = ""


@dataclass(frozen=True)
class Facets:
    """Values offered in the filter pickers."""

    owners: tuple[tuple[str, str], ...] = ()  # (owner_id, owner_name)
    pools: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    first_at: datetime | None = None
    last_at: datetime | None = None
    extra: dict[str, object] = field(default_factory=dict)


def _outcome_clause(outcome: str) -> ColumnElement[bool]:
    if outcome == "assigned":
        return and_(D.status == DecisionStatus.APPLIED, D.kind == DecisionKind.ROUTE)
    if outcome == "reassigned":
        moved = D.kind.not_in((DecisionKind.ROUTE, *NOTE_KINDS))
        return and_(D.status == DecisionStatus.APPLIED, moved)  # type: ignore[no-any-return]
    if outcome in ("reminded", "escalated"):
        kind = DecisionKind.SLA_REMIND if outcome == "reminded" else DecisionKind.ESCALATE_MANAGER
        return and_(D.status == DecisionStatus.APPLIED, D.kind == kind)
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}: use one of {', '.join(OUTCOMES)}")
    return D.status == outcome  # type: ignore[no-any-return]


_DOMAIN = re.compile(r"@?[a-z0-9-]+(\.[a-z0-9-]+)+", re.IGNORECASE)

SEARCH_WINDOW = 100_000
"""A name or company search reads the newest this many decisions (before the period's
end, when the log has one) and no more: a part of a name can only be found by reading
every row's text, and the journal keeps millions (the dashboard's pages say so)."""


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")  # type: ignore[no-any-return]


def _window_start(conn: Any, end: datetime | None, window: int) -> datetime | None:
    """When the newest ``window`` decisions before ``end`` begin (the ``window``-th
    newest's ``decided_at``: one walk down the (decided_at, id) index), or None when
    there are fewer. Asked first, on its own, so the search's query carries it as a value
    the planner sees (PostgreSQL planned a sub-select's bound as unknown: a scan of
    every row)."""
    nth = select(D.decided_at).order_by(D.decided_at.desc()).offset(window - 1).limit(1)
    if end is not None:
        nth = nth.where(D.decided_at < end)
    return as_utc(conn.execute(nth).scalar())


def _named(text: str) -> bool:
    """Whether ``text`` is searched as part of a name or company (the unindexed search)."""
    text = text.strip()
    if "@" in text and not text.startswith("@"):
        return False
    if _SF_ID.fullmatch(text) and text[:3] == "00Q":
        return False
    return not _DOMAIN.fullmatch(text)


def _search_clause(text: str, *, oldest: datetime | None = None) -> ColumnElement[bool]:
    """Lead Id (15 or 18 characters), exact e-mail, e-mail domain (``gmail.com`` or
    ``@gmail.com``: every lead with an address there, by the indexed
    ``lead_email_domain``), or a case-insensitive part of the lead's name or company
    among the decisions since ``oldest`` (the search window's start, when it has one)."""
    text = text.strip()
    if "@" in text and not text.startswith("@"):
        return D.lead_email.in_({text, text.lower()})  # type: ignore[no-any-return]
    if _SF_ID.fullmatch(text) and text[:3] == "00Q":  # Lead key prefix
        if len(text) == 18:
            return D.lead_id == text  # type: ignore[no-any-return]
        # a 15-character Id is the case-sensitive prefix of the 18-character one
        return or_(D.lead_id == text, and_(D.lead_id >= text, D.lead_id < text + "~"))
    if _DOMAIN.fullmatch(text):
        return D.lead_email_domain == email_domain("@" + text.lstrip("@"))  # type: ignore[no-any-return]
    named = or_(_contains(D.lead_company, text), _contains(D.lead_name, text))
    return named if oldest is None else and_(D.decided_at >= oldest, named)


def where_clauses(flt: LogFilter, conn: Any) -> list[ColumnElement[bool]]:
    """The filter as SQL; ``conn`` answers where a name search's window starts."""
    clauses: list[ColumnElement[bool]] = []
    if flt.start is not None:
        clauses.append(D.decided_at >= flt.start)
    if flt.end is not None:
        clauses.append(D.decided_at < flt.end)
    if flt.owners:
        clauses.append(D.owner_id.in_(flt.owners))
    if flt.pools:
        clauses.append(D.pool.in_(flt.pools))
    if flt.rules:
        clauses.append(D.rule.in_(flt.rules))
    if flt.outcomes:
        clauses.append(or_(*(_outcome_clause(o) for o in flt.outcomes)))
    if flt.search.strip():
        oldest = _window_start(conn, flt.end, SEARCH_WINDOW) if _named(flt.search) else None
        clauses.append(_search_clause(flt.search, oldest=oldest))
    return clauses


def _row(mapping: Any) -> dict[str, Any]:
    row = dict(mapping)
    row["decided_at"] = as_utc(row["decided_at"])
    row["outcome"] = str(outcome_of(row["kind"], row["status"]))
    return row


def log_page(
    engine: Engine, flt: LogFilter, *, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """One page of decisions matching ``flt``, newest first (index on decided_at, id)."""
    columns = [getattr(JournalRow, name) for name in LOG_COLUMNS]
    with engine.connect() as conn:
        stmt = (
            select(*columns)
            .where(*where_clauses(flt, conn))
            .order_by(D.decided_at.desc(), D.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [_row(m) for m in conn.execute(stmt).mappings()]


def log_count(engine: Engine, flt: LogFilter) -> int:
    with engine.connect() as conn:
        stmt = select(func.count()).select_from(JournalRow).where(*where_clauses(flt, conn))
        return int(conn.execute(stmt).scalar_one())


def iter_log(
    engine: Engine, flt: LogFilter, *, max_rows: int, batch: int = 5000
) -> Iterator[dict[str, Any]]:
    """Rows for a CSV export, newest first, streamed in keyset batches (no deep OFFSET)."""
    columns = [getattr(JournalRow, name) for name in LOG_COLUMNS]
    extra = [D.applied_at, D.lead_source, D.lead_rating, D.lead_employees, D.error]
    last: tuple[Any, int] | None = None
    sent = 0
    with engine.connect() as conn:  # the window is fixed once: batches do not drift
        clauses = where_clauses(flt, conn)
    while sent < max_rows:
        stmt = select(*columns, *extra).where(*clauses)
        if last is not None:
            stmt = stmt.where(
                or_(D.decided_at < last[0], and_(D.decided_at == last[0], D.id < last[1]))
            )
        stmt = stmt.order_by(D.decided_at.desc(), D.id.desc()).limit(min(batch, max_rows - sent))
        with engine.connect() as conn:
            rows = list(conn.execute(stmt).mappings())
        if not rows:
            return
        for mapping in rows:
            yield _row(mapping)
        sent += len(rows)
        last = (rows[-1]["decided_at"], rows[-1]["id"])


def decision_detail(engine: Engine, decision_id: int) -> dict[str, Any] | None:
    """Every column of one decision (with its trace JSON) plus derived timings."""
    stmt = select(
        JournalRow,
        seconds_between(D.applied_at, D.lead_created_at).label("assign_seconds"),
        seconds_between(D.first_touch_at, D.applied_at).label("touch_seconds"),
    ).where(D.id == decision_id)
    with engine.connect() as conn:
        found = conn.execute(stmt).mappings().first()
    if found is None:
        return None
    row = dict(found)
    for key in ("decided_at", "applied_at", "lead_created_at", "first_touch_at", "sla_due_at"):
        row[key] = as_utc(row[key])
    row["outcome"] = str(outcome_of(row["kind"], row["status"]))
    return row


def lead_history(engine: Engine, lead_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Every decision about one lead (route, re-assignments, escalation), newest first."""
    return log_page(engine, LogFilter(search=lead_id), limit=limit)


def facets(engine: Engine) -> Facets:
    """Distinct owners, pools and rules (index scans), and the journal's time span."""
    with engine.connect() as conn:
        owners = [(i, _latest_name(conn, i)) for i in distinct_values(conn, D.owner_id)]
        pool_list = distinct_values(conn, D.pool)
        rule_list = distinct_values(conn, D.rule)
        span = (  # two queries: SQLite optimises a lone min() or max() to one index seek
            conn.execute(select(func.min(D.decided_at))).scalar(),
            conn.execute(select(func.max(D.decided_at))).scalar(),
        )
    return Facets(
        owners=tuple(sorted(((str(i), str(n or i)) for i, n in owners), key=lambda o: o[1])),
        pools=tuple(pool_list),
        rules=tuple(rule_list),
        first_at=as_utc(span[0]),
        last_at=as_utc(span[1]),
    )


def distinct_values(conn: Any, column: Any, *, cap: int = 500) -> list[str]:
    """Distinct non-null values of an indexed column by hopping through the index
    (``min(col) WHERE col > previous``): a few dozen seeks instead of scanning 10^6 rows."""
    values: list[str] = []
    previous: str | None = None
    while len(values) < cap:
        where = column.is_not(None) if previous is None else column > previous
        found = conn.execute(select(func.min(column)).where(where)).scalar()
        if found is None:
            break
        previous = str(found)
        values.append(previous)
    return values


def _latest_name(conn: Any, owner_id: str) -> str | None:
    """The owner's name as last journaled (one index lookup per owner, not a scan)."""
    stmt = select(D.owner_name).where(D.owner_id == owner_id).order_by(D.decided_at.desc()).limit(1)
    name = conn.execute(stmt).scalar()
    return None if name is None else str(name)


def owner_names(rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    return {
        str(r["owner_id"]): str(r["owner_name"] or r["owner_id"]) for r in rows if r["owner_id"]
    }
