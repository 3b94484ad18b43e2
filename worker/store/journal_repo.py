"""Reads and writes of the distribution journal (:class:`JournalRow` rows) for the worker."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, update
from sqlmodel import Session, col, select

from worker.store import privacy
from worker.store.journal_entry import COLUMNS, JournalEntry
from worker.store.models.journal import DecisionKind, DecisionStatus, JournalRow, email_domain
from worker.store.models.types import utc_now

CHUNK = 500


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def insert_decisions(session: Session, entries: Sequence[JournalEntry]) -> list[int]:
    """Journal ``entries`` in bulk (one multi-row INSERT); their row ids, in order."""
    if not entries:
        return []
    table = JournalRow.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "sqlite":
        return _insert_sqlite(session, table, entries)
    rows = [_columns(e) for e in entries]
    if len({e.lead_id for e in entries}) != len(entries):  # ids could not be matched by lead
        ordered = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        return [int(i) for i in session.execute(ordered, rows).scalars()]
    # unordered RETURNING lets SQLAlchemy send multi-row INSERTs (SQLite: ordered RETURNING
    # means one statement per row); ids follow row order, which is checked below
    query = table.insert().returning(table.c.id, table.c.lead_id)
    got = sorted((int(i), str(lead)) for i, lead in session.execute(query, rows).all())
    if [lead for _, lead in got] == [e.lead_id for e in entries]:
        return [i for i, _ in got]
    by_lead = {lead: i for i, lead in got}  # not handed out in row order: match by lead
    return [by_lead[e.lead_id] for e in entries]


def _columns(entry: JournalEntry) -> dict[str, Any]:
    row = {name: getattr(entry, name) for name in COLUMNS}
    row[DOMAIN] = email_domain(entry.lead_email)
    return row


DOMAIN = "lead_email_domain"  # derived from the entry's e-mail, not set by the jobs
ROW_COLUMNS = (*COLUMNS, DOMAIN)  # what a journal INSERT writes


def as_row(entry: JournalEntry, row_id: int) -> JournalRow:
    """The row (not attached to a session) of ``entry``, journalled as ``row_id``."""
    return JournalRow(id=row_id, **_columns(entry))


def _insert_sqlite(session: Session, table: Any, entries: Sequence[JournalEntry]) -> list[int]:
    """SQLite: multi-row INSERTs of :data:`ROWS_PER_INSERT` rows (one SQL text, prepared
    once per connection; the last few rows by ``executemany``), the values converted by
    the columns' own bind processors (stored exactly as the ORM stores them). A busy page
    is 2,000 rows of 28 columns, and SQLAlchemy's per-row parameter handling cost the
    cycle's thread about as much CPU as SQLite's own work.

    Why not ``executemany`` for all: the driver lets go of the GIL around each row's
    step, and with another thread running Python (the read-ahead, the writes) each row
    then waits for the GIL to come back: 2,000 rows took 1.6 s instead of 0.03 s next
    to a busy thread. One statement per 100 rows waits 20 times, not 2,000.

    ``executemany`` hands back no ids. The INSERT holds SQLite's single write lock until
    the commit, and a new row's id is above every id in the table, so this page's rows
    are the table's ``len(entries)`` highest ids; read back and checked lead by lead."""
    names = ROW_COLUMNS
    pick = attrgetter(*COLUMNS)
    conn = session.connection()
    convert = _converters(conn.dialect, table, COLUMNS)

    def values(entry: JournalEntry) -> list[object]:
        v = list(pick(entry))
        for i, process in convert:
            if v[i] is not None:
                v[i] = process(v[i])
        v.append(email_domain(entry.lead_email))
        return v

    sql = f"INSERT INTO decision ({', '.join(names)}) VALUES "
    one = f"({', '.join('?' * len(names))})"
    per = _rows_per_statement(conn.connection.driver_connection, len(names))
    values_of = [values(e) for e in entries]
    whole = len(values_of) - len(values_of) % per
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        many = sql + ", ".join([one] * per)
        for start in range(0, whole, per):
            cursor.execute(many, [v for row in values_of[start : start + per] for v in row])
        if whole < len(values_of):
            cursor.executemany(sql + one, values_of[whole:])
        got = cursor.execute(
            "SELECT id, lead_id FROM decision ORDER BY id DESC LIMIT ?", (len(entries),)
        ).fetchall()
    finally:
        cursor.close()
    got.reverse()
    if [str(lead) for _, lead in got] != [e.lead_id for e in entries]:
        raise RuntimeError("journal insert: the rows read back are not the rows written")
    return [int(i) for i, _ in got]


