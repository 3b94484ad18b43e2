"""The store on SQLite and PostgreSQL: migrations are idempotent and keep existing rows."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select

from worker.store.db import current_revision, head_revision, make_engine, session_scope, upgrade
from worker.store.journal_entry import JournalEntry
from worker.store.models import JournalRow, KeyValue, WorkerHeartbeat

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_upgrade_creates_the_schema_and_is_idempotent(store_url: str) -> None:
    upgrade(store_url)
    upgrade(store_url)

    engine = make_engine(store_url)
    assert current_revision(engine) == head_revision()
    with session_scope(engine) as session:
        session.add(KeyValue(key="intake.watermark", value='"2026-11-23T10:00:00Z"'))
    with session_scope(engine) as session:
        assert session.get(KeyValue, "intake.watermark").value == '"2026-11-23T10:00:00Z"'
    engine.dispose()


def test_upgrading_an_existing_database_keeps_its_rows(store_url: str) -> None:
    upgrade(store_url, "0001")
    engine = make_engine(store_url)
    # Rows written with the 0001 schema, in plain SQL: today's models have more columns.
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO kv_state (key, value, updated_at) VALUES ('k', '1', :now)"),
            {"now": NOW},
        )
        conn.execute(
            sa.text(
                "INSERT INTO worker_heartbeat (worker_id, hostname, pid, role, started_at,"
                " last_seen_at) VALUES ('w1', 'h', 1, 'active', :now, :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            sa.text(
                "INSERT INTO decision (lead_id, cycle_id, kind, status, reason, trace, hop,"
                " decided_at) VALUES ('00Q000000000001AAA', 'c1', 'route', 'applied', 'kept',"
                " '[]', 0, :now)"
            ),
            {"now": NOW},
        )

    upgrade(store_url)
    upgrade(store_url)

    with session_scope(engine) as session:
        assert session.get(KeyValue, "k").value == "1"
        assert session.get(WorkerHeartbeat, "w1").pid == 1
        (decision,) = session.exec(select(JournalRow)).all()
        assert decision.reason == "kept"
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_timestamps_come_back_timezone_aware(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    with session_scope(engine) as session:
        session.add(WorkerHeartbeat(worker_id="w", hostname="h", pid=2))
    with session_scope(engine) as session:
        seen = session.get(WorkerHeartbeat, "w").last_seen_at
    # SQLite stores no zone; the repositories normalise to UTC. PostgreSQL keeps it.
    if not store_url.startswith("sqlite"):
        assert seen.tzinfo is not None
    engine.dispose()


def _journal_entry(i: int, **extra: Any) -> JournalEntry:
    return JournalEntry(lead_id=f"00Q{i:015d}", cycle_id="c", kind="route", status="pending",
                        reason="r", trace="[]", hop=0, decided_at=NOW, worker_id="w",
                        **{"sla_due_at": None, "lead_company": "Ünïcode & Co' OR 1=1"} | extra)  # fmt: skip


def test_a_page_of_journal_rows_comes_back_as_the_orm_stores_it_ids_in_row_order(
    store_url: str,
) -> None:
    """The bulk insert (on SQLite multi-row INSERTs of 100 and the driver's executemany
    for the rest, not SQLAlchemy's per-row parameter handling) stores what the ORM
    stores: same values, aware timestamps, and ids handed back in row order, on both
    databases."""
    from worker.store import journal_repo

    upgrade(store_url)
    engine = make_engine(store_url)
    due = datetime(2026, 11, 23, 10, 5, 30, 123456, tzinfo=UTC)
    rows = [_journal_entry(i, sla_due_at=due if i % 2 else None) for i in range(2_037)]
    with session_scope(engine) as session:
        session.add(JournalRow(**asdict(_journal_entry(9_999))))  # an ORM row: ids start above it
    with session_scope(engine) as session:
        ids = journal_repo.insert_decisions(session, rows)
    with session_scope(engine) as session:
        got = {d.id: d for d in session.exec(select(JournalRow)).all()}
    assert [got[i].lead_id for i in ids] == [r.lead_id for r in rows]
    orm = next(d for d in got.values() if d.lead_id == f"00Q{9_999:015d}")
    first, second = got[ids[0]], got[ids[1]]
    assert first.decided_at == orm.decided_at  # as the ORM stores it (SQLite: UTC, naive)
    assert first.decided_at.replace(tzinfo=None) == NOW.replace(tzinfo=None)
    assert first.sla_due_at is None and second.sla_due_at is not None
    assert second.sla_due_at.replace(tzinfo=None) == due.replace(tzinfo=None)
    assert first.lead_company == orm.lead_company == "Ünïcode & Co' OR 1=1"
    last = got[ids[-2]]  # one of the rows past the last whole statement of 100 (odd: due)
    assert last.lead_id == rows[-2].lead_id and last.sla_due_at == second.sla_due_at
    engine.dispose()


def test_applying_decisions_starts_the_sla_clock_of_those_with_an_sla_only(
    store_url: str,
) -> None:
    from worker.store import journal_repo

    upgrade(store_url)
    engine = make_engine(store_url)
    base = JournalEntry(lead_id="", cycle_id="c", kind="route", status="pending", reason="r",
                        trace="[]", hop=0, decided_at=NOW, worker_id="w")  # fmt: skip
    rows = [
        replace(base, lead_id="00QA", status="pending", sla_due_at=NOW),
        replace(base, lead_id="00QB", status="pending", sla_due_at=None),  # no SLA
        replace(base, lead_id="00QC", status="skipped", sla_due_at=NOW),  # not pending
    ]
    with session_scope(engine) as session:
        ids = journal_repo.insert_decisions(session, rows)
    with session_scope(engine) as session:
        journal_repo.mark_applied(session, ids, NOW)
    with session_scope(engine) as session:
        got = {d.lead_id: (d.status, d.sla_state, d.applied_at is not None)
               for d in session.exec(select(JournalRow)).all()}  # fmt: skip
    assert got == {
        "00QA": ("applied", "open", True),
        "00QB": ("applied", None, True),
        "00QC": ("skipped", None, False),
    }
    engine.dispose()


def test_the_migrated_schema_matches_the_models(store_url: str) -> None:
    """Every index and column the models declare is what the migrations built."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    upgrade(store_url)
    engine = make_engine(store_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    engine.dispose()


def test_which_leads_are_held_is_answered_by_index_seeks_on_sqlite(sqlite_url: str) -> None:
    """Not a scan of every held row per chunk of leads (the planner's pick with a
    status-only index and no statistics)."""
    from worker.store import journal_repo

    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    seen: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _plan(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            rows = cursor.connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            seen.extend(str(r[-1]) for r in rows.fetchall())

    with session_scope(engine) as session:
        session.add(JournalRow(lead_id="00Q000000000001AAA", cycle_id="c", status="held",
                             reason="every rep capped"))  # fmt: skip
    with session_scope(engine) as session:
        got = journal_repo.held_reasons(session, ["00Q000000000001AAA", "00Q000000000002AAA"])
    assert got == {"00Q000000000001AAA": "every rep capped"}
    assert any("ix_decision_status_lead_id (status=? AND lead_id=?)" in s for s in seen), seen
    engine.dispose()
