"""Build the routing context for a batch of leads (an intake page), in bulk.

Per batch: contacts with the batch's e-mails (:func:`known_emails`: from the store's
contact mirror, :mod:`worker.jobs.contacts`, or while it cannot answer a query per page,
chunked by the URI budget), then the candidate accounts from the store's account mirror
(:func:`worker.store.accounts_repo.routing_context`: a few indexed queries, no Salesforce
call; the mirror is refreshed by :mod:`worker.jobs.accounts`). Per cycle: each rep's
open-lead count (one ``GROUP BY OwnerId`` aggregate, then kept current locally as the
cycle assigns). Rep User Ids and ``IsActive`` come from the cached :class:`Directory`.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

from worker.jobs.accounts import AccountSync
from worker.jobs.contacts import ContactMirror
from worker.jobs.directory import Directory
from worker.routing.facts import lead_emails
from worker.routing.model import KnownEmail, Lead, RepStatus, RoutingConfig, RoutingContext
from worker.sfdc.gateway import SalesforceGateway
from worker.sfdc.mapping import UserRow
from worker.store import accounts_repo

CLOSED_STATUSES = ("Closed - Converted", "Closed - Not Converted")


@dataclass
class OpenLeads:
    """Open leads per owner: one aggregate every ``ttl`` seconds, local increments between."""

    counts: dict[str, int] = field(default_factory=dict)
    ttl: float = 60.0
    loaded_at: float = float("-inf")

    def load(self, gateway: SalesforceGateway, owner_ids: Sequence[str]) -> None:
        if time.monotonic() - self.loaded_at >= self.ttl:
            self.counts = gateway.open_leads_by_owner(list(owner_ids), CLOSED_STATUSES)
            self.loaded_at = time.monotonic()

    def moved(self, old_owner: str | None, new_owner: str | None) -> None:
        if old_owner and old_owner in self.counts:
            self.counts[old_owner] = max(0, self.counts[old_owner] - 1)
        if new_owner:
            self.counts[new_owner] = self.counts.get(new_owner, 0) + 1


class EmailCache:
    """Contacts found per e-mail address, kept ``ttl`` seconds. Safe to share between
    threads (the intake's read-ahead, the subscriber's prefetch, the cycle): the answer
    is built from what this call saw or fetched, never from what another call may have
    cleared in between. An address another call is fetching right now is waited for,
    not fetched twice (a decision finds the lookup its events started on arrival)."""

    def __init__(self, ttl: float = 600.0, max_keys: int = 20_000, wait: float = 30.0) -> None:
        self.ttl, self.max_keys, self.wait = ttl, max_keys, wait
        self._hits: dict[str, tuple[float, tuple[KnownEmail, ...]]] = {}
        self._fetching: dict[str, threading.Event] = {}  # address -> set when it is done
        self._lock = threading.Lock()  # held for dict work only, never across a query

    def fetch(
        self, gateway: SalesforceGateway, emails: set[str], active: dict[str, bool]
    ) -> dict[str, list[KnownEmail]]:
        known, todo, others = self._split(emails)
        if todo:
            known.update(self._query(gateway, todo, active))
        if others:  # fetched by another call: its answer, or ours if it failed
            for done in set(others.values()):
                done.wait(self.wait)
            again, todo, _ = self._split(set(others), claim_all=True)
            known.update(again)
            if todo:
                known.update(self._query(gateway, todo, active))
        return {e: list(hits) for e, hits in known.items() if hits}

    def _split(
        self, emails: set[str], claim_all: bool = False
    ) -> tuple[dict[str, tuple[KnownEmail, ...]], list[str], dict[str, threading.Event]]:
        """(fresh hits, addresses this call now fetches, addresses another call is
        fetching -> its event); ``claim_all``: fetch whatever is not a fresh hit."""
        now = time.monotonic()
        known: dict[str, tuple[KnownEmail, ...]] = {}
        todo: list[str] = []
        others: dict[str, threading.Event] = {}
        with self._lock:
            for e in sorted(emails):
                hit = self._hits.get(e)
                if hit is not None and now - hit[0] < self.ttl:
                    known[e] = hit[1]
                elif not claim_all and (busy := self._fetching.get(e)) is not None:
                    others[e] = busy
                else:
                    todo.append(e)
        return known, todo, others

    def _query(
        self, gateway: SalesforceGateway, todo: list[str], active: dict[str, bool]
    ) -> dict[str, tuple[KnownEmail, ...]]:
        done = threading.Event()
        with self._lock:
            for e in todo:
                self._fetching.setdefault(e, done)
        at = time.monotonic()
        try:
            found: dict[str, list[KnownEmail]] = defaultdict(list)
            for item in gateway.known_emails(todo, active):
                found[item.email].append(item)
            fetched = {email: tuple(found.get(email, ())) for email in todo}
            with self._lock:
                if len(self._hits) > self.max_keys:
                    self._hits.clear()
                self._hits.update((e, (at, hits)) for e, hits in fetched.items())
            return fetched
        finally:
            with self._lock:
                for e in todo:
                    if self._fetching.get(e) is done:
                        del self._fetching[e]
            done.set()


@dataclass
class Caches:
    """What the worker remembers between cycles (all bounded, all with lifetimes)."""

    mirror: AccountSync = field(default_factory=AccountSync)
    # the contact mirror, off unless the worker's settings turn it on (bootstrap)
    contacts: ContactMirror = field(default_factory=lambda: ContactMirror(max_age=0))
    emails: EmailCache = field(default_factory=EmailCache)
    open_leads: OpenLeads = field(default_factory=OpenLeads)
    # held while the mirrors refresh (worker.jobs.intake.refresh_mirrors): one at a time
    refreshing: threading.Lock = field(default_factory=threading.Lock)


def known_emails(
    gateway: SalesforceGateway,
    engine: Engine,
    caches: Caches,
    emails: set[str],
    active: dict[str, bool],
    now: Callable[[], datetime],
) -> dict[str, list[KnownEmail]]:
    """The contacts carrying ``emails`` (normalised addresses): from the contact mirror
    when it can answer, else asked of Salesforce (:class:`EmailCache`). The one place a
    decision's known e-mails come from: the worker, polling or subscribed."""
    found = caches.contacts.known_emails(engine, gateway, emails, active, now)
    if found is not None:
        return found
    return caches.emails.fetch(gateway, emails, active)


