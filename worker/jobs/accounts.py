"""A local mirror of the org's accounts, for account matching.

Fuzzy company-name matching needs the candidate accounts in memory, and looking them up
per batch costs one or two queries per 200 leads (leading-wildcard ``Website LIKE`` is
also slow in a large org). So when the org has at most ``max_accounts`` accounts, the
worker keeps them all: one paged load (2,000 per call), then every ``delta_every`` seconds
only the accounts changed since (``SystemModstamp``), and a full reload every
``full_every`` seconds (deleted accounts, owners deactivated). The matching index is
built once per version of the mirror, not per batch. Larger orgs fall back to per-batch
candidate queries (:class:`worker.jobs.context.AccountCache`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from worker.routing.matching import AccountIndex
from worker.routing.model import Account
from worker.sfdc.gateway import SalesforceGateway

log = logging.getLogger("leadrouter.accounts")


class AccountMirror:
    def __init__(
        self,
        *,
        max_accounts: int = 200_000,
        full_every: float = 3_600.0,
        delta_every: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_accounts, self.full_every, self.delta_every = max_accounts, full_every, delta_every
        self.clock = clock
        self.accounts: dict[str, Account] = {}
        self.index: AccountIndex | None = None
        self.enabled: bool | None = None  # None: not decided yet
        self._full_at = self._delta_at = float("-inf")
        self._since: datetime | None = None

    def current(
        self, gateway: SalesforceGateway
    ) -> tuple[tuple[Account, ...], AccountIndex] | None:
        """(accounts, index), refreshed as due; None when the org is too big to mirror."""
        now = self.clock()
        if self.enabled is None or now - self._full_at >= self.full_every:
            self._full(gateway, now)
        elif self.enabled and now - self._delta_at >= self.delta_every:
            self._delta(gateway, now)
        if not self.enabled or self.index is None:
            return None
        return tuple(self.index.by_id.values()), self.index

    def _full(self, gateway: SalesforceGateway, now: float) -> None:
        count = gateway.count_accounts()
        self.enabled = count <= self.max_accounts
        self._full_at = self._delta_at = now
        if not self.enabled:
            log.info("%d accounts: too many to mirror, matching per batch", count)
            self.accounts, self.index = {}, None
            return
        started = datetime.now(UTC)
        self.accounts = {a.id: a for a in gateway.all_accounts(None)}
        self._since = started.replace(microsecond=0)
        self.index = AccountIndex.build(list(self.accounts.values()))
        log.info("account mirror loaded: %d accounts", len(self.accounts))

    def _delta(self, gateway: SalesforceGateway, now: float) -> None:
        started = datetime.now(UTC).replace(microsecond=0)
        changed = gateway.all_accounts(self._since)
        self._delta_at, self._since = now, started
        if changed:
            self.accounts.update((a.id, a) for a in changed)
            self.index = AccountIndex.build(list(self.accounts.values()))
