"""A mirror's refresh: an object's records copied from Salesforce into the store, a
bounded amount of work at a time. The account mirror (:mod:`worker.jobs.accounts`) and
the contact mirror (:mod:`worker.jobs.contacts`) are two kinds of it; what differs (the
table, the query, what a row is) is a handful of hooks, the rest is here.

:meth:`MirrorSync.step` does a cycle's share:

- **Full pass** (first start, or a re-sync): the next ``pages_per_cycle`` pages of
  ``page`` records in Id order. A big org's first load spreads over many cycles. At its
  end, rows the pass did not see again (records deleted while nobody followed) are
  removed.
- **Deltas**, every ``delta_every`` seconds (or when :meth:`MirrorSync.delta` is asked):
  records changed since the keyset position (``SystemModstamp``, Id; read again from a
  little earlier, ``overlap``, until the position is ``settle`` seconds old: same-second
  and late-committed changes), and deletions from the sObject Get Deleted resource
  (merged-away records included: a merge deletes them) once ``deleted_span`` has passed
  since the last call.
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
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from worker.sfdc.errors import ReplicationWindowExceeded
from worker.sfdc.gateway import SalesforceGateway
from worker.sfdc.mapping import DeletedRecords
from worker.store.db import session_scope

log = logging.getLogger("leadrouter.mirror")
DELETED_MIN_SPAN = timedelta(minutes=1)  # Get Deleted: start must precede end by more
PAGE = 2_000  # records per mirror query: one page of results, one API call

R = TypeVar("R")  # a record as the gateway reads it


class SyncState(Protocol):
    """The columns every mirror's sync row has (``account_sync``, ``contact_sync``)."""

    phase: str
    generation: int
    keys_version: int
    complete: bool
    full_cursor: str | None
    full_started_at: datetime | None
    full_loaded: int
    full_expected: int | None
    delta_at: datetime | None
    delta_id: str
    deleted_since: datetime | None


@dataclass
class SyncReport:
    phase: str = ""
    read: int = 0  # records read from Salesforce
    written: int = 0  # mirror rows changed
    deleted: int = 0
    complete: bool = False
    caught_up: bool = False  # a delta read every change up to its query (not a page short)
    resync: bool = False  # a delta found it could not follow: a new full pass began


