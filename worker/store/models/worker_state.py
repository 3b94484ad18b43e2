"""The worker's own state: the routing state it decides with, guarded by a version.

``RoutingStateRow`` holds :func:`worker.routing.state.state_to_json` of the round-robin
credits and cap counters. It is written in the same transaction as the journal rows of
the decisions that consumed it, with compare-and-set on ``version``: a worker that lost
its lease (or a stale standby) cannot overwrite newer state; its transaction fails and
nothing it decided is journalled.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

from worker.store.models.types import utc_field


class RoutingStateRow(SQLModel, table=True):
    __tablename__ = "routing_state"

    id: int = Field(default=1, primary_key=True)
    version: int = 0
    state: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_at: datetime = utc_field(default_now=True)
    updated_by: str | None = Field(default=None, max_length=80)


class ReplayRow(SQLModel, table=True):
    """Where the change event subscription resumes, per topic: the replay id of the last
    event whose decisions are journaled (opaque bytes, as the Pub/Sub API gives them).
    Advanced only in or after the transaction that journals those decisions, so after a
    crash the stream resumes at or before the first event not yet decided."""

    __tablename__ = "pubsub_replay"

    topic: str = Field(primary_key=True, max_length=255)
    replay_id: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    updated_at: datetime = utc_field(default_now=True)
    updated_by: str | None = Field(default=None, max_length=80)
