"""The account mirror's refresh: the org's accounts copied into the store, where account
matching reads the few a batch of leads could match (:mod:`worker.store.accounts_repo`).
Nothing here holds more than a page of accounts in memory, whatever the org's size.

:meth:`AccountSync.step` runs at the start of each intake cycle (the active worker only)
and does a bounded amount of work:

- **Full pass** (first start, or a re-sync): the next ``pages_per_cycle`` pages of 2,000
  accounts in Id order. A big org's first load spreads over many cycles; leads are routed
  meanwhile against what is loaded, and a decision that found no account says in its
  trace that the mirror is incomplete. At its end, rows the pass did not see again
  (accounts deleted while nobody followed) are removed.
- **Deltas**, every ``delta_every`` seconds: accounts changed since the keyset position
  (``SystemModstamp``, Id; read again from a little earlier, ``overlap``, until the
  position is ``settle`` seconds old: same-second and late-committed changes), deletions
  from the sObject Get Deleted resource (merged-away accounts included: a merge deletes
  them), and users' ``IsActive`` changes onto the accounts they own.
- Get Deleted cannot answer when the span starts before what Salesforce still keeps (15
  days, less after the Recycle Bin was emptied) or holds more than 600,000 deletions
  (the gateway raises ``ReplicationWindowExceeded``): then a new full pass re-reads
  everything.

Each page's rows are committed with the position after them (and, on PostgreSQL, under
a row lock on the sync state), so a worker killed at any point resumes where the last
commit left off, and a second writer cannot interleave.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from worker.routing.model import RoutingConfig
from worker.sfdc.errors import ReplicationWindowExceeded, SfdcError
from worker.sfdc.gateway import SalesforceGateway
from worker.sfdc.mapping import AccountRow
from worker.sfdc.soql import ACCOUNT_PAGE
from worker.store import accounts_repo as repo
from worker.store.db import session_scope
from worker.store.models.accounts import AccountSyncRow

log = logging.getLogger("leadrouter.accounts")
DELTA_CALLS = 3  # Salesforce calls of a delta with nothing to page: changes, deletions, users
DELETED_MIN_SPAN = timedelta(minutes=1)  # Get Deleted: start must precede end by more


@dataclass
class SyncReport:
    phase: str = ""
    read: int = 0  # accounts read from Salesforce
    written: int = 0  # mirror rows changed
    deleted: int = 0
    complete: bool = False


class AccountSync:
    """The refresh's cadence (its progress lives in the store: ``account_sync``)."""

    def __init__(
        self,
        *,
        pages_per_cycle: int = 5,
        delta_every: float = 300.0,
        page: int = ACCOUNT_PAGE,
        overlap: timedelta = timedelta(seconds=2),
        settle: timedelta = timedelta(seconds=120),
        handover: timedelta = timedelta(minutes=5),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pages_per_cycle, self.delta_every, self.page = pages_per_cycle, delta_every, page
        # handover: a full pass's deltas start this long before it began (clock skew)
        self.overlap, self.settle, self.handover = overlap, settle, handover
        self.clock = clock
        self._delta_due = float("-inf")

    def step(self, engine: Engine, gateway: SalesforceGateway, now: datetime) -> SyncReport:
        """One cycle's share of the refresh."""
        with session_scope(engine) as s:
            row = repo.sync_state(s)
        if row.keys_version != repo.KEYS_VERSION or row.phase != "delta" and row.generation == 0:
            row = self._begin_full(engine, gateway, now, "the mirror is new or its keys changed")
        report = SyncReport(phase=row.phase)
        if row.phase == "full":
            self._full(engine, gateway, now, report)
        elif self.clock() >= self._delta_due:
            self._delta_due = self.clock() + self.delta_every
            self._delta(engine, gateway, now, report)
        with session_scope(engine) as s:
            report.complete = repo.status(s).complete
        return report

    # --- full pass -----------------------------------------------------------------
    def _begin_full(
        self, engine: Engine, gateway: SalesforceGateway, now: datetime, why: str
    ) -> AccountSyncRow:
        expected = gateway.count_accounts()
        with session_scope(engine) as s:
            row = repo.sync_state(s, lock=True)
            same_keys = row.keys_version == repo.KEYS_VERSION
            row.phase, row.generation, row.keys_version = (
                "full",
                row.generation + 1,
                repo.KEYS_VERSION,
            )
            row.complete = bool(row.complete) and same_keys  # old keys: lookups may miss
            row.full_cursor, row.full_loaded, row.full_expected = None, 0, expected
            row.full_started_at = now
            repo.save_sync(s, row)
        log.warning("account mirror: full pass %d (%s), %d accounts in the org",
                    row.generation, why, expected)  # fmt: skip
        return row

    def _full(
        self, engine: Engine, gateway: SalesforceGateway, now: datetime, report: SyncReport
    ) -> None:
        for _ in range(self.pages_per_cycle):
            with session_scope(engine) as s:
                before = repo.sync_state(s)
            rows = gateway.accounts_page(before.full_cursor, self.page)
            report.read += len(rows)
            done = len(rows) < self.page
            with session_scope(engine) as s:
                row = repo.sync_state(s, lock=True)
                if _position(row) != _position(before):
                    return  # another writer moved on: its pages stand
                report.written += _apply(s, rows, row.generation)
                row.full_cursor = rows[-1].account.id if rows else row.full_cursor
                row.full_loaded += len(rows)
                if done:
                    report.deleted += self._finish_full(s, row)
                repo.save_sync(s, row)
            if done:
                log.info("account mirror: full pass %d done, %d accounts",
                         row.generation, row.full_loaded)  # fmt: skip
                return
        log.info("account mirror loading: %d of about %d accounts",
                 row.full_loaded, row.full_expected or 0)  # fmt: skip

    def _finish_full(self, s: Session, row: AccountSyncRow) -> int:
        gone = 0
        while stale := repo.stale_ids(s, row.generation, self.page):
            gone += repo.apply_changes(s, deletions=dict.fromkeys(stale))
        assert row.full_started_at is not None, "a full pass records when it began"
        started = row.full_started_at - self.handover
        row.phase, row.complete = "delta", True
        row.delta_at, row.delta_id = started.replace(microsecond=0), ""
        row.deleted_since = started.replace(second=0, microsecond=0)
        row.users_since = started.replace(microsecond=0)
        self._delta_due = float("-inf")
        return gone

    # --- deltas --------------------------------------------------------------------
    def _delta(
        self, engine: Engine, gateway: SalesforceGateway, now: datetime, report: SyncReport
    ) -> None:
        self._changes(engine, gateway, now, report)
        if self._deletions(engine, gateway, now, report):
            self._owners(engine, gateway, now)

    def _changes(
        self, engine: Engine, gateway: SalesforceGateway, now: datetime, report: SyncReport
    ) -> None:
        from worker.jobs.intake import intake_since  # the intake's watermark rule

        for _ in range(self.pages_per_cycle):
            with session_scope(engine) as s:
                before = repo.sync_state(s)
            assert before.delta_at is not None
            rows = gateway.accounts_changed(before.delta_at, before.delta_id, self.page)
            report.read += len(rows)
            with session_scope(engine) as s:
                row = repo.sync_state(s, lock=True)
                if _position(row) != _position(before):
                    return
                report.written += _apply(s, rows, row.generation)
                last = rows[-1] if rows else None
                if last is not None and last.modstamp is not None:
                    row.delta_at, row.delta_id = last.modstamp, last.account.id
                    if len(rows) < self.page:  # caught up: re-read the overlap until settled
                        since = intake_since(last.modstamp, now, self.overlap.total_seconds(),
                                             self.settle.total_seconds())  # fmt: skip
                        if since != last.modstamp:
                            row.delta_at, row.delta_id = since, ""
                repo.save_sync(s, row)
            if len(rows) < self.page:
                return

    def _deletions(
        self, engine: Engine, gateway: SalesforceGateway, now: datetime, report: SyncReport
    ) -> bool:
        """Apply deletions since the last call; False when a full pass had to begin."""
        with session_scope(engine) as s:
            start = repo.sync_state(s).deleted_since
        end = now.replace(second=0, microsecond=0)
        if start is None or end - start <= DELETED_MIN_SPAN:
            return True
        try:
            answer = gateway.deleted_accounts(start, end)
        except ReplicationWindowExceeded as exc:
            self._begin_full(engine, gateway, now, f"Get Deleted: {exc.error_code}")
            return False
        if answer.earliest_available is not None and answer.earliest_available > start:
            self._begin_full(engine, gateway, now, "deletions no longer available")
            return False
        ids = sorted(answer.deleted)
        for i in range(0, max(len(ids), 1), self.page):
            with session_scope(engine) as s:
                chunk = {k: answer.deleted[k] for k in ids[i : i + self.page]}
                report.deleted += repo.apply_changes(s, deletions=chunk)
                if i + self.page >= len(ids):
                    row = repo.sync_state(s, lock=True)
                    row.deleted_since = answer.latest_covered or end
                    repo.save_sync(s, row)
        return True

    def _owners(self, engine: Engine, gateway: SalesforceGateway, now: datetime) -> None:
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


def _position(row: AccountSyncRow) -> tuple[object, ...]:
    return (row.phase, row.generation, row.full_cursor, row.delta_at, row.delta_id)


def _apply(s: Session, rows: Sequence[AccountRow], generation: int) -> int:
    return repo.apply_changes(s, [(r.account, r.modstamp) for r in rows], generation=generation)


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
