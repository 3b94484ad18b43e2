"""Known e-mails from the contact mirror: the Contact lookup off the decision's path.

Known-e-mail matching needs, for a batch of leads, the contacts that carry their
addresses. Asked of Salesforce, that is one query per batch on the decision's path (0.3 s
typical, over a second in the tail against a real org) and, subscribed at 5,000 leads a
day, some 4,000 calls a day. The mirror keeps the org's contacts with an address in the
store (:mod:`worker.store.contacts_repo`), refreshed by the same keyset deltas as the
account mirror (:mod:`worker.jobs.mirror_sync`), and a batch reads it with no call.

**How fresh.** A lookup is answered from the mirror only while its last delta that read
every change began less than ``max_age`` seconds ago (60 by default,
``LEADROUTER_CONTACT_MIRROR_MAX_AGE_SECONDS``); an older mirror is refreshed first (one
query when nothing changed). So a contact created or changed more than ``max_age``
seconds before a lead is decided is seen, as the query would see it; one changed within
those seconds may not be (the trade made for the call and the wait). While leads flow,
the subscriber's arrivals and the intake's read-ahead refresh it once it is
``refresh_after`` seconds old (half ``max_age``), off the decision's path, so decisions
find it fresh; an idle org costs nothing (no lead, no refresh). Deletions (Get Deleted)
are followed at most every 5 minutes: a deleted contact may match for that long.

**When it cannot answer**, the caller queries Salesforce as before
(:class:`~worker.jobs.context.EmailCache`): while the first full pass is loading (a
cycle's share of pages at a time, like the account mirror's), when ``max_age`` is 0 (the
mirror off), or when its refresh failed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from worker.jobs.mirror_sync import MirrorSync, SyncReport
from worker.routing.model import KnownEmail, RoutingConfig
from worker.sfdc.errors import SfdcError
from worker.sfdc.gateway import SalesforceGateway
from worker.sfdc.mapping import ContactRow, DeletedRecords
from worker.store import contacts_repo as repo
from worker.store.db import session_scope
from worker.store.models.contacts import ContactSyncRow

log = logging.getLogger("leadrouter.contacts")
DEFAULT_MAX_AGE = 60.0
DELETIONS_EVERY = timedelta(minutes=5)


class ContactSync(MirrorSync[ContactRow]):
    """The contact mirror's refresh (its progress lives in the store: ``contact_sync``)."""

    what = "contact mirror"
    deleted_every = DELETIONS_EVERY

    def state(self, s: Session, *, lock: bool = False) -> ContactSyncRow:
        return repo.sync_state(s, lock=lock)

    def save(self, s: Session, row: ContactSyncRow) -> None:
        repo.save_sync(s, row)

    def write(self, s: Session, rows: Sequence[ContactRow], generation: int) -> int:
        return repo.apply_changes(s, rows, generation=generation)

    def delete(self, s: Session, deletions: Mapping[str, datetime | None]) -> int:
        return repo.apply_changes(s, deletions=deletions)

    def stale(self, s: Session, generation: int, limit: int) -> list[str]:
        return repo.stale_ids(s, generation, limit)

    def complete(self, s: Session) -> bool:
        return repo.complete(s)

    def count(self, gateway: SalesforceGateway) -> int:
        return gateway.count_contacts()

    def page_after(
        self, gateway: SalesforceGateway, after_id: str | None, limit: int
    ) -> list[ContactRow]:
        return gateway.contacts_page(after_id, limit)

    def changed(
        self, gateway: SalesforceGateway, at: datetime, after_id: str, limit: int
    ) -> list[ContactRow]:
        return gateway.contacts_changed(at, after_id, limit)

    def deleted(self, gateway: SalesforceGateway, start: datetime, end: datetime) -> DeletedRecords:
        return gateway.deleted_contacts(start, end)

    def key(self, row: ContactRow) -> tuple[str, datetime | None]:
        return row.id, row.modstamp


