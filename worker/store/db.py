"""Engines, sessions and migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from worker.files import private_file, tighten

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class StoreError(RuntimeError):
    """The store cannot be reached or used; the message says which and why."""


def make_engine(url: str, *, echo: bool = False, pool: bool = True) -> Engine:
    """Create an engine for ``url``.

    SQLite files get WAL journaling (readers never block the worker), a busy timeout and
    foreign keys; the file (and a missing parent folder) is created owner-only, and an
    existing one is tightened, with its ``-wal`` and ``-shm``: it holds lead data and the
    sign-in log. PostgreSQL gets pre-ping so a restarted
    server does not surface as an error on the first query.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"not a database URL: {url!r}") from None
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            _private_sqlite_file(Path(database))
        # The sqlite3 module keeps prepared statements per connection (128 by default),
        # keyed by SQL text, and every IN-list or multi-row INSERT size is a new text: a
        # 1,000-row INSERT (SQLAlchemy's default batch) is ~0.5 MB prepared. With pages of
        # 2,000 journal rows the cache filled with them and the worker's RSS grew ~100 MB
        # over 100,000 leads. INSERTs of at most 200 rows and 32 cached statements keep
        # it bounded (re-preparing a statement costs ~0.1 ms).
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30,
                                  "cached_statements": 32}  # fmt: skip
        kwargs["insertmanyvalues_page_size"] = 200
        if not pool:
            kwargs["poolclass"] = NullPool
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs["pool_pre_ping"] = True
    if not pool:
        kwargs["poolclass"] = NullPool
    return create_engine(url, **kwargs)


def _private_sqlite_file(path: Path) -> None:
    private_file(path)  # SQLite creates -wal and -shm with the database file's mode
    for suffix in ("-wal", "-shm", "-journal"):
        tighten(Path(f"{path}{suffix}"))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any exception."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema at ``url`` to ``revision``; a no-op when it is already there."""
    try:
        command.upgrade(alembic_config(url), revision)
    except OperationalError as exc:
        raise StoreError(f"cannot reach the database: {_first_line(exc)}") from None


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def check_connection(engine: Engine) -> None:
    """Raise :class:`StoreError` with one readable line when the database is unreachable."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except OperationalError as exc:
        raise StoreError(f"cannot reach the database: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
