"""Checkpoint a SQLite store's write-ahead log on a thread of its own.

SQLite in WAL mode copies the log back into the database file (a checkpoint) on the
connection whose commit took the log past ``wal_autocheckpoint`` pages (1,000 by
default). A busy intake page writes ~1,250 pages (2,000 journal rows and their indexes),
so nearly every page's commit ran a checkpoint, fsyncs included, on the cycle's own
thread: ~20 of its ~25 ms per commit here, more on a real disk.

Here a thread runs a PASSIVE checkpoint every ``every`` seconds instead: it never blocks
a writer or a reader, runs in SQLite's C code (without the GIL, beside the cycle's
Python), and finds nothing to do when nothing was written. The worker's own connections
only checkpoint past ``SAFETY_NET_PAGES`` (if this thread ever stalls, the log is still
bounded). Nothing about durability changes: a committed transaction is in the log either
way, and the log is read back on open after a crash.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger("leadrouter.store")

SAFETY_NET_PAGES = 10_000  # ~40 MB of log before a commit checkpoints by itself


class WalCheckpointer:
    """Background PASSIVE checkpoints for a SQLite file (see the module docstring)."""

    def __init__(self, engine: Engine, path: str, every: float = 0.1) -> None:
        self.engine = engine
        self.path = path
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_engine(cls, engine: Engine, every: float = 0.1) -> WalCheckpointer | None:
        """One for a SQLite file engine; None for PostgreSQL or an in-memory database."""
        url = engine.url
        database = url.database or ""
        if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
            return None
        if database.startswith("file:"):
            return None
        return cls(engine, database, every)

    def start(self) -> None:
        """Start the thread and leave checkpoints to it: the engine's connections, from
        now on, only checkpoint past the safety net."""
        if self._thread is not None:
            return
        event.listen(self.engine, "connect", _raise_autocheckpoint)
        self.engine.dispose()  # pooled connections reopen with the new setting
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        except sqlite3.Error as exc:
            log.warning("background WAL checkpoints off (cannot open the database): %s", exc)
            return
        try:
            while not self._stop.wait(self.every):
                self.checkpoint_once(connection)
        finally:
            connection.close()

    @staticmethod
    def checkpoint_once(connection: sqlite3.Connection) -> None:
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # e.g. locked during a schema change: next time
            log.debug("WAL checkpoint skipped: %s", exc)


def _raise_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_PAGES}")
    cursor.close()
