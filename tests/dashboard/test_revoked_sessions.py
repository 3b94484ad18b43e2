"""A signed-out session token stays refused after the dashboard restarts and on another
dashboard process: the revocation is in the store, not only in the process that signed
out. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dashboard import session
from worker.store.db import make_engine, upgrade
from worker.store.models import RevokedSession
from worker.store.sign_in_repo import is_revoked, revoke_session

SECRET = b"a session secret of thirty-two++"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TTL = timedelta(hours=12)


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    upgrade(store_url)
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


def test_a_token_signed_out_elsewhere_or_before_a_restart_is_refused(engine: Engine) -> None:
    token = session.make_token("admin", SECRET, NOW, TTL, token_id="tok-restart-1")
    read = session.read_token(token, SECRET, NOW)
    assert read is not None
    session.revoke(read, engine)
    session._REVOKED.clear()  # a restarted (or another) dashboard process

    def in_store(token_id: str) -> bool:
        return is_revoked(engine, token_id)

    assert session.read_token(token, SECRET, NOW, in_store) is None
    other = session.make_token("admin", SECRET, NOW, TTL, token_id="tok-restart-2")
    assert session.read_token(other, SECRET, NOW, in_store) is not None  # only that one


def test_revoked_rows_are_kept_until_the_token_expires_then_dropped(engine: Engine) -> None:
    revoke_session(engine, "old", NOW + timedelta(minutes=5), NOW)
    revoke_session(engine, "old", NOW + timedelta(minutes=5), NOW)  # twice: one row
    assert is_revoked(engine, "old")
    revoke_session(engine, "new", NOW + TTL, NOW + timedelta(minutes=6))
    with engine.connect() as conn:
        ids = conn.execute(select(RevokedSession.token_id)).scalars().all()  # type: ignore[call-overload]
        count = conn.execute(select(func.count()).select_from(RevokedSession)).scalar()
    assert ids == ["new"] and count == 1  # "old" had expired: refused by its expiry alone
