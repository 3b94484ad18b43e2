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
from devkit.sandbox.soql.engine import Result
from devkit.sandbox.store import OrgStore, Row
from worker.sfdc.ids import make_id

DEFAULT_DAILY_LIMIT = 100_000  # an Enterprise org's base daily allocation
MAX_CURSORS = 200
CURSOR_IDLE_S = 15 * 60  # Salesforce: a query locator is kept 15 minutes after last use


@dataclass
class Cursor:
    result: Result
    batch: int
    used: float


class Org:
    def __init__(self, store: OrgStore, *, clock: Callable[[], datetime] = system_now) -> None:
        self.store = store
        self.clock = clock
        self.faults = FaultInjector()
        self._cursors: OrderedDict[str, Cursor] = OrderedDict()
        self._cursor_lock = threading.Lock()
        self._cursor_seq = 0
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
        with self._cursor_lock:
            self._cursor_seq += 1
            token = "01g" + secrets.token_hex(6).upper()[:12]
            locator = make_locator(token)
            self._cursors[locator] = Cursor(result, batch, time.monotonic())
            while len(self._cursors) > MAX_CURSORS:
                self._cursors.popitem(last=False)
            return locator

    def cursor(self, locator: str) -> Cursor | None:
        now = time.monotonic()
        with self._cursor_lock:
            cursor = self._cursors.get(locator)
            if cursor is None or now - cursor.used > CURSOR_IDLE_S:
                self._cursors.pop(locator, None)
                return None
            cursor.used = now
            self._cursors.move_to_end(locator)
            return cursor

    def row(self, record_id: str) -> Row | None:
        return self.store.get_row(record_id)


def make_locator(token: str) -> str:
    """An 18-character locator id shaped like Salesforce's (``01g...``)."""
    from worker.sfdc.ids import to18

    return to18((token + "000000000000000")[:15])
