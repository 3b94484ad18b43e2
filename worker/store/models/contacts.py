"""The contact mirror: the org's contacts that carry an e-mail address, kept in the store
for known-e-mail matching (a lead whose address belongs to an existing Contact goes to
that contact's account or owner).

- ``contact_mirror``: one row per Salesforce Contact with an ``Email`` (lower-cased, as
  matching compares it), its ``AccountId`` and ``OwnerId``. A contact whose address is
  removed leaves the mirror, as a deleted one does.
- ``contact_sync``: the refresh's progress (one row), committed with the rows it covers
  (the same cadence as the account mirror's: :mod:`worker.jobs.mirror_sync`).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from worker.store.models.types import utc_field


class MirroredContact(SQLModel, table=True):
    __tablename__ = "contact_mirror"

    id: str = Field(primary_key=True, max_length=18)
    email: str = Field(max_length=255, index=True)
    account_id: str | None = Field(default=None, max_length=18)
    owner_id: str = Field(max_length=18)
    system_modstamp: datetime | None = utc_field(nullable=True)
    generation: int = 0  # the full pass that last wrote the row (re-sync sweeps older ones)


class ContactSyncRow(SQLModel, table=True):
    """Where the refresh of the contact mirror stands (a single row, ``id`` 1); the
    columns mean what :class:`~worker.store.models.accounts.AccountSyncRow`'s do."""

    __tablename__ = "contact_sync"

    id: int = Field(default=1, primary_key=True)
    phase: str = Field(default="full", max_length=10)
    generation: int = 0
    keys_version: int = 0
    complete: bool = False
    full_cursor: str | None = Field(default=None, max_length=18)
    full_started_at: datetime | None = utc_field(nullable=True)
    full_loaded: int = 0
    full_expected: int | None = None
    delta_at: datetime | None = utc_field(nullable=True)
    delta_id: str = Field(default="", max_length=18)
    deleted_since: datetime | None = utc_field(nullable=True)
    updated_at: datetime = utc_field(default_now=True)
