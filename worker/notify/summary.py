"""What the dashboard's overview shows about notifications: counts by channel and status,
the oldest message still waiting, and the latest failures (channel, event, error; no
lead data)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from worker.notify.outbox import utc
from worker.store.models.outbox import OutboxMessage, OutboxStatus

OB: Any = OutboxMessage
STATUSES = tuple(s.value for s in OutboxStatus)


def outbox_summary(engine: Engine, *, recent_errors: int = 10) -> dict[str, Any]:
    """``{"totals": {status: n}, "channels": {channel: {status: n}}, "oldest_pending_at":
    datetime | None, "errors": [{"channel", "event", "status", "attempts", "error",
    "at"}]}`` — every status key is always present (0 when none)."""
    with engine.connect() as conn:
        counts = conn.execute(
            select(OB.channel, OB.status, func.count()).group_by(OB.channel, OB.status)
        ).all()
        oldest = conn.execute(
            select(func.min(OB.created_at)).where(
                OB.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
            )
        ).scalar()
        errors = conn.execute(
            select(OB.channel, OB.event, OB.status, OB.attempts, OB.last_error, OB.next_attempt_at)
            .where(OB.last_error.is_not(None), OB.status != OutboxStatus.SENT)
            .order_by(OB.id.desc())
            .limit(recent_errors)
        ).all()
    totals = dict.fromkeys(STATUSES, 0)
    channels: dict[str, dict[str, int]] = {}
    for channel, status, n in counts:
        channels.setdefault(str(channel), dict.fromkeys(STATUSES, 0))[str(status)] = int(n)
        totals[str(status)] = totals.get(str(status), 0) + int(n)
    return {
        "totals": totals,
        "channels": channels,
        "oldest_pending_at": utc(oldest) if oldest is not None else None,
        "errors": [
            {
                "channel": r.channel,
                "event": r.event,
                "status": r.status,
                "attempts": r.attempts,
                "error": r.last_error,
                "at": utc(r.next_attempt_at),
            }
            for r in errors
        ],
    }