class ContactMirror:
    """Known-e-mail lookups from the contact mirror, fresh within ``max_age`` seconds
    (see the module docstring); ``max_age`` 0: off, every lookup is left to the query.
    Thread-safe: one refresh at a time; a lookup that needs one waits for the one out."""

    def __init__(
        self,
        *,
        max_age: float = DEFAULT_MAX_AGE,
        refresh_after: float | None = None,
        sync: ContactSync | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age = max_age
        self.refresh_after = max_age / 2 if refresh_after is None else refresh_after
        self.sync = sync or ContactSync(delta_every=float("inf"), clock=clock)
        self.clock = clock
        self._checked = float("-inf")  # (clock) when the last delta that caught up began
        self._refreshing = threading.Lock()
        self._ready = False  # remembered once seen: a re-sync is found by a delta

    @property
    def enabled(self) -> bool:
        return self.max_age > 0

    def age(self) -> float:
        """Seconds since the last delta that read every change began (inf: none yet)."""
        return self.clock() - self._checked

    def step(
        self, engine: Engine, gateway: SalesforceGateway, now: datetime, config: RoutingConfig
    ) -> SyncReport | None:
        """A cycle's share of the first load (pages of a full pass); deltas are asked by
        the lookups, not by the cycle. Failures are logged, never raised."""
        if not (self.enabled and _wanted(config)) or self.ready(engine):
            return None
        try:
            return self.sync.step(engine, gateway, now)
        except SfdcError as exc:
            log.error("contact mirror refresh failed: %s: %s", type(exc).__name__, exc)
        except Exception:
            log.exception("contact mirror refresh failed")
        return None

    def ready(self, engine: Engine) -> bool:
        """Whether the mirror follows deltas: a full pass has finished and no re-sync is
        under way (a re-sync's rows are a mix of old and new)."""
        if not self._ready:
            with session_scope(engine) as s:
                row = repo.sync_state(s)
            self._ready = row.phase == "delta" and row.keys_version == self.sync.keys_version
        return self._ready

    def refresh(
        self, engine: Engine, gateway: SalesforceGateway, now: datetime, older_than: float
    ) -> bool:
        """A delta when the mirror is ``older_than`` seconds old or more (waiting for one
        already out instead of sending another); whether it is younger now. Salesforce's
        failures are raised."""
        if self.age() < older_than:
            return True
        with self._refreshing:
            if self.age() < older_than:
                return True  # the one we waited for did it
            began = self.clock()
            report = self.sync.delta(engine, gateway, now)
            if report.phase != "delta" or report.resync:  # a full pass began
                self._ready = False
                return False
            if report.caught_up:
                self._checked = began
        return self.age() < older_than

    def known_emails(
        self,
        engine: Engine,
        gateway: SalesforceGateway,
        emails: Iterable[str],
        active: Mapping[str, bool],
        now: Callable[[], datetime],
    ) -> dict[str, list[KnownEmail]] | None:
        """Contacts by address from the mirror, refreshed first when ``max_age`` old;
        None when the mirror cannot answer (off, loading, its refresh failed): the
        caller asks Salesforce."""
        if not self.enabled or not self.ready(engine):
            return None
        try:
            if not self.refresh(engine, gateway, now(), self.max_age):
                return None
        except SfdcError as exc:
            log.warning("contact mirror refresh failed, querying instead: %s",
                        type(exc).__name__)  # fmt: skip
            return None
        return repo.known_emails(engine, emails, active)

    def keep_fresh(self, engine: Engine, gateway: SalesforceGateway, now: datetime) -> None:
        """Leads are arriving: refresh once ``refresh_after`` old, so their decisions find
        the mirror fresh (called off the decision's path; failures logged)."""
        if not self.enabled or not self.ready(engine):
            return
        try:
            self.refresh(engine, gateway, now, self.refresh_after)
        except SfdcError as exc:
            log.debug("contact mirror refresh failed: %s", type(exc).__name__)


def _wanted(config: RoutingConfig) -> bool:
    matching = config.account_matching
    return matching.enabled and matching.by_known_email
