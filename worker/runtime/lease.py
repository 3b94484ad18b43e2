"""Who may be the active worker.

PostgreSQL: several ``leadrouter run`` share one database; exactly one holds a session
advisory lock (``pg_try_advisory_lock``) on a dedicated connection kept open for as long
as it is active. If that process dies, PostgreSQL ends its session and releases the
lock; a standby polling every intake interval takes over within two intervals.

SQLite: one process only. An exclusive ``flock`` on ``<database>.lock`` is taken at
start; a second worker is refused with a clear message. The OS drops the lock when the
process dies, even after ``kill -9``.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine, make_url

from worker.files import private_file

LEASE_KEY = 0x6C65_6164_726F_7574  # "leadrout"


class LeaseRefused(RuntimeError):
    """Another worker owns this store and this one must not run (SQLite)."""


class Lease(Protocol):
    def try_acquire(self) -> bool: ...
    def still_held(self) -> bool: ...
    def release(self) -> None: ...


class PostgresLease:
    def __init__(self, engine: Engine, key: int = LEASE_KEY) -> None:
        """``engine``: an unpooled one of its own (the lock lives on one connection)."""
        self.engine = engine
        self.key = key
        self.conn: Connection | None = None
        self.held = False

    def try_acquire(self) -> bool:
        if self.held:
            return self.still_held()
        try:
            if self.conn is None:
                self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
            self.held = bool(got.scalar())
        except Exception:  # noqa: BLE001 - a broken connection simply means "not held"
            self._drop()
        return self.held

    def still_held(self) -> bool:
        if not self.held or self.conn is None:
            return False
        try:
            self.conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - lost the session: the lock is gone with it
            self._drop()
        return self.held

    def release(self) -> None:
        if self.conn is not None and self.held:
            try:
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            except Exception:  # noqa: BLE001, S110 - closing below releases it anyway
                pass
        self._drop()

    def _drop(self) -> None:
        self.held = False
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001, S110
                pass
        self.conn = None


class SqliteLease:
    def __init__(self, url: str) -> None:
        database = make_url(url).database or ""
        self.path = Path(database + ".lock") if database and database != ":memory:" else None
        self._file: IO[str] | None = None

    def try_acquire(self) -> bool:
        if self._file is not None or self.path is None:
            return True
        handle = private_file(self.path).open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise LeaseRefused(
                f"another leadrouter worker ({holder}) is already running on {self.path.with_suffix('')}; "
                "SQLite supports a single worker: stop it, or use PostgreSQL "
                "(LEADROUTER_DATABASE_URL=postgresql+psycopg://...) to run several"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._file = handle
        return True

    def still_held(self) -> bool:
        return self._file is not None or self.path is None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def lease_for(url: str, engine_for: Callable[[str], Engine]) -> Lease:
    """The lease for the store at ``url``; ``engine_for(url)`` makes the unpooled engine a
    PostgreSQL lease keeps its connection on (the composition root's)."""
    if make_url(url).get_backend_name() == "postgresql":
        return PostgresLease(engine_for(url))
    return SqliteLease(url)