def prefetch_emails(
    gateway: SalesforceGateway,
    directory: Directory,
    config: RoutingConfig,
    leads: Sequence[Lead],
    caches: Caches,
    engine: Engine,
    now: Callable[[], datetime],
) -> None:
    """Ready the known e-mails of a whole intake page ahead of its decision (for intake
    pages, on the read-ahead thread), so :func:`build_context` does not wait: the
    contact mirror refreshed once it is half its age limit old, or, while the mirror
    cannot answer, the page's addresses looked up at once (the gateway runs the chunked
    queries side by side) and cached."""
    matching = config.account_matching
    if matching.enabled and matching.by_known_email and leads:
        ready_known_emails(gateway, directory, caches, engine, now, lead_emails(leads))


def ready_known_emails(
    gateway: SalesforceGateway,
    directory: Directory,
    caches: Caches,
    engine: Engine,
    now: Callable[[], datetime],
    emails: set[str],
) -> None:
    """Ahead of a decision needing ``emails``: the contact mirror refreshed once it is
    half its age limit old, or, while the mirror cannot answer, the addresses looked up
    and cached (the two ways :func:`known_emails` answers)."""
    if caches.contacts.enabled and caches.contacts.ready(engine):
        caches.contacts.keep_fresh(engine, gateway, now())
    elif emails:
        caches.emails.fetch(gateway, emails, directory.active())


def load_open_leads(
    gateway: SalesforceGateway, directory: Directory, config: RoutingConfig, caches: Caches
) -> dict[str, UserRow | None]:
    """The reps' users, and their open-lead counts reloaded when the aggregate is due
    (``caches.open_leads.ttl``); the users, for the caller's own use."""
    users = directory.users(config.reps)
    caches.open_leads.load(gateway, [u.id for u in users.values() if u is not None])
    return users


def build_context(
    *,
    gateway: SalesforceGateway,
    directory: Directory,
    config: RoutingConfig,
    leads: Sequence[Lead],
    caches: Caches,
    engine: Engine,
    now: Callable[[], datetime],
) -> RoutingContext:
    """The :class:`RoutingContext` for ``leads`` (bulk queries only; accounts from the
    mirror in the store behind ``engine``, contacts from its contact mirror when that can
    answer)."""
    users = load_open_leads(gateway, directory, config, caches)
    active = directory.active()
    open_leads = caches.open_leads
    reps = {
        key: RepStatus(
            rep_key=key,
            user_id=user.id if user else None,
            sf_active=active.get(user.id, False) if user else False,
            open_leads=open_leads.counts.get(user.id, 0) if user else 0,
        )
        for key, user in users.items()
    }
    matching = config.account_matching
    known: dict[str, list[KnownEmail]] = {}
    if matching.enabled and matching.by_known_email and leads:
        emails = lead_emails(leads)
        if emails:
            known = known_emails(gateway, engine, caches, emails, active, now)
    return accounts_repo.routing_context(
        engine, leads, config, reps=reps, users_active=active, known_emails=known
    )