ROWS_PER_INSERT = 100


def _rows_per_statement(connection: Any, columns: int) -> int:
    """:data:`ROWS_PER_INSERT`, or fewer when SQLite was built with a lower limit on
    bound parameters per statement."""
    try:
        limit = int(connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    except (AttributeError, sqlite3.Error):  # Python < 3.11: the old default
        limit = 999
    return max(1, min(ROWS_PER_INSERT, limit // max(1, columns)))


@lru_cache(maxsize=16)  # one entry per engine (tests make many)
def _converters(
    dialect: Any, table: Any, names: tuple[str, ...]
) -> list[tuple[int, Callable[[Any], Any]]]:
    """(position, bind processor) of the columns that convert their values: worked out
    once per column list, not once per page."""
    procs = [(i, _fast(table.c[n].type.dialect_impl(dialect).bind_processor(dialect)))
             for i, n in enumerate(names)]  # fmt: skip
    return [(i, p) for i, p in procs if p is not None]


_PROBE = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)


_LAST: tuple[datetime | None, str] = (None, "")  # a page's rows share one decided_at


def _sqlite_datetime(value: datetime) -> str:
    global _LAST
    last = _LAST  # one read, one write: a (value, text) pair is never torn across threads
    if last[0] is value:
        return last[1]
    text = value.replace(tzinfo=None).isoformat(" ", "microseconds")
    _LAST = (value, text)
    return text


def _fast(process: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """SQLAlchemy's SQLite DATETIME processor formats through a dict per value (a fifth
    of the insert's Python time); ``isoformat`` writes the same text, checked here on a
    probe value before it is used instead."""
    if process is None:
        return None
    try:
        same = process(_PROBE) == _sqlite_datetime(_PROBE)
    except Exception:  # noqa: BLE001 - not a datetime column
        same = False
    return _sqlite_datetime if same else process


def pending(session: Session, limit: int = 10_000) -> list[JournalRow]:
    query = select(JournalRow).where(JournalRow.status == DecisionStatus.PENDING)
    return list(session.exec(query.order_by(col(JournalRow.id)).limit(limit)).all())


def pending_lead_ids(session: Session) -> set[str]:
    query = select(JournalRow.lead_id).where(JournalRow.status == DecisionStatus.PENDING)
    return set(session.exec(query).all())


def journaled_lead_ids(session: Session, lead_ids: Sequence[str]) -> set[str]:
    """The leads of ``lead_ids`` with any decision in the journal (held, pending, applied,
    skipped...): leads this worker has seen before."""
    out: set[str] = set()
    for chunk in _chunks(list(lead_ids)):
        query = select(JournalRow.lead_id).where(col(JournalRow.lead_id).in_(chunk)).distinct()
        out.update(session.exec(query).all())
    return out


def held_lead_ids(session: Session) -> list[str]:
    """Leads waiting in a held state, oldest decision first (ids only: cheap per cycle)."""
    query = select(JournalRow.lead_id).where(JournalRow.status == DecisionStatus.HELD)
    return list(session.exec(query.order_by(col(JournalRow.id))).all())


def held_slice(
    session: Session,
    *,
    after_id: int,
    upto_id: int | None,
    limit: int,
    skip_rules: Sequence[str] = (),
) -> list[tuple[int, str]]:
    """``(decision id, lead id)`` of held rows with ``after_id < id <= upto_id``, oldest
    first, at most ``limit``; rows held by a rule named in ``skip_rules`` are left out.
    Paging by id keeps a cycle's memory independent of the size of the held backlog."""
    query = select(JournalRow.id, JournalRow.lead_id).where(
        JournalRow.status == DecisionStatus.HELD, col(JournalRow.id) > after_id
    )
    if upto_id is not None:
        query = query.where(col(JournalRow.id) <= upto_id)
    if skip_rules:
        query = query.where(
            or_(col(JournalRow.rule).is_(None), col(JournalRow.rule).not_in(skip_rules))
        )
    rows = session.exec(query.order_by(col(JournalRow.id)).limit(limit)).all()
    return [(int(i), str(lead)) for i, lead in rows if i is not None]


def max_held_id(session: Session) -> int:
    query = select(func.max(JournalRow.id)).where(JournalRow.status == DecisionStatus.HELD)
    return int(session.exec(query).one() or 0)


def held(session: Session, lead_ids: Sequence[str] | None = None) -> dict[str, JournalRow]:
    """The held row of each lead still waiting (one per lead; updated in place each retry)."""
    query = select(JournalRow).where(JournalRow.status == DecisionStatus.HELD)
    if lead_ids is None:
        return {d.lead_id: d for d in session.exec(query).all()}
    out: dict[str, JournalRow] = {}
    for chunk in _chunks(list(lead_ids)):
        for row in session.exec(query.where(col(JournalRow.lead_id).in_(chunk))).all():
            out[row.lead_id] = row
    return out


def held_reasons(session: Session, lead_ids: Sequence[str]) -> dict[str, str]:
    """Lead id -> reason of its held row, for the leads of ``lead_ids`` still waiting: two
    columns, not whole rows (a trace is ~2 kB, and every batch asks)."""
    query = select(JournalRow.lead_id, JournalRow.reason).where(
        JournalRow.status == DecisionStatus.HELD
    )
    out: dict[str, str] = {}
    for chunk in _chunks(list(lead_ids)):
        out.update(session.exec(query.where(col(JournalRow.lead_id).in_(chunk))).all())
    return out


def drop_held(session: Session, lead_ids: Sequence[str]) -> None:
    """Forget held rows of leads that were decided again (their new row replaces them)."""
    for chunk in _chunks(list(lead_ids)):
        session.execute(
            delete(JournalRow).where(
                JournalRow.status == DecisionStatus.HELD,  # type: ignore[arg-type]
                col(JournalRow.lead_id).in_(chunk),
            )
        )


def by_ids(session: Session, ids: Sequence[int]) -> list[JournalRow]:
    if not ids:
        return []
    return list(session.exec(select(JournalRow).where(col(JournalRow.id).in_(ids))).all())


def mark(
    session: Session,
    ids: Sequence[int],
    status: str,
    *,
    error: str | None = None,
    applied_at: datetime | None = None,
    sla_state: str | None = None,
) -> None:
    """Move decisions ``ids`` (still pending) to ``status``. A decision that did not
    reach Salesforce (skipped, failed) assigned nobody: it keeps no SLA due time."""
    if not ids:
        return
    values: dict[str, object] = {"status": status}
    if status in (DecisionStatus.SKIPPED, DecisionStatus.FAILED):
        values["sla_due_at"] = None
    if error is not None:
        values["error"] = error[:2000]
    if applied_at is not None:
        values["applied_at"] = applied_at
    if sla_state is not None:
        values["sla_state"] = sla_state
    for start in range(0, len(ids), CHUNK):
        session.execute(
            update(JournalRow)
            .where(
                col(JournalRow.id).in_(ids[start : start + CHUNK]),
                JournalRow.status == DecisionStatus.PENDING,  # type: ignore[arg-type]
            )
            .values(**values)
        )


def mark_applied(session: Session, ids: Sequence[int], applied_at: datetime) -> None:
    """Move decisions ``ids`` (still pending) to ``applied`` and start the SLA clock of
    those that have an SLA, in ONE statement per 500: the two used to be separate
    UPDATEs, rewriting every applied row and its index entries twice."""
    starts_clock = and_(
        col(JournalRow.sla_due_at).is_not(None), col(JournalRow.sla_state).is_(None)
    )
    for start in range(0, len(ids), CHUNK):
        session.execute(
            update(JournalRow)
            .where(
                col(JournalRow.id).in_(ids[start : start + CHUNK]),
                JournalRow.status == DecisionStatus.PENDING,  # type: ignore[arg-type]
            )
            .values(
                status=DecisionStatus.APPLIED,
                applied_at=applied_at,
                sla_state=case((starts_clock, "open"), else_=col(JournalRow.sla_state)),
            )
        )


def set_sla_state(
    session: Session, ids: Sequence[int], state: str, first_touch_at: datetime | None = None
) -> None:
    if not ids:
        return
    values: dict[str, object] = {"sla_state": state}
    if first_touch_at is not None:
        values["first_touch_at"] = first_touch_at
    session.execute(update(JournalRow).where(col(JournalRow.id).in_(ids)).values(**values))


def push_sla_due(session: Session, row_id: int, due: datetime) -> None:
    """A new response window for an open SLA clock (the owner was reminded)."""
    session.execute(update(JournalRow).where(col(JournalRow.id) == row_id).values(sla_due_at=due))


def breach_reminders(session: Session, rows: Sequence[JournalRow]) -> dict[int, int]:
    """Journal row id -> SLA reminders journalled for its lead since it (the reminders of
    that assignment; an earlier assignment's come before its id)."""
    ids: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        ids[r.lead_id].append(r.id or 0)
    counts: dict[int, int] = defaultdict(int)
    for chunk in _chunks(list(ids)):
        query = select(JournalRow.lead_id, JournalRow.id).where(
            col(JournalRow.lead_id).in_(chunk), JournalRow.kind == DecisionKind.SLA_REMIND
        )
        for lead_id, note_id in session.exec(query).all():
            since = [i for i in ids[lead_id] if i < (note_id or 0)]
            if since:
                counts[max(since)] += 1
    return dict(counts)


def sla_open(session: Session, limit: int = 5_000) -> list[JournalRow]:
    """Applied decisions whose lead has not been touched yet (oldest due first)."""
    query = (
        select(JournalRow)
        .where(JournalRow.sla_state == "open", JournalRow.status == DecisionStatus.APPLIED)
        .order_by(col(JournalRow.sla_due_at))
        .limit(limit)
    )
    return list(session.exec(query).all())


def sla_due(session: Session, now: datetime, limit: int = 5_000) -> list[JournalRow]:
    """Open clocks whose due time has come (oldest due first): a range of the
    ``(sla_state, sla_due_at)`` index."""
    query = (
        select(JournalRow)
        .where(
            JournalRow.sla_state == "open",
            col(JournalRow.sla_due_at) <= now.astimezone(UTC),
            JournalRow.status == DecisionStatus.APPLIED,
        )
        .order_by(col(JournalRow.sla_due_at))
        .limit(limit)
    )
    return list(session.exec(query).all())


def sla_open_for(session: Session, lead_ids: Sequence[str]) -> list[JournalRow]:
    """The open clocks of ``lead_ids`` (by the lead_id index)."""
    out: list[JournalRow] = []
    for chunk in _chunks(list(lead_ids)):
        query = select(JournalRow).where(
            col(JournalRow.lead_id).in_(chunk),
            JournalRow.sla_state == "open",
            JournalRow.status == DecisionStatus.APPLIED,
        )
        out += session.exec(query).all()
    return out


def past_owners(session: Session, lead_ids: Sequence[str]) -> dict[str, set[str]]:
    """Rep keys each lead was ever given (applied or pending), for "never back to them"."""
    out: dict[str, set[str]] = defaultdict(set)
    for chunk in _chunks(list(lead_ids)):
        query = select(JournalRow.lead_id, JournalRow.rep_key).where(
            col(JournalRow.lead_id).in_(chunk),
            col(JournalRow.status).in_([DecisionStatus.APPLIED, DecisionStatus.PENDING]),
        )
        for lead_id, rep_key in session.exec(query).all():
            if rep_key:
                out[lead_id].add(rep_key)
    return dict(out)


def latest_for_leads(session: Session, lead_ids: Sequence[str]) -> dict[str, JournalRow]:
    out: dict[str, JournalRow] = {}
    for chunk in _chunks(list(lead_ids)):
        query = (
            select(JournalRow)
            .where(col(JournalRow.lead_id).in_(chunk))
            .order_by(col(JournalRow.id))
        )
        for row in session.exec(query).all():
            out[row.lead_id] = row
    return out


def scrub_before(session: Session, cutoff: datetime) -> int:
    """Blank the lead snapshot (PII) of decisions decided before ``cutoff`` (retention),
    and remove the lead's values from their trace, reason and error text
    (:mod:`worker.store.privacy`). Rows count once: a scrubbed row has no snapshot left.

    The decision itself (owner, pool, rule, status, the trace's eligibility and pick)
    stays for the fairness history.
    """
    old = and_(col(JournalRow.decided_at) < cutoff, privacy.has_snapshot())
    return privacy.scrub_decisions(session, old)


def now() -> datetime:
    return utc_now()
