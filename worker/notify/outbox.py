"""The outbox's storage operations: insert (deduplicated), claim (leased), settle.

Exactly-once, as far as a network allows: a row is claimed in one statement that sets
``status='sending'``, a fresh ``lease_token`` and ``lease_expires_at``; on PostgreSQL the
candidate rows are picked ``FOR UPDATE SKIP LOCKED`` so two workers never claim the same
row; SQLite serialises writers, so the single UPDATE is atomic there. Settling a row
(sent / retry / dead) only succeeds while the caller still holds the lease token. A run
that dies mid-send leaves the row ``sending`` until the lease expires, then the next run
claims it again: a message whose send succeeded but whose "sent" mark was lost can go
out twice (webhook receivers dedupe on ``X-Leadrouter-Delivery``); a message is never
dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from worker.store.models.outbox import OutboxMessage, OutboxStatus

OB: Any = OutboxMessage


@dataclass(frozen=True)
class NewMessage:
    dedup_key: str
    event: str
    channel: str
    recipient: str
    payload: str
    decision_id: int | None = None


@dataclass(frozen=True)
class Claimed:
    id: int
    token: str
    event: str
    channel: str
    recipient: str
    payload: str
    attempts: int  # including this one
    dedup_key: str


def insert_messages(session: Session, messages: Iterable[NewMessage], now: datetime) -> int:
    """Insert messages whose dedup key is new; return how many were inserted."""
    rows = [
        {
            "dedup_key": m.dedup_key[:400],
            "event": m.event,
            "channel": m.channel,
            "recipient": m.recipient[:255],
            "payload": m.payload,
            "decision_id": m.decision_id,
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for m in messages
    ]
    if not rows:
        return 0
    conn = session.connection()
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    inserted = 0
    for row in rows:  # one by one, counting RETURNING rows: rowcount is not portable here
        stmt = (
            insert(OutboxMessage)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(OB.id)
        )
        inserted += len(conn.execute(stmt).all())
    return inserted


def due_counts(conn: Connection, now: datetime) -> dict[str, int]:
    """Rows ready to be claimed, per channel."""
    query = select(OB.channel, func.count()).where(_due(now)).group_by(OB.channel)
    return {str(ch): int(n) for ch, n in conn.execute(query)}


def recent_use(conn: Connection, now: datetime) -> dict[str, int]:
    """Per channel: messages sent in the last minute plus those being sent right now; what
    the per-channel rate limit is measured against (shared by every worker process)."""
    since = now - timedelta(minutes=1)
    sent = or_(
        and_(OB.status == OutboxStatus.SENT, OB.sent_at > since),
        and_(OB.status == OutboxStatus.SENDING, OB.lease_expires_at > now),
    )
    query = select(OB.channel, func.count()).where(sent).group_by(OB.channel)
    return {str(ch): int(n) for ch, n in conn.execute(query)}


def claim(
    engine: Engine, channel: str, limit: int, now: datetime, lease: timedelta
) -> list[Claimed]:
    """Lease up to ``limit`` due rows of ``channel`` to this caller (oldest first)."""
    if limit <= 0:
        return []
    with engine.begin() as conn:
        return claim_on(conn, channel, limit, now, lease)


def claim_on(
    conn: Connection, channel: str, limit: int, now: datetime, lease: timedelta
) -> list[Claimed]:
    """:func:`claim` inside the caller's transaction (committing is the caller's job)."""
    token = uuid.uuid4().hex
    pick = select(OB.id).where(OB.channel == channel, _due(now)).order_by(OB.id).limit(limit)
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    conn.execute(
        update(OB)
        .where(OB.id.in_(pick.scalar_subquery()))
        .values(
            status=OutboxStatus.SENDING.value,
            lease_token=token,
            lease_expires_at=now + lease,
            attempts=OB.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    rows = conn.execute(
        select(OB.id, OB.event, OB.channel, OB.recipient, OB.payload, OB.attempts, OB.dedup_key)
        .where(OB.lease_token == token)
        .order_by(OB.id)
    ).all()
    return [
        Claimed(r.id, token, r.event, r.channel, r.recipient, r.payload, r.attempts, r.dedup_key)
        for r in rows
    ]


def purge_outbox(engine: Engine, before: datetime) -> int:
    """Delete sent and dead messages created before ``before`` (their payload holds lead
    data); returns how many. For the retention job, next to the journal's purge."""
    done = OB.status.in_([OutboxStatus.SENT.value, OutboxStatus.DEAD.value])
    with engine.begin() as conn:
        result = conn.execute(delete(OB).where(done, OB.created_at < before.astimezone(UTC)))
    return int(result.rowcount or 0)


def purge_outbox_in(session: Session, before: datetime) -> int:
    """:func:`purge_outbox` inside the caller's transaction (``leadrouter purge
    --expired``, which can also roll back for a dry run)."""
    done = OB.status.in_([OutboxStatus.SENT.value, OutboxStatus.DEAD.value])
    result = session.execute(delete(OB).where(done, OB.created_at < before.astimezone(UTC)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge_lead_messages(session: Session, lead_id: str, decision_ids: Sequence[int]) -> int:
    """Delete every message about one lead, whatever its status (a deletion request):
    found by decision, by dedup key (held leads get a new decision per retry) or by the
    lead's Id in the payload (its Salesforce link). Inside the caller's transaction;
    returns how many rows went. A run holding one of them just fails to settle it."""
    about = [OB.dedup_key.contains(f":{lead_id}:"), OB.payload.contains(lead_id)]
    if decision_ids:
        about.append(OB.decision_id.in_(list(decision_ids)))
    result = session.execute(delete(OB).where(or_(*about)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def mark_sent(engine: Engine, row: Claimed, now: datetime) -> bool:
    return _settle(engine, row, status=OutboxStatus.SENT, sent_at=now, last_error=None)


def mark_retry(engine: Engine, row: Claimed, at: datetime, error: str) -> bool:
    return _settle(engine, row, status=OutboxStatus.PENDING, next_attempt_at=at, last_error=error)


def mark_dead(engine: Engine, row: Claimed, error: str) -> bool:
    return _settle(engine, row, status=OutboxStatus.DEAD, last_error=error)


def _settle(engine: Engine, row: Claimed, **values: Any) -> bool:
    """Update a claimed row if we still hold its lease; False if another run took it."""
    values["last_error"] = values["last_error"][:500] if values.get("last_error") else None
    with engine.begin() as conn:
        result = conn.execute(
            update(OB)
            .where(OB.id == row.id, OB.lease_token == row.token, OB.status == OutboxStatus.SENDING)
            .values(lease_token=None, lease_expires_at=None, **values)
        )
    return bool(result.rowcount)


def _due(now: datetime) -> Any:
    return or_(
        and_(OB.status == OutboxStatus.PENDING, OB.next_attempt_at <= now),
        and_(OB.status == OutboxStatus.SENDING, OB.lease_expires_at <= now),
    )


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive (they are stored in UTC)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
