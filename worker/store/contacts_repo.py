"""The contact mirror in the store (:mod:`worker.store.models.contacts`).

Writing: :func:`apply_changes` writes a page of Salesforce's contact changes (upserts
and deletions) in the caller's transaction, so the sync's watermark can be committed
with the rows it covers. A contact without an e-mail address (or owner) is not kept: it
can match no lead.

Reading: :func:`known_emails` answers what the Contact query by e-mail answers
(:meth:`worker.sfdc.gateway.SalesforceGateway.known_emails`), from the store: a few
indexed ``IN`` queries, no Salesforce call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from worker.routing.model import KnownEmail
from worker.store.accounts_repo import (
    _delete_in,
    _many,
    _rows_in,
    _session,
    _stamp,
    _utc,
    sync_row,
)
from worker.store.models.contacts import ContactSyncRow, MirroredContact

_CONTACTS = MirroredContact.__table__  # type: ignore[attr-defined]
_COLUMNS = ("id", "email", "account_id", "owner_id", "system_modstamp", "generation")
_UPSERT = (
    f"INSERT INTO contact_mirror ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_COLUMNS))}) ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
)
_DATES = (_COLUMNS.index("system_modstamp"),)


class ContactValues(Protocol):
    """A contact as read from Salesforce (:class:`worker.sfdc.mapping.ContactRow`)."""

    @property
    def id(self) -> str: ...
    @property
    def email(self) -> str | None: ...  # as Salesforce holds it; lower-cased when stored
    @property
    def account_id(self) -> str | None: ...
    @property
    def owner_id(self) -> str | None: ...
    @property
    def modstamp(self) -> datetime | None: ...


def apply_changes(
    session: Session,
    upserts: Sequence[ContactValues] = (),
    deletions: Mapping[str, datetime | None] | None = None,
    *,
    generation: int = 0,
) -> int:
    """Write contacts as read from Salesforce and remove deleted ones (Id -> when
    deleted), in the caller's transaction; returns how many rows changed. A version older
    than the stored one is ignored, and so is a deletion older than the stored version
    (the contact was undeleted and changed since)."""
    deletions = dict(deletions or {})
    stored = _stored(session, [c.id for c in upserts] + list(deletions))
    before = set(stored)
    rows: dict[str, tuple[Any, ...]] = {}
    gone: set[str] = set()
    for c in upserts:
        stamp = _utc(c.modstamp)
        if _older(stamp, stored.get(c.id)):
            continue
        if c.email and c.owner_id:
            rows[c.id] = (c.id, c.email.strip().lower()[:255], c.account_id, c.owner_id,
                          stamp, generation)  # fmt: skip
            gone.discard(c.id)
        else:  # no address (or owner) any more: nothing to match, as if deleted
            rows.pop(c.id, None)
            gone.add(c.id)
        stored[c.id] = stamp
    for contact_id, deleted_at in deletions.items():
        if contact_id in stored and not _older(_utc(deleted_at), stored[contact_id]):
            rows.pop(contact_id, None)
            gone.add(contact_id)
    gone &= before  # only rows that are there
    _many(session, _UPSERT, list(rows.values()), dates=_DATES)
    _delete_in(session, "contact_mirror", "id", sorted(gone))
    return len(rows) + len(gone)


def _older(stamp: datetime | None, than: datetime | None) -> bool:
    return stamp is not None and than is not None and stamp < than


def _stored(session: Session, ids: Sequence[str]) -> dict[str, datetime | None]:
    rows = _rows_in(session, "id, system_modstamp", "contact_mirror", "id", ids)
    return {i: _stamp(stamp) for i, stamp in rows}


def stale_ids(session: Session, generation: int, limit: int) -> list[str]:
    """Up to ``limit`` rows not written by full pass ``generation``."""
    query = (
        select(_CONTACTS.c.id).where(_CONTACTS.c.generation != generation).order_by(_CONTACTS.c.id)
    )
    return [str(i) for i in session.execute(query.limit(limit)).scalars()]


# --- sync state ------------------------------------------------------------------------
def sync_state(session: Session, *, lock: bool = False) -> ContactSyncRow:
    """The sync's row (a fresh one, not yet added, when there is none). ``lock``: held
    until the transaction ends (PostgreSQL), so two writers take turns."""
    return sync_row(session, ContactSyncRow, lock=lock)


def save_sync(session: Session, row: ContactSyncRow) -> None:
    row.updated_at = datetime.now(UTC)
    session.add(row)


def complete(session: Session) -> bool:
    """Whether a full pass has finished (the mirror holds every contact with an address)."""
    sql = "SELECT complete FROM contact_sync WHERE id = 1"
    row = session.connection().exec_driver_sql(sql).first()
    return bool(row and row[0])


# --- reading ---------------------------------------------------------------------------
def known_emails(
    bind: Engine | Session, emails: Iterable[str], active: Mapping[str, bool]
) -> dict[str, list[KnownEmail]]:
    """Contacts by (lower-cased) address, as :class:`KnownEmail` with their owner's
    ``IsActive`` from ``active`` (an owner it does not list counts as active); addresses
    no contact carries are left out."""
    wanted = {e.strip().lower() for e in emails if e and e.strip()}
    with _session(bind) as s:
        rows = _rows_in(s, "id, email, account_id, owner_id", "contact_mirror", "email", wanted)
    found: dict[str, list[KnownEmail]] = defaultdict(list)
    for contact_id, email, account_id, owner_id in sorted(rows):
        found[email].append(
            KnownEmail(
                email=email,
                kind="contact",
                record_id=contact_id,
                account_id=account_id,
                owner_id=owner_id,
                owner_active=active.get(owner_id, True),
            )  # fmt: skip
        )
    return dict(found)
