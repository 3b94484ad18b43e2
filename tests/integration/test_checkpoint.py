"""The SQLite log checkpointed on a thread of its own (:mod:`worker.runtime.checkpoint`):
the worker's commits no longer copy the log back themselves, and it is still copied."""

from __future__ import annotations

import os
import time

from sqlalchemy import text

from worker.runtime.checkpoint import SAFETY_NET_PAGES, WalCheckpointer
from worker.store.db import make_engine, session_scope, upgrade


def _autocheckpoint(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar())


def _file_mb(path: str) -> float:
    """The database file itself (not its log): it only grows when the log is copied back."""
    return os.path.getsize(path) / 1e6


def test_commits_leave_the_log_to_the_thread_which_copies_it_back(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    assert _autocheckpoint(engine) == 1000  # SQLite's default until the thread runs
    checkpoints = WalCheckpointer.for_engine(engine, every=0.05)
    assert checkpoints is not None
    checkpoints.start()
    try:
        assert _autocheckpoint(engine) == SAFETY_NET_PAGES
        before = _file_mb(checkpoints.path)
        with session_scope(engine) as s:
            for i in range(3_000):  # well past 1,000 pages of log
                s.execute(
                    text("INSERT INTO kv_state (key, value, updated_at) VALUES (:k, :v, :t)"),
                    {"k": f"k{i}", "v": "x" * 2_000, "t": "2026-12-06 00:00:00"},
                )
        deadline = time.monotonic() + 5  # ~6 MB of rows, far below the safety net
        while time.monotonic() < deadline and _file_mb(checkpoints.path) < before + 5:
            time.sleep(0.05)
        assert _file_mb(checkpoints.path) >= before + 5
    finally:
        checkpoints.stop()
        engine.dispose()


def test_postgres_and_in_memory_databases_have_no_checkpoint_thread() -> None:
    assert WalCheckpointer.for_engine(make_engine("sqlite://")) is None
    engine = make_engine("postgresql+psycopg://x@127.0.0.1:1/none")
    assert WalCheckpointer.for_engine(engine) is None