class MirrorSync(ABC, Generic[R]):
    """The refresh's cadence (its progress lives in the store's sync row)."""

    what = "records"  # in log lines: "account mirror", "contact mirror"
    keys_version = 1  # bump when what a row derives from a record changes: a full re-read
    deleted_every = DELETED_MIN_SPAN  # Get Deleted at most this often (its minimum span)

    def __init__(
        self,
        *,
        pages_per_cycle: int = 5,
        delta_every: float = 300.0,
        page: int = PAGE,
        overlap: timedelta = timedelta(seconds=2),
        settle: timedelta = timedelta(seconds=120),
        handover: timedelta = timedelta(minutes=5),
        deleted_span: timedelta | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pages_per_cycle, self.delta_every, self.page = pages_per_cycle, delta_every, page
        # handover: a full pass's deltas start this long before it began (clock skew)
        self.overlap, self.settle, self.handover = overlap, settle, handover
        self.deleted_span = max(deleted_span or self.deleted_every, DELETED_MIN_SPAN)
        self.clock = clock
        self._delta_due = float("-inf")

    # --- the kind's hooks ------------------------------------------------------------
    @abstractmethod
    def state(self, s: Session, *, lock: bool = False) -> Any:
        """The sync row (a fresh one when there is none); ``lock``: held to the end of
        the transaction (PostgreSQL)."""

    @abstractmethod
    def save(self, s: Session, row: Any) -> None: ...

    @abstractmethod
    def write(self, s: Session, rows: Sequence[R], generation: int) -> int:
        """Upsert ``rows`` (stamped with full pass ``generation``); rows changed."""

    @abstractmethod
    def delete(self, s: Session, deletions: Mapping[str, datetime | None]) -> int: ...

    @abstractmethod
    def stale(self, s: Session, generation: int, limit: int) -> list[str]:
        """Up to ``limit`` Ids of rows not written by full pass ``generation``."""

    @abstractmethod
    def complete(self, s: Session) -> bool: ...

    @abstractmethod
    def count(self, gateway: SalesforceGateway) -> int: ...

    @abstractmethod
    def page_after(
        self, gateway: SalesforceGateway, after_id: str | None, limit: int
    ) -> list[R]: ...

    @abstractmethod
    def changed(
        self, gateway: SalesforceGateway, at: datetime, after_id: str, limit: int
    ) -> list[R]: ...

    @abstractmethod
    def deleted(
        self, gateway: SalesforceGateway, start: datetime, end: datetime
    ) -> DeletedRecords: ...

    @abstractmethod
    def key(self, row: R) -> tuple[str, datetime | None]:
        """(Id, SystemModstamp) of a record read."""

    def after_deletions(self, engine: Engine, gateway: SalesforceGateway, now: datetime) -> None:
        """What else a delta follows (the account mirror: owners' ``IsActive``)."""

    def full_done(self, row: Any, started: datetime) -> None:
        """A full pass ended; its deltas start from ``started``."""

    # --- the cadence -------------------------------------------------------------------
    def step(self, engine: Engine, gateway: SalesforceGateway, now: datetime) -> SyncReport:
        """One cycle's share of the refresh."""
        row = self._begun(engine, gateway, now)
        report = SyncReport(phase=row.phase)
        if row.phase == "full":
            self._full(engine, gateway, now, report)
        elif self.clock() >= self._delta_due:
            self._delta_due = self.clock() + self.delta_every
            self._delta(engine, gateway, now, report)
        with session_scope(engine) as s:
            report.complete = self.complete(s)
        return report

    def delta(self, engine: Engine, gateway: SalesforceGateway, now: datetime) -> SyncReport:
        """A delta now, whatever the cadence (nothing while a full pass is under way)."""
        row = self._begun(engine, gateway, now)
        report = SyncReport(phase=row.phase)
        if row.phase == "delta":
            self._delta_due = self.clock() + self.delta_every
            self._delta(engine, gateway, now, report)
        with session_scope(engine) as s:
            report.complete = self.complete(s)
        return report

    def _begun(self, engine: Engine, gateway: SalesforceGateway, now: datetime) -> Any:
        with session_scope(engine) as s:
            row = self.state(s)
        if row.keys_version != self.keys_version or row.phase != "delta" and row.generation == 0:
            row = self._begin_full(engine, gateway, now, "the mirror is new or its keys changed")
        return row

    # --- full pass -----------------------------------------------------------------
    def _begin_full(
        self, engine: Engine, gateway: SalesforceGateway, now: datetime, why: str
    ) -> Any:
        expected = self.count(gateway)
        with session_scope(engine) as s:
            row = self.state(s, lock=True)
            same_keys = row.keys_version == self.keys_version
            row.phase, row.generation, row.keys_version = (
                "full",
                row.generation + 1,
                self.keys_version,
            )
            row.complete = bool(row.complete) and same_keys  # old keys: lookups may miss
            row.full_cursor, row.full_loaded, row.full_expected = None, 0, expected
            row.full_started_at = now
            self.save(s, row)
        log.warning("%s: full pass %d (%s), %d %s in the org",
                    self.what, row.generation, why, expected, self.records)  # fmt: skip
        return row

    @property
    def records(self) -> str:
        return self.what.split()[0] + "s"

    def _full(
        self, engine: Engine, gateway: SalesforceGateway, now: datetime, report: SyncReport
    ) -> None:
        for _ in range(self.pages_per_cycle):
            with session_scope(engine) as s:
                before = self.state(s)
            rows = self.page_after(gateway, before.full_cursor, self.page)
            report.read += len(rows)
            done = len(rows) < self.page
            with session_scope(engine) as s:
                row = self.state(s, lock=True)
                if _position(row) != _position(before):
                    return  # another writer moved on: its pages stand
                report.written += self.write(s, rows, row.generation)
                row.full_cursor = self.key(rows[-1])[0] if rows else row.full_cursor
                row.full_loaded += len(rows)
                if done:
                    report.deleted += self._finish_full(s, row)
                self.save(s, row)
            if done:
                log.info("%s: full pass %d done, %d %s",
                         self.what, row.generation, row.full_loaded, self.records)  # fmt: skip
                return
        log.info("%s loading: %d of about %d %s",
                 self.what, row.full_loaded, row.full_expected or 0, self.records)  # fmt: skip

    def _finish_full(self, s: Session, row: Any) -> int:
        gone = 0
        while stale := self.stale(s, row.generation, self.page):
            gone += self.delete(s, dict.fromkeys(stale))
        assert row.full_started_at is not None, "a full pass records when it began"
        started = row.full_started_at - self.handover
        row.phase, row.complete = "delta", True
        row.delta_at, row.delta_id = started.replace(microsecond=0), ""
        row.deleted_since = started.replace(second=0, microsecond=0)
        self.full_done(row, started)
        self._delta_due = float("-inf")
        return gone

    # --- deltas --------------------------------------------------------------------
    def _delta(
        self, engine: Engine, gateway: SalesforceGateway, now: datetime, report: SyncReport
    ) -> None:
        self._changes(engine, gateway, now, report)
        if self._deletions(engine, gateway, now, report):
            self.after_deletions(engine, gateway, now)

    def _changes(
        self, engine: Engine, gateway: SalesforceGateway, now: datetime, report: SyncReport
    ) -> None:
        from worker.jobs.intake import intake_since  # the intake's watermark rule

        for _ in range(self.pages_per_cycle):
            with session_scope(engine) as s:
                before = self.state(s)
            assert before.delta_at is not None
            rows = self.changed(gateway, before.delta_at, before.delta_id, self.page)
            report.read += len(rows)
            with session_scope(engine) as s:
                row = self.state(s, lock=True)
                if _position(row) != _position(before):
                    return
                report.written += self.write(s, rows, row.generation)
                last_id, stamp = self.key(rows[-1]) if rows else ("", None)
                if stamp is not None:
                    row.delta_at, row.delta_id = stamp, last_id
                    if len(rows) < self.page:  # caught up: re-read the overlap until settled
                        since = intake_since(stamp, now, self.overlap.total_seconds(),
                                             self.settle.total_seconds())  # fmt: skip
                        if since != stamp:
                            row.delta_at, row.delta_id = since, ""
                self.save(s, row)
            if len(rows) < self.page:
                report.caught_up = True
                return

    def _deletions(
        self, engine: Engine, gateway: SalesforceGateway, now: datetime, report: SyncReport
    ) -> bool:
        """Apply deletions since the last call; False when a full pass had to begin."""
        with session_scope(engine) as s:
            start = self.state(s).deleted_since
        end = now.replace(second=0, microsecond=0)
        if start is None or end - start <= self.deleted_span:
            return True
        try:
            answer = self.deleted(gateway, start, end)
        except ReplicationWindowExceeded as exc:
            self._begin_full(engine, gateway, now, f"Get Deleted: {exc.error_code}")
            report.resync = True
            return False
        if answer.earliest_available is not None and answer.earliest_available > start:
            self._begin_full(engine, gateway, now, "deletions no longer available")
            report.resync = True
            return False
        ids = sorted(answer.deleted)
        for i in range(0, max(len(ids), 1), self.page):
            with session_scope(engine) as s:
                chunk = {k: answer.deleted[k] for k in ids[i : i + self.page]}
                report.deleted += self.delete(s, chunk)
                if i + self.page >= len(ids):
                    row = self.state(s, lock=True)
                    row.deleted_since = answer.latest_covered or end
                    self.save(s, row)
        return True


def _position(row: SyncState) -> tuple[object, ...]:
    return (row.phase, row.generation, row.full_cursor, row.delta_at, row.delta_id)
