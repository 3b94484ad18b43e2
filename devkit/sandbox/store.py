"""The org's state: rows held in memory (for fast SOQL) and written through to SQLite.

Rows are never mutated in place: an update stores a new dict. A query result can keep
references to the rows it matched and page through them later as a consistent snapshot.
Only one process may serve a state file at a time (the server holds it open); other
processes drive the org through the admin endpoint.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from devkit.sandbox.schema import SOBJECTS
from worker.files import private_file
from worker.sfdc.ids import make_id, object_of

Row = dict[str, Any]
# (before, after) per row of one save: before is None for a new row
Change = tuple[Row | None, Row]
ChangeListener = Callable[[list[Change]], None]
log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, sobject TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS records_sobject ON records (sobject);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


class OrgStore:
    """Thread-safe: every public method takes :attr:`lock` (re-entrant)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        private_file(path)  # owner-only, like every state file (see worker.files)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self.by_id: dict[str, Row] = {}
        self.by_object: dict[str, dict[str, Row]] = {name: {} for name in SOBJECTS}
        self.meta: dict[str, Any] = {}
        self._deferral = threading.local()  # per thread: Ids saved but not yet written
        self._listeners: list[ChangeListener] = []
        self._load()

    def _load(self) -> None:
        decoders = {name: _decoders(name) for name in SOBJECTS}
        for sobject, data in self._db.execute("SELECT sobject, data FROM records"):
            row = json.loads(data)
            for field, decode in decoders[sobject]:
                if row.get(field) is not None:
                    row[field] = decode(row[field])
            self.by_id[row["Id"]] = row
            self.by_object[sobject][row["Id"]] = row
        for key, value in self._db.execute("SELECT key, value FROM meta"):
            self.meta[key] = json.loads(value)

    # --- reads -----------------------------------------------------------------------
    def rows(self, sobject: str, *, include_deleted: bool = False) -> list[Row]:
        with self.lock:
            values = self.by_object[sobject].values()
            if include_deleted:
                return list(values)
            return [r for r in values if not r.get("IsDeleted")]

    def get_row(self, record_id: str) -> Row | None:
        """A live (not deleted) row by Id, any object."""
        row = self.by_id.get(record_id)
        return None if row is None or row.get("IsDeleted") else row

    def get_any(self, record_id: str) -> Row | None:
        """A row by Id, including deleted ones."""
        return self.by_id.get(record_id)

    # --- writes ----------------------------------------------------------------------
    def next_id(self, sobject: str) -> str:
        with self.lock:
            key = f"seq:{sobject}"
            seq = int(self.meta.get(key, 0)) + 1
            self.meta[key] = seq  # persisted with the next save()
            return make_id(sobject, seq)

    def save(self, rows: list[Row]) -> None:
        """Store new versions of rows (insert or replace), atomically. Inside
        :meth:`deferred` (on this thread) they are visible at once but written to the
        file when the block ends."""
        if not rows:
            return
        with self.lock:
            changes: list[Change] = [(self.by_id.get(row["Id"]), row) for row in rows]
            for row in rows:
                sobject = object_of(row["Id"])
                assert sobject is not None
                self.by_id[row["Id"]] = row
                self.by_object[sobject][row["Id"]] = row
            self._notify(changes)
            later: set[str] | None = getattr(self._deferral, "ids", None)
            if later is not None:
                later.update(row["Id"] for row in rows)
                return
            self._write([row["Id"] for row in rows])

    def add_listener(self, listener: ChangeListener) -> None:
        """Call ``listener`` with the (before, after) rows of every save, in commit order:
        on the saving thread, holding :attr:`lock`, once the rows are visible. One save is
        one transaction (a Txn's commit). A listener must be quick and must not write."""
        with self.lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: ChangeListener) -> None:
        with self.lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _notify(self, changes: list[Change]) -> None:
        for listener in self._listeners:
            try:
                listener(changes)
            except Exception:  # noqa: BLE001 - a listener's bug must not fail the write
                log.exception("store change listener failed")

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Rows saved on this thread inside the block reach the file in ONE transaction
        when it ends (a Composite call's 25 subrequests: one write, not 25). Each row is
        written as it is then, so a later save by another thread is never undone."""
        if getattr(self._deferral, "ids", None) is not None:
            yield  # already deferring: the outer block writes
            return
        ids: set[str] = set()
        self._deferral.ids = ids
        try:
            yield
        finally:
            self._deferral.ids = None
            with self.lock:
                self._write(sorted(ids))

    def _write(self, ids: list[str]) -> None:
        """Write the rows' current versions and the Id sequences (caller holds the lock)."""
        if not ids:
            return
        payload = []
        for rid in ids:
            row = self.by_id[rid]
            payload.append((rid, object_of(rid), json.dumps(row, default=_encode)))
        seqs = [(k, json.dumps(v)) for k, v in self.meta.items() if k.startswith("seq:")]
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?)", payload)
        self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", seqs)
        self._db.execute("COMMIT")

    def purge(self, record_ids: list[str]) -> None:
        """Remove rows for good (a Recycle Bin emptied), atomically."""
        with self.lock:
            for record_id in record_ids:
                row = self.by_id.pop(record_id, None)
                sobject = object_of(record_id)
                if row is not None and sobject is not None:
                    self.by_object[sobject].pop(record_id, None)
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM records WHERE id = ?", [(i,) for i in record_ids])
            self._db.execute("COMMIT")

    def set_meta(self, key: str, value: Any) -> None:
        with self.lock:
            self.meta[key] = value
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def close(self) -> None:
        with self.lock:
            self._db.close()


def _decoders(sobject: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for f in SOBJECTS[sobject].fields:
        if f.type == "datetime":
            out.append((f.name, datetime.fromisoformat))
        elif f.type == "date":
            out.append((f.name, date.fromisoformat))
    return out
