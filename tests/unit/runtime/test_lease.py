from __future__ import annotations

import time

import pytest

from worker.root import engine_for
from worker.runtime.lease import LeaseRefused, PostgresLease, SqliteLease


def test_sqlite_refuses_a_second_worker_with_a_clear_message(sqlite_url: str) -> None:
    first = SqliteLease(sqlite_url)
    assert first.try_acquire()
    with pytest.raises(LeaseRefused, match="SQLite supports a single worker"):
        SqliteLease(sqlite_url).try_acquire()
    first.release()
    assert SqliteLease(sqlite_url).try_acquire()


@pytest.mark.postgres
def test_postgres_lease_has_one_holder_and_passes_on_when_it_goes(pg_url: str) -> None:
    a, b = (
        PostgresLease(engine_for(pg_url, pool=False), key=4242),
        PostgresLease(engine_for(pg_url, pool=False), key=4242),
    )
    assert a.try_acquire()
    assert not b.try_acquire()
    assert a.still_held()
    assert a.conn is not None
    a.conn.invalidate()  # the holder's session dies (as with kill -9)
    assert not a.still_held()
    deadline = time.monotonic() + 5  # the server ends the dead session asynchronously
    while not b.try_acquire() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert b.held
    b.release()
