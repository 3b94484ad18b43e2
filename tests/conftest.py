"""Fixtures shared by every test layer: clean environment, store URLs for SQLite and a
fresh PostgreSQL database per test run."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

pytest_plugins = ["tests.sandbox_fixtures"]

PG_ADMIN_URL = os.environ.get(
    "LEADROUTER_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(autouse=True)
def _clean_environ(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Tests never see the developer's LEADROUTER_* variables or ``.env`` file."""
    for name in list(os.environ):
        if name.startswith("LEADROUTER_") and name != "LEADROUTER_TEST_PG_ADMIN_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(
        "LEADROUTER_DATABASE_URL", "sqlite:///" + str(tmp_path_factory.mktemp("db") / "t.db")
    )


@pytest.fixture
def sqlite_url(tmp_path: os.PathLike[str]) -> str:
    return f"sqlite:///{tmp_path}/leadrouter.db"


def _pg_reachable() -> str | None:
    try:
        engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return str(exc).splitlines()[0]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards.

    Skipped with the reason when PostgreSQL is not reachable, except in CI (``CI`` set),
    where the store tests must run for real and an unreachable server is a failure.
    """
    problem = _pg_reachable()
    if problem is not None:
        message = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {problem}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    name = f"lr_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """Run the same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))
