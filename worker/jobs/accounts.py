"""The account mirror's refresh: the org's accounts copied into the store, where account
matching reads the few a batch of leads could match (:mod:`worker.store.accounts_repo`).
Nothing here holds more than a page of accounts in memory, whatever the org's size.

:meth:`AccountSync.step` runs at the start of each intake cycle (the active worker only).
The cadence (full passes paged over cycles, keyset deltas every ``delta_every`` seconds,
deletions by Get Deleted, a new full pass past its retention, every page committed with
its position) is :mod:`worker.jobs.mirror_sync`'s, shared with the contact mirror. What
is particular to accounts is here: while the first full pass loads, a decision that found
no account says in its trace that the mirror is incomplete; and each delta also follows
users' ``IsActive`` changes onto the accounts they own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from worker.jobs.mirror_sync import MirrorSync, SyncReport
from worker.routing.model import RoutingConfig
from worker.sfdc.errors import SfdcError
from worker.sfdc.gateway import SalesforceGateway
from worker.sfdc.mapping import AccountRow, DeletedRecords
from worker.store import accounts_repo as repo
from worker.store.db import session_scope
from worker.store.models.accounts import AccountSyncRow

log = logging.getLogger("leadrouter.accounts")
DELTA_CALLS = 3  # Salesforce calls of a delta with nothing to page: changes, deletions, users

__all__ = ["DELTA_CALLS", "AccountSync", "SyncReport", "refresh_mirror"]


class AccountSync(MirrorSync[AccountRow]):
    """The account mirror's refresh (its progress lives in the store: ``account_sync``)."""

    what = "account mirror"
    keys_version = repo.KEYS_VERSION

    def state(self, s: Session, *, lock: bool = False) -> AccountSyncRow:
        return repo.sync_state(s, lock=lock)

    def save(self, s: Session, row: AccountSyncRow) -> None:
        repo.save_sync(s, row)

    def write(self, s: Session, rows: Sequence[AccountRow], generation: int) -> int:
        return repo.apply_changes(s, [(r.account, r.modstamp) for r in rows], generation=generation)

    def delete(self, s: Session, deletions: Mapping[str, datetime | None]) -> int:
        return repo.apply_changes(s, deletions=deletions)

    def stale(self, s: Session, generation: int, limit: int) -> list[str]:
        return repo.stale_ids(s, generation, limit)

    def complete(self, s: Session) -> bool:
        return repo.status(s).complete

    def count(self, gateway: SalesforceGateway) -> int:
        return gateway.count_accounts()

    def page_after(
        self, gateway: SalesforceGateway, after_id: str | None, limit: int
    ) -> list[AccountRow]:
        return gateway.accounts_page(after_id, limit)

    def changed(
        self, gateway: SalesforceGateway, at: datetime, after_id: str, limit: int
    ) -> list[AccountRow]:
        return gateway.accounts_changed(at, after_id, limit)

    def deleted(self, gateway: SalesforceGateway, start: datetime, end: datetime) -> DeletedRecords:
        return gateway.deleted_accounts(start, end)

    def key(self, row: AccountRow) -> tuple[str, datetime | None]:
        return row.account.id, row.modstamp

    def full_done(self, row: AccountSyncRow, started: datetime) -> None:
        row.users_since = started.replace(microsecond=0)

    def after_deletions(self, engine: Engine, gateway: SalesforceGateway, now: datetime) -> None:
        """Users' ``IsActive`` changes, onto the accounts they own."""
        with session_scope(engine) as s:
            since = repo.sync_state(s).users_since
        if since is None:
            return
        users = gateway.users_changed(since)
        with session_scope(engine) as s:
            repo.set_owner_active(s, {u.id: u.is_active for u in users})
            row = repo.sync_state(s, lock=True)
            stamps = [u.modstamp for u in users if u.modstamp is not None]
            row.users_since = max([since, *stamps])
            repo.save_sync(s, row)


def refresh_mirror(
    sync: AccountSync,
    engine: Engine,
    gateway: SalesforceGateway,
    now: datetime,
    config: RoutingConfig,
) -> SyncReport | None:
    """The cycle's refresh when account matching is on. A failure is logged, never
    raised: leads are still routed against the mirror as it stands."""
    if not config.account_matching.enabled:
        return None
    try:
        return sync.step(engine, gateway, now)
    except SfdcError as exc:
        log.error("account mirror refresh failed: %s: %s", type(exc).__name__, exc)
    except Exception:
        log.exception("account mirror refresh failed")
    return None
