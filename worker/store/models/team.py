"""Team settings edited in the dashboard (RevOps) and their change history.

The routing config file is the baseline; a ``RepOverride`` row holds the fields RevOps
changed for one rep (weight, caps, tags, hours, time zone, out-of-office, on/off toggle),
as JSON keyed like the config file. The worker merges file + overrides at the start of
every cycle, so a change takes effect without a restart. ``version`` guards against two
admins saving over each other.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from worker.store.models.types import utc_field


class RepOverride(SQLModel, table=True):
    __tablename__ = "rep_override"

    rep_key: str = Field(primary_key=True, max_length=80)
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    version: int = 1
    updated_by: str = Field(max_length=120)
    updated_at: datetime = utc_field(default_now=True)


class SettingsChange(SQLModel, table=True):
    """Who changed what, when: one row per changed field."""

    __tablename__ = "settings_change"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(default_now=True, index=True)
    actor: str = Field(max_length=120)
    entity: str = Field(max_length=120, index=True)
    field: str = Field(max_length=120)
    old_value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    new_value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class SignInAttempt(SQLModel, table=True):
    """One row per dashboard sign-in attempt that got its password checked (never the
    password itself): the audit trail. The throttle keeps its own counters
    (:class:`SignInThrottle`)."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (Index("ix_sign_in_attempt_user_client_at", "username", "client", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(default_now=True)
    username: str = Field(max_length=120)
    client: str = Field(max_length=120)
    ok: bool = False


class SignInThrottle(SQLModel, table=True):
    """Consecutive failed sign-ins of one bucket: an account (``account:<username>``) or a
    trustworthy client address (``client:<ip>``). Updated by compare-and-swap on
    ``version``, so parallel attempts cannot all pass the same check."""

    __tablename__ = "sign_in_throttle"

    bucket: str = Field(primary_key=True, max_length=200)
    failures: int = 0
    last_at: datetime = utc_field(default_now=True)
    version: int = 0


class RevokedSession(SQLModel, table=True):
    """A dashboard session token signed out before it expired. Tokens are stateless
    (signed, with an expiry), so without this row a signed-out token copied from the URL
    would sign in again after a dashboard restart or on another replica; the row is kept
    until the token would have expired anyway."""

    __tablename__ = "revoked_session"

    token_id: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = utc_field(index=True)
