"""The store on SQLite and PostgreSQL: migrations are idempotent and keep existing rows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import select

from worker.store.db import current_revision, head_revision, make_engine, session_scope, upgrade
from worker.store.models import Decision, KeyValue, WorkerHeartbeat

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
        (decision,) = session.exec(select(Decision)).all()
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
