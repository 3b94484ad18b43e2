"""Routing state (compare-and-set), small key/value state, heartbeats and API usage."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from worker.routing.state import RoutingState, state_from_json, state_to_json
from worker.store.models import ApiUsage, KeyValue, WorkerHeartbeat
from worker.store.models.types import utc_now
from worker.store.models.worker_state import ReplayRow, RoutingStateRow


class StateConflict(RuntimeError):
    """Someone else wrote the routing state since we read it (lost lease or a race)."""


def load_state(session: Session) -> tuple[RoutingState, int]:
    """The current routing state and its version (0 when never written)."""
    row = session.get(RoutingStateRow, 1)
    if row is None:
        return RoutingState(), 0
    return state_from_json(row.state), row.version


def save_state(
    session: Session, state: RoutingState, *, expected_version: int, worker_id: str
) -> int:
    """Write ``state`` if the stored version is still ``expected_version``; return the new one.

    Raises:
        StateConflict: the version moved on (the caller's transaction must roll back).
    """
    text = state_to_json(state)
    new_version = expected_version + 1
    if expected_version == 0 and session.get(RoutingStateRow, 1) is None:
        session.add(RoutingStateRow(id=1, version=1, state=text, updated_by=worker_id))
        try:
            session.flush()
        except IntegrityError:
            raise StateConflict("routing state was created concurrently") from None
        return 1
    result = session.execute(
        update(RoutingStateRow)
        .where(RoutingStateRow.id == 1, RoutingStateRow.version == expected_version)  # type: ignore[arg-type]
        .values(version=new_version, state=text, updated_at=utc_now(), updated_by=worker_id)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StateConflict(f"routing state version is no longer {expected_version}")
    return new_version


def get_value(session: Session, key: str) -> object:
    row = session.get(KeyValue, key)
    return None if row is None else json.loads(row.value)


def set_value(session: Session, key: str, value: object) -> None:
    row = session.get(KeyValue, key)
    text = json.dumps(value)
    if row is None:
        session.add(KeyValue(key=key, value=text))
    else:
        row.value, row.updated_at = text, utc_now()
        session.add(row)


def beat(
    session: Session,
    *,
    worker_id: str,
    hostname: str,
    pid: int,
    role: str,
    cycle_at: datetime | None = None,
    cycle_ms: float | None = None,
    error: str | None = None,
) -> None:
    """Upsert this process's heartbeat row (the dashboard's worker health)."""
    row = session.get(WorkerHeartbeat, worker_id)
    if row is None:
        row = WorkerHeartbeat(worker_id=worker_id, hostname=hostname, pid=pid)
    row.role, row.last_seen_at = role, utc_now()
    if cycle_at is not None:
        row.last_cycle_at, row.last_cycle_ms = cycle_at, cycle_ms
        row.last_error = error[:2000] if error else None
    session.add(row)


def record_usage(session: Session, *, used: int, limit: int, calls: int) -> None:
    session.add(ApiUsage(used=used, max=limit, calls_this_cycle=calls))


def latest_heartbeats(session: Session) -> list[WorkerHeartbeat]:
    return list(session.exec(select(WorkerHeartbeat)).all())


def get_replay_id(session: Session, topic: str) -> bytes | None:
    """Where the subscription to ``topic`` resumes (None: never subscribed)."""
    row = session.get(ReplayRow, topic)
    return None if row is None else bytes(row.replay_id)


def set_replay_id(session: Session, topic: str, replay_id: bytes, *, worker_id: str) -> None:
    """Advance the stored replay id of ``topic`` (in the caller's transaction)."""
    row = session.get(ReplayRow, topic)
    if row is None:
        row = ReplayRow(topic=topic, replay_id=replay_id, updated_by=worker_id)
    else:
        row.replay_id, row.updated_at, row.updated_by = replay_id, utc_now(), worker_id
    session.add(row)
