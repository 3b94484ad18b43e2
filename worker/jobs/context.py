"""Build the routing context for a batch of leads (an intake page), in bulk.

Per batch: candidate accounts for all the batch's domains and company names (OR-ed
clauses, as few queries as the URI budget allows; none when the account mirror is on),
contacts with the batch's e-mails (prefetched per page, chunked by the URI budget). Per
cycle: each rep's open-lead count (one ``GROUP BY OwnerId`` aggregate, then kept current locally as
the cycle assigns). Rep User Ids and ``IsActive`` come from the cached :class:`Directory`.
Account lookups are remembered per domain/name for ``ttl`` seconds, so a company that
sends many leads is not looked up again and again.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from worker.jobs.accounts import AccountMirror
from worker.jobs.directory import Directory
from worker.routing.facts import lead_facts
from worker.routing.model import Account, KnownEmail, Lead, RepStatus, RoutingConfig, RoutingContext
from worker.routing.normalise import email_address
from worker.sfdc.gateway import SalesforceGateway

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


class AccountCache:
    """Accounts found per lookup key (``d:`` domain, ``n:`` name), kept ``ttl`` seconds."""

    def __init__(self, ttl: float = 600.0, max_keys: int = 50_000) -> None:
        self.ttl, self.max_keys = ttl, max_keys
        self._hits: dict[str, tuple[float, tuple[str, ...]]] = {}
        self._accounts: dict[str, Account] = {}

    def fetch(
        self,
        gateway: SalesforceGateway,
        domains: set[str],
        names: set[str],
        active: dict[str, bool],
    ) -> list[Account]:
        now = time.monotonic()
        keys = {f"d:{d}" for d in domains} | {f"n:{n.lower()}" for n in names}
        fresh = {k for k in keys if k in self._hits and now - self._hits[k][0] < self.ttl}
        todo_d = {d for d in domains if f"d:{d}" not in fresh}
        todo_n = {n for n in names if f"n:{n.lower()}" not in fresh}
        if todo_d or todo_n:
            self._store(
                gateway.accounts(sorted(todo_d), sorted(todo_n), active), todo_d, todo_n, now
            )
        ids = {i for k in keys if k in self._hits for i in self._hits[k][1]}
        return [self._accounts[i] for i in sorted(ids) if i in self._accounts]

    def _store(self, found: list[Account], domains: set[str], names: set[str], now: float) -> None:
        if len(self._hits) > self.max_keys:  # bounded memory over a long run
            self._hits.clear()
            self._accounts.clear()
        by_key: dict[str, list[str]] = defaultdict(list)
        for account in found:
            self._accounts[account.id] = account
            website = (account.website or "").lower()
            for d in domains:
                if d in website:
                    by_key[f"d:{d}"].append(account.id)
            by_key[f"n:{account.name.lower()}"].append(account.id)
        for d in domains:
            self._hits[f"d:{d}"] = (now, tuple(by_key.get(f"d:{d}", ())))
        for n in names:
            self._hits[f"n:{n.lower()}"] = (now, tuple(by_key.get(f"n:{n.lower()}", ())))


class EmailCache:
    """Contacts found per e-mail address, kept ``ttl`` seconds. Safe to share between the
    intake's read-ahead thread (which prefetches a page's e-mails) and the cycle: the
    answer is built from what this call saw or fetched, never from what another call
    may have cleared in between."""

    def __init__(self, ttl: float = 600.0, max_keys: int = 20_000) -> None:
        self.ttl, self.max_keys = ttl, max_keys
        self._hits: dict[str, tuple[float, tuple[KnownEmail, ...]]] = {}
        self._lock = threading.Lock()  # held for dict work only, never across a query

    def fetch(
        self, gateway: SalesforceGateway, emails: set[str], active: dict[str, bool]
    ) -> dict[str, list[KnownEmail]]:
        now = time.monotonic()
        with self._lock:
            known = {e: hit[1] for e in emails
                     if (hit := self._hits.get(e)) is not None and now - hit[0] < self.ttl}  # fmt: skip
        todo = sorted(emails - known.keys())
        if todo:
            found: dict[str, list[KnownEmail]] = defaultdict(list)
            for item in gateway.known_emails(todo, active):
                found[item.email].append(item)
            fetched = {email: tuple(found.get(email, ())) for email in todo}
            with self._lock:
                if len(self._hits) > self.max_keys:
                    self._hits.clear()
                self._hits.update((e, (now, hits)) for e, hits in fetched.items())
            known.update(fetched)
        return {e: list(hits) for e, hits in known.items() if hits}


@dataclass
class Caches:
    """What the worker remembers between cycles (all bounded, all with lifetimes)."""

    mirror: AccountMirror = field(default_factory=AccountMirror)
    accounts: AccountCache = field(default_factory=AccountCache)
    emails: EmailCache = field(default_factory=EmailCache)
    open_leads: OpenLeads = field(default_factory=OpenLeads)


def _emails(leads: Sequence[Lead]) -> set[str]:
    """The leads' e-mail addresses, normalised as :class:`LeadFacts` does (without the
    rest of the facts: a page asks for 2,000 of these)."""
    return {e for lead in leads if (e := email_address(lead.fields.get("Email")))}


def _lookup_keys(leads: Sequence[Lead]) -> tuple[set[str], set[str]]:
    """Domains and company names to look accounts up by (when there is no mirror)."""
    domains: set[str] = set()
    names: set[str] = set()
    for lead in leads:
        facts = lead_facts(lead)
        if facts.email_domain and not facts.email_is_public:
            domains.add(facts.email_domain)
        if facts.website_domain:
            domains.add(facts.website_domain)
        company = lead.fields.get("Company")
        if isinstance(company, str) and company.strip():
            names.add(company.strip()[:255])
    return domains, names


def prefetch_emails(
    gateway: SalesforceGateway,
    directory: Directory,
    config: RoutingConfig,
    leads: Sequence[Lead],
    caches: Caches,
) -> None:
    """Look up the known e-mails of a whole intake page at once (the gateway runs the
    chunked queries side by side; for intake pages, on the read-ahead thread), so
    :func:`build_context` finds them cached instead of waiting for its own query."""
    matching = config.account_matching
    if not (matching.enabled and matching.by_known_email and leads):
        return
    emails = _emails(leads)
    if emails:
        caches.emails.fetch(gateway, emails, directory.active())


def build_context(
    *,
    gateway: SalesforceGateway,
    directory: Directory,
    config: RoutingConfig,
    leads: Sequence[Lead],
    caches: Caches,
) -> RoutingContext:
    """The :class:`RoutingContext` for ``leads`` (bulk queries only)."""
    users = directory.users(config.reps)
    active = directory.active()
    open_leads = caches.open_leads
    open_leads.load(gateway, [u.id for u in users.values() if u is not None])
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
    found: tuple[Account, ...] = ()
    index: object | None = None
    known: dict[str, list[KnownEmail]] = defaultdict(list)
    if matching.enabled and leads:
        mirrored = caches.mirror.current(gateway)
        if mirrored is not None:
            found, index = mirrored
        else:
            domains, names = _lookup_keys(leads)
            if not (matching.by_email_domain or matching.by_website):
                domains = set()
            if not matching.by_name:
                names = set()
            found = tuple(caches.accounts.fetch(gateway, domains, names, active))
        emails = _emails(leads) if matching.by_known_email else set()
        if emails:
            known.update(caches.emails.fetch(gateway, emails, active))
    return RoutingContext(
        accounts=found, known_emails=dict(known), reps=reps, users_active=active,
        account_index=index,
    )  # fmt: skip
