"""The account mirror: the org's accounts, kept in the store for account matching.

- ``account_mirror``: one row per Salesforce Account, with the two keys matching looks
  accounts up by: ``domain`` (registered web-site domain, free-mail excluded) and
  ``name_key`` (normalised company name), both computed by :mod:`worker.routing.normalise`.
- ``account_name``: how many mirrored accounts carry each name key (a name's fuzzy blocks
  exist while it has accounts).
- ``account_block``: fuzzy-search block -> name key (see
  :func:`worker.routing.matching.blocking_keys`), one row per pair.
- ``account_block_size``: per block, how many names share it and, while that is at most
  ``MAX_BLOCK``, the names themselves (and their token-sorted forms) in one text each, so
  a batch reads a block in one row. A bigger block is never searched, so it keeps only
  its count.
- ``account_sync``: the refresh's progress (one row), committed with the rows it covers.

Rows hold only what matching needs; they are rewritten when the account changes in
Salesforce (``SystemModstamp``) and deleted when it is deleted.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from worker.store.models.types import utc_field

KEY_ONLY = {"sqlite_with_rowid": False}  # SQLite: stored in key order, no rowid b-tree


class MirroredAccount(SQLModel, table=True):
    __tablename__ = "account_mirror"

    id: str = Field(primary_key=True, max_length=18)
    name: str = Field(sa_column=Column(Text, nullable=False))
    website: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    owner_id: str | None = Field(default=None, max_length=18, index=True)
    owner_active: bool = True
    employees: int | None = None
    country: str | None = Field(default=None, max_length=80)
    phone: str | None = Field(default=None, max_length=40)
    last_activity: date | None = None
    open_opportunities: int = 0
    system_modstamp: datetime | None = utc_field(nullable=True)
    domain: str | None = Field(default=None, max_length=255, index=True)
    name_key: str = Field(sa_column=Column(Text, nullable=False, index=True))
    generation: int = 0  # the full pass that last wrote the row (re-sync sweeps older ones)


class AccountName(SQLModel, table=True):
    __tablename__ = "account_name"
    __table_args__ = KEY_ONLY

    name_key: str = Field(sa_column=Column(Text, primary_key=True))
    accounts: int = 0


class AccountBlock(SQLModel, table=True):
    __tablename__ = "account_block"
    __table_args__ = KEY_ONLY

    block: str = Field(sa_column=Column(Text, primary_key=True))
    name_key: str = Field(sa_column=Column(Text, primary_key=True))


class AccountBlockSize(SQLModel, table=True):
    __tablename__ = "account_block_size"
    __table_args__ = KEY_ONLY

    block: str = Field(sa_column=Column(Text, primary_key=True))
    names: int = 0
    members: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sorted_members: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class MirrorSyncColumns(SQLModel):
    """Where the refresh of a mirror stands (a single row, ``id`` 1): the columns every
    mirror's sync row has (:class:`worker.jobs.mirror_sync.SyncState`).

    ``phase`` is ``full`` while a full pass pages through every record by Id (from
    ``full_cursor``), then ``delta``: changes by ``SystemModstamp`` from the keyset
    position (``delta_at``, ``delta_id``), deletions from ``deleted_since``.
    ``complete``: a full pass has finished, so the mirror holds every record.
    """

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


class AccountSyncRow(MirrorSyncColumns, table=True):
    """The account mirror's refresh; besides the common columns, owners' ``IsActive``
    from ``users_since``. Until ``complete``, matching says it may miss accounts."""

    __tablename__ = "account_sync"

    users_since: datetime | None = utc_field(nullable=True)
