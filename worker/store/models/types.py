"""Column helpers shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlmodel import Field


def utc_now() -> datetime:
    return datetime.now(UTC)


def utc_field(*, nullable: bool = False, index: bool = False, default_now: bool = False) -> Any:
    """A timezone-aware timestamp column (``timestamptz`` on PostgreSQL)."""
    if default_now:
        return Field(default_factory=utc_now, sa_type=DateTime(timezone=True), index=index)
    return Field(default=None, sa_type=DateTime(timezone=True), nullable=nullable, index=index)
