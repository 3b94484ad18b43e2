"""The org as one object: state, rules, API-usage accounting, query cursors, faults."""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from devkit.sandbox.dml import Txn, system_now
from devkit.sandbox.faults import FaultInjector
from devkit.sandbox.latency import LatencyProfile
from devkit.sandbox.soql.engine import Result
from devkit.sandbox.store import OrgStore, Row
from worker.sfdc.ids import make_id

DEFAULT_DAILY_LIMIT = 100_000  # an Enterprise org's base daily allocation
# "API Query Cursor Limits" (limits cheat sheet): a cursor and its results are available
# for 2 days after the query ran, and there is no limit on open cursors; the change came
# with API 56.0 and applies to every API version. (Before: 10 per user, 15 idle minutes.)
CURSOR_LIFETIME_S = 2 * 86_400
# Not a Salesforce rule: the sandbox holds every open cursor's rows in memory, so past
# this many rows across cursors the oldest cursors go first (a query answered after
# that fails with INVALID_QUERY_LOCATOR, as an expired one would).
MAX_CURSOR_ROWS = 5_000_000


@dataclass
class Cursor:
    result: Result
    batch: int
    opened: float  # monotonic time of the query


class Org:
    def __init__(self, store: OrgStore, *, clock: Callable[[], datetime] = system_now) -> None:
        self.store = store
        self.clock = clock
        self.faults = FaultInjector()
        self._cursors: OrderedDict[str, Cursor] = OrderedDict()  # oldest first
        self._cursor_lock = threading.Lock()
        self._cursor_rows = 0
        self.instance_url: str | None = None  # set by the server that serves the org
        self.latency = LatencyProfile.none()
        if "org_id" not in store.meta:
            store.set_meta("org_id", make_id("Organization", 1))

    @classmethod
    def open(cls, path: Path, *, clock: Callable[[], datetime] = system_now) -> Org:
        return cls(OrgStore(path), clock=clock)

    # --- well-known records --------------------------------------------------------------
    @property
    def org_id(self) -> str:
        return str(self.store.meta["org_id"])

    @property
    def integration_user_id(self) -> str | None:
        return self.store.meta.get("integration_user_id")

    @property
    def intake_queue_id(self) -> str | None:
        return self.store.meta.get("intake_queue_id")

    @property
    def assignment_target(self) -> str | None:
        """Owner the sandbox assignment rule gives leads, or None when the rule is off."""
        return self.store.meta.get("assignment_rule_owner")

    def user_ids_by_email(self) -> dict[str, str]:
        return {str(r["Email"]).lower(): r["Id"] for r in self.store.rows("User")}

    @contextmanager
    def txn(self, actor: str | None = None, *, commit: bool = True) -> Iterator[Txn]:
        """Hold the state lock; commit staged rows when the block ends without error."""
        with self.store.lock:
            txn = Txn(self.store, self.clock(), actor or self.integration_user_id)
            yield txn
            if commit:
                txn.commit()

    # --- API usage (daily allocation) ----------------------------------------------------
    @property
    def daily_limit(self) -> int:
        return int(self.store.meta.get("api_limit", DEFAULT_DAILY_LIMIT))

    def api_used(self) -> int:
        usage = self.store.meta.get("api_usage", {})
        # Salesforce counts over a rolling 24 hours; a UTC calendar day is close enough here.
        return int(usage.get("used", 0)) if usage.get("day") == self._day() else 0

    def count_call(self) -> bool:
        """Count one API call; False (and not counted) when the allocation is spent."""
        with self.store.lock:
            used = self.api_used()
            if used >= self.daily_limit:
                return False
            self.store.set_meta("api_usage", {"day": self._day(), "used": used + 1})
            return True

    def set_usage(self, used: int = 0, limit: int | None = None) -> None:
        with self.store.lock:
            if limit is not None:
                self.store.set_meta("api_limit", int(limit))
            self.store.set_meta("api_usage", {"day": self._day(), "used": int(used)})

    def limit_header(self) -> str:
        return f"api-usage={self.api_used()}/{self.daily_limit}"

    def _day(self) -> str:
        return self.clock().date().isoformat()

    # --- query cursors -------------------------------------------------------------------
    def open_cursor(self, result: Result, batch: int) -> str:
        now = time.monotonic()
        with self._cursor_lock:
            self._expire_cursors(now)
            token = "01g" + secrets.token_hex(6).upper()[:12]
            locator = make_locator(token)
            self._cursors[locator] = Cursor(result, batch, now)
            self._cursor_rows += len(result.rows)
            while self._cursor_rows > MAX_CURSOR_ROWS and len(self._cursors) > 1:
                self._drop_oldest_cursor()
            return locator

    def cursor(self, locator: str) -> Cursor | None:
        """The open cursor, or None once it is unknown or 2 days old (reading a page
        does not extend its life)."""
        now = time.monotonic()
        with self._cursor_lock:
            self._expire_cursors(now)
            return self._cursors.get(locator)

    def _expire_cursors(self, now: float) -> None:
        while self._cursors:
            oldest = next(iter(self._cursors.values()))
            if now - oldest.opened < CURSOR_LIFETIME_S:
                return
            self._drop_oldest_cursor()

    def _drop_oldest_cursor(self) -> None:
        _, cursor = self._cursors.popitem(last=False)
        self._cursor_rows -= len(cursor.result.rows)

    def row(self, record_id: str) -> Row | None:
        return self.store.get_row(record_id)


def make_locator(token: str) -> str:
    """An 18-character locator id shaped like Salesforce's (``01g...``)."""
    from worker.sfdc.ids import to18

    return to18((token + "000000000000000")[:15])
