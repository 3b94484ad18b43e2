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

from worker.store.models.accounts import MirrorSyncColumns
from worker.store.models.types import utc_field


class MirroredContact(SQLModel, table=True):
    __tablename__ = "contact_mirror"

    id: str = Field(primary_key=True, max_length=18)
    email: str = Field(max_length=255, index=True)
    account_id: str | None = Field(default=None, max_length=18)
    owner_id: str = Field(max_length=18)
    system_modstamp: datetime | None = utc_field(nullable=True)
    generation: int = 0  # the full pass that last wrote the row (re-sync sweeps older ones)


class ContactSyncRow(MirrorSyncColumns, table=True):
    """Where the refresh of the contact mirror stands (a single row, ``id`` 1)."""

    __tablename__ = "contact_sync"
