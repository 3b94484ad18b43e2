"""The notification outbox: one row per message to send, written in the same
transaction as the decision it announces, delivered later by ``worker.notify.deliver_due``.

``dedup_key`` (unique) is ``<source>:<event>:<channel>:<recipient>``, so enqueueing the
same event twice, or after a restart, is a no-op. A row is ``pending`` until a delivery
run claims it: ``sending`` with a ``lease_token`` and ``lease_expires_at``. A run that dies
mid-send leaves the lease to expire; the next run re-claims the row. ``sent`` and ``dead``
(gave up: permanent error or out of attempts) are final. ``payload`` is the rendered
message (JSON); it holds lead data and is purged with the journal's snapshot columns.
Channel URLs and secrets are never stored here: rows name the channel, the config holds
the address.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from worker.store.models.types import utc_field


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "notification_outbox"
    __table_args__ = (
        Index("ix_notification_outbox_due", "status", "next_attempt_at"),
        Index("ix_notification_outbox_channel_sent", "channel", "sent_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=400, unique=True)
    event: str = Field(max_length=40, index=True)
    channel: str = Field(max_length=80)
    recipient: str = Field(max_length=255)
    decision_id: int | None = Field(default=None, index=True)
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    status: str = Field(default=OutboxStatus.PENDING, max_length=20)
    attempts: int = 0
    created_at: datetime = utc_field(default_now=True)
    next_attempt_at: datetime = utc_field(default_now=True)
    lease_token: str | None = Field(default=None, max_length=40)
    lease_expires_at: datetime | None = utc_field(nullable=True)
    sent_at: datetime | None = utc_field(nullable=True)
    last_error: str | None = Field(default=None, max_length=500)
