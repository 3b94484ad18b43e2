"""The dashboard's sign-in throttle and audit log.

Two kinds of bucket count consecutive failed attempts:

- the **account** (``account:<username>``), whoever the client is: after 5 failures each
  attempt waits 5 s, then 10 s at most. It slows guessing from any number of addresses
  (spoofed, rotated, shared) to one try per 10 s, yet the owner typing the right password
  after someone else's failures waits no more than those 10 s;
- the **client** (``client:<ip>``), only when the address is trustworthy (the TCP peer,
  or what a configured trusted proxy says it forwarded): after 5 failures 30 s, doubling
  up to 15 minutes. The long lockout hits only the address that guessed.

A failure older than 15 minutes is forgotten; a success clears its account (not its
client: signing in to one's own account must not reset guesses at another).

Check and count are one atomic step (:func:`begin_sign_in`): every attempt that may go
ahead is counted as a failure before its password is checked, by a compare-and-swap on
the bucket rows' ``version``, so parallel attempts cannot all pass the same check (SQLite
and PostgreSQL alike). :func:`finish_sign_in` writes the audit row and, on success, clears
the account. An attempt killed in between stays counted as a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from worker.store.db import session_scope
from worker.store.models.team import RevokedSession, SignInAttempt, SignInThrottle
from worker.store.queries._sql import as_utc

T: Any = SignInThrottle
R: Any = RevokedSession
MAX_TRIES = 200  # compare-and-swap rounds before an attempt is refused as contended
CONTENDED_WAIT = 1.0


@dataclass(frozen=True)
class Backoff:
    """How long a bucket waits after its consecutive failures."""

    free: int  # failures allowed before any wait
    first: float  # seconds to wait at ``free`` failures
    cap: float  # the wait never exceeds this
    window: timedelta = timedelta(minutes=15)  # older failures are forgotten

    def wait(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.cap, self.first * 2.0 ** min(failures - self.free, 32))


ACCOUNT = Backoff(free=5, first=5.0, cap=10.0)
CLIENT = Backoff(free=5, first=30.0, cap=900.0)


@dataclass(frozen=True)
class _Row:
    key: str
    policy: Backoff
    failures: int  # consecutive failures still inside the window
    last_at: datetime
    version: int

    def wait(self, now: datetime) -> float:
        wait = self.policy.wait(self.failures)
        return wait - (now - self.last_at).total_seconds() if wait > 0 else 0.0


def buckets(username: str, client: str | None) -> list[tuple[str, Backoff]]:
    """The buckets an attempt counts against: its account, and its client when known."""
    found = [(f"account:{username[:120]}", ACCOUNT)]
    if client:
        found.append((f"client:{client[:120]}", CLIENT))
    return found


def begin_sign_in(
    engine: Engine, *, username: str, client: str | None, now: datetime | None = None
) -> float:
    """Check and count one attempt atomically.

    Returns 0.0 when the password may be checked (the attempt is already counted as a
    failure until :func:`finish_sign_in` reports success), else the seconds to wait
    (nothing counted).
    """
    now = now or datetime.now(UTC)
    wanted = buckets(username, client)
    for _ in range(MAX_TRIES):
        rows = _read(engine, wanted, now)
        wait = max(row.wait(now) for row in rows)
        if wait > 0:
            return wait
        if _count_failure(engine, rows, now):
            return 0.0
    return CONTENDED_WAIT  # never let an attempt through unchecked


def finish_sign_in(
    engine: Engine, *, username: str, client: str | None, ok: bool, now: datetime | None = None
) -> None:
    """Audit the checked attempt; a success clears the account's failures."""
    now = now or datetime.now(UTC)
    with session_scope(engine) as session:
        session.add(SignInAttempt(at=now, username=username[:120],
                                  client=(client or "unknown")[:120], ok=ok))  # fmt: skip
        if ok:
            account = buckets(username, None)[0][0]
            session.execute(
                update(T)
                .where(T.bucket == account)
                .values(failures=0, version=T.version + 1, last_at=now)
            )


def _read(engine: Engine, wanted: Sequence[tuple[str, Backoff]], now: datetime) -> list[_Row]:
    """The buckets' rows (created when missing), failures outside the window dropped."""
    keys = [key for key, _ in wanted]
    with engine.connect() as conn:
        found = {r.bucket: r for r in conn.execute(select(T).where(T.bucket.in_(keys)))}
    missing = [key for key in keys if key not in found]
    if missing:
        _create(engine, missing, now)
        return _read(engine, wanted, now)
    rows = []
    for key, policy in wanted:
        r = found[key]
        last_at = as_utc(r.last_at) or now
        failures = r.failures if now - last_at < policy.window else 0
        rows.append(_Row(key, policy, failures, last_at, r.version))
    return rows


def _create(engine: Engine, keys: Sequence[str], now: datetime) -> None:
    """Insert zero counters (another attempt may win the race: that is fine), and drop
    counters nobody used for a day so guessed usernames do not pile up."""
    with engine.begin() as conn:
        conn.execute(delete(T).where(T.last_at < now - timedelta(days=1)))
        for key in keys:
            conn.execute(_insert_ignoring_conflict(conn, key, now))


def _insert_ignoring_conflict(conn: Connection, key: str, now: datetime) -> Any:
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    values = {"bucket": key, "failures": 0, "last_at": now, "version": 0}
    return insert(T).values(**values).on_conflict_do_nothing(index_elements=["bucket"])


class _Contended(Exception):
    """Another attempt changed a bucket since it was read."""


def _count_failure(engine: Engine, rows: Sequence[_Row], now: datetime) -> bool:
    """Count the attempt in every bucket, all or none: False when another attempt got in
    first (the caller reads again and re-checks)."""
    try:
        with engine.begin() as conn:
            for row in sorted(rows, key=lambda r: r.key):  # one lock order: no deadlock
                result = conn.execute(
                    update(T)
                    .where(T.bucket == row.key, T.version == row.version)
                    .values(failures=row.failures + 1, last_at=now, version=row.version + 1)
                )
                if result.rowcount != 1:
                    raise _Contended
    except _Contended:
        return False
    return True


def revoke_session(engine: Engine, token_id: str, expires_at: datetime, now: datetime) -> None:
    """Refuse the session token ``token_id`` from now on (signed out), on every dashboard
    process and after restarts, until ``expires_at``, when it would be refused anyway.
    Rows of tokens that have expired since are deleted on the way."""
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    with engine.begin() as conn:
        conn.execute(delete(RevokedSession).where(R.expires_at <= now))
        conn.execute(
            insert(RevokedSession)
            .values(token_id=token_id, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=["token_id"])
        )


def is_revoked(engine: Engine, token_id: str) -> bool:
    """Whether the session token ``token_id`` was signed out."""
    with engine.connect() as conn:
        found = conn.execute(select(R.token_id).where(R.token_id == token_id)).first()
    return found is not None
