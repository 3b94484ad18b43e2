"""Foundation tables: small key/value state, API usage samples and worker heartbeats."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from worker.store.models.types import utc_field


class KeyValue(SQLModel, table=True):
    """Small named pieces of state (intake watermark, last cycle...), JSON-encoded."""

    __tablename__ = "kv_state"

    key: str = Field(primary_key=True, max_length=120)
    value: str = Field(default="null")
    updated_at: datetime = utc_field(default_now=True)


class ApiUsage(SQLModel, table=True):
    """A sample of the org's daily API allocation, from ``Sforce-Limit-Info``."""

    __tablename__ = "api_usage"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(default_now=True, index=True)
    used: int
    max: int
    calls_this_cycle: int = 0


class WorkerHeartbeat(SQLModel, table=True):
    """One row per worker process: who is alive, who is active, how the last cycle went."""

    __tablename__ = "worker_heartbeat"

    worker_id: str = Field(primary_key=True, max_length=80)
    hostname: str = Field(max_length=255)
    pid: int
    role: str = Field(default="starting", max_length=20)
    started_at: datetime = utc_field(default_now=True)
    last_seen_at: datetime = utc_field(default_now=True, index=True)
    last_cycle_at: datetime | None = utc_field(nullable=True)
    last_cycle_ms: float | None = None
    last_error: str | None = Field(default=None, max_length=2000)
