"""The org's event bus: Lead change events captured from the store's writes, kept for
replay, and the rolling delivery allocation the subscribers share.

Salesforce behaviour emulated (Change Data Capture and Pub/Sub API guides):

- one ``LeadChangeEvent`` per lead created, updated, deleted or undeleted, published when
  the transaction commits, in commit order; the events of one transaction share a
  ``transactionKey`` and count ``sequenceNumber`` from 1; an update that changes no
  field of the event (only ``SystemModstamp``) publishes nothing;
- events are kept 72 hours ("Event Message Durability"), measured on the org's clock;
- replay ids are opaque bytes; one that the bus did not issue, or whose successors are no
  longer all retained, is refused;
- deliveries count against a rolling 24-hour allocation shared by every subscriber
  ("Change Data Capture Allocations"; the example there is 50,000 a day).

Sandbox-only choices, not Salesforce's: the log is held in memory (a restarted sandbox
starts a new stream, and replay ids from before are refused, as after an org migration),
capped at ``max_events``; each transaction's events are not merged into one event with
several ``recordIds``.
"""

from __future__ import annotations

import io
import json
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import fastavro

from devkit.sandbox.org import Org
from devkit.sandbox.pubsub.origin import current_origin, current_user
from devkit.sandbox.pubsub.schema import (
    ChangeEventSchema,
    avro_value,
    bitmap,
    change_event_schema,
)
from devkit.sandbox.schema import LEAD
from devkit.sandbox.store import Change, Row
from worker.sfdc.ids import KEY_PREFIXES

RETENTION = timedelta(hours=72)
ALLOCATION_WINDOW = timedelta(hours=24)
DEFAULT_DELIVERY_LIMIT = 50_000
MAX_EVENTS = 200_000
_REPLAY = struct.Struct(">QQ")  # (stream epoch, position): opaque to clients


class ReplayIdError(ValueError):
    """A replay id the bus cannot resume after (never issued, or past retention)."""


@dataclass(frozen=True)
class StoredEvent:
    position: int
    replay_id: bytes
    event_id: str
    schema_id: str
    payload: bytes
    committed: datetime  # the org's clock, for retention
    visible_at: float  # time.monotonic(): not delivered before (the delivery latency)


class EventBus:
    def __init__(
        self,
        org: Org,
        *,
        delivery_delay: Callable[[], float] = lambda: 0.0,
        delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
        max_events: int = MAX_EVENTS,
    ) -> None:
        self.org = org
        self.schema: ChangeEventSchema = change_event_schema(LEAD)
        self.delivery_delay = delivery_delay  # seconds from commit to deliverable, per event
        self.delivery_limit = delivery_limit
        self._parsed = fastavro.parse_schema(json.loads(self.schema.schema_json))
        self._positions = {slot.name: i + 1 for i, slot in enumerate(self.schema.slots)}
        self._epoch = int.from_bytes(uuid.uuid4().bytes[:8], "big")
        self._events: deque[StoredEvent] = deque()
        self._max_events = max_events
        self._last = 0  # position of the newest event ever published (0: none yet)
        self._commits = 0
        self._deliveries: deque[tuple[datetime, int]] = deque()
        self.changed = threading.Condition()  # notified on every publish

    # --- capture -------------------------------------------------------------------------
    def attach(self) -> None:
        self.org.store.add_listener(self.capture)

    def detach(self) -> None:
        self.org.store.remove_listener(self.capture)

    def capture(self, changes: list[Change]) -> None:
        """The store's listener: one saved transaction's (before, after) rows."""
        leads = [(b, a) for b, a in changes if a["Id"].startswith(KEY_PREFIXES["Lead"])]
        if not leads:
            return
        self._commits += 1
        header = {
            "entityName": "Lead",
            "changeOrigin": current_origin(),
            "transactionKey": str(uuid.uuid4()),
            "commitNumber": 10_000_000_000 + self._commits,
            "commitTimestamp": _epoch_ms(self.org.clock()),
        }
        if self.org.faults.hit("cdc_overflow"):
            events = [self._overflow(header)]
        else:
            events = [e for b, a in leads if (e := self._event(header, b, a)) is not None]
        for number, body in enumerate(events, start=1):
            body["ChangeEventHeader"]["sequenceNumber"] = number
        self.publish(events)

    def _event(self, header: dict[str, Any], before: Row | None, after: Row) -> Row | None:
        kind = _change_type(before, after)
        user = current_user() or after.get("LastModifiedById") or ""
        head = header | {"recordIds": [after["Id"]], "changeType": kind, "commitUser": user}
        head |= {"changedFields": [], "nulledFields": [], "diffFields": []}
        if kind == "UPDATE":
            assert before is not None
            body, changed, nulled = self._update_body(before, after)
            if not changed and not nulled:
                return None
            head |= {"changedFields": changed, "nulledFields": nulled}
        elif kind in ("CREATE", "UNDELETE"):
            body = self._full_body(after)
        else:
            body = {}
        if self.org.faults.hit("cdc_gap"):
            head |= {"changeType": f"GAP_{kind}", "changedFields": [], "nulledFields": []}
            body = {}  # a gap event carries the header only: the client re-reads the record
        return {"ChangeEventHeader": head} | body

    def _overflow(self, header: dict[str, Any]) -> Row:
        """One transaction changed too many records to describe: resync the entity."""
        return {
            "ChangeEventHeader": header | {
                "recordIds": [KEY_PREFIXES["Lead"] + "*"], "changeType": "GAP_OVERFLOW",
                "commitUser": current_user() or "", "changedFields": [], "nulledFields": [],
                "diffFields": [],
            }
        }  # fmt: skip

    def _full_body(self, row: Row) -> Row:
        body: Row = {}
        for slot in self.schema.slots:
            values = {p: avro_value(self.schema.types[p], row.get(p)) for p in slot.parts}
            if slot.parts == (slot.name,):
                body[slot.name] = values[slot.name]
            elif any(v is not None for v in values.values()):
                body[slot.name] = values
        return body

    def _update_body(self, before: Row, after: Row) -> tuple[Row, list[str], list[str]]:
        """Changed fields carry their new value, the rest are null; the bitmaps name the
        changed and the nulled fields (a compound field's parts as ``<pos>-0x..``)."""
        body: Row = {}
        changed: set[int] = set()
        nulled: set[int] = set()
        nested_changed: list[str] = []
        nested_nulled: list[str] = []
        # an update always sets LastModifiedDate (Salesforce lists it in every update's
        # changedFields), even within the second the value was already at
        stamped = after.get("LastModifiedDate") == after.get("SystemModstamp") is not None
        for slot in self.schema.slots:
            position = self._positions[slot.name]
            moved = [
                p for p in slot.parts
                if before.get(p) != after.get(p) or (stamped and p == "LastModifiedDate")
            ]  # fmt: skip
            if not moved:
                continue
            values = {p: avro_value(self.schema.types[p], after.get(p)) for p in moved}
            if slot.parts == (slot.name,):
                body[slot.name] = values[slot.name]
                changed.add(position)
                if values[slot.name] is None:
                    nulled.add(position)
                continue
            body[slot.name] = {p: values.get(p) for p in slot.parts}
            child = {p: i for i, p in enumerate(slot.parts)}
            nested_changed.append(f"{position}-{bitmap({child[p] for p in moved})}")
            gone = {child[p] for p in moved if values[p] is None}
            if gone:
                nested_nulled.append(f"{position}-{bitmap(gone)}")
        return (
            body,
            ([bitmap(changed)] if changed else []) + nested_changed,
            ([bitmap(nulled)] if nulled else []) + nested_nulled,
        )

    # --- the log -------------------------------------------------------------------------
    def publish(self, bodies: list[Row]) -> None:
        """Append encoded events (an event's header and fields; absent fields are null)."""
        now = self.org.clock()
        with self.changed:
            for body in bodies:
                self._last += 1
                buffer = io.BytesIO()
                fastavro.schemaless_writer(buffer, self._parsed, body)
                visible = time.monotonic() + max(0.0, float(self.delivery_delay()))
                if self._events:  # a later event is never deliverable before an earlier one
                    visible = max(visible, self._events[-1].visible_at)
                self._events.append(
                    StoredEvent(
                        self._last, self.replay_id(self._last), str(uuid.uuid4()),
                        self.schema.schema_id, buffer.getvalue(), now, visible,
                    )
                )  # fmt: skip
            self._prune(now)
            self.changed.notify_all()

    def replay_id(self, position: int) -> bytes:
        return _REPLAY.pack(self._epoch, position)

    def start_after(self, preset: str, replay_id: bytes = b"") -> int:
        """The position a new subscription starts after."""
        with self.changed:
            self._prune(self.org.clock())
            first = self._events[0].position if self._events else self._last + 1
            if preset == "LATEST":
                return self._last
            if preset == "EARLIEST":
                return first - 1
            if len(replay_id) != _REPLAY.size:
                raise ReplayIdError("replay id is not one this org issued")
            epoch, position = _REPLAY.unpack(replay_id)
            if epoch != self._epoch or position > self._last:
                raise ReplayIdError("replay id is not one this org issued")
            if position < first - 1:
                raise ReplayIdError("replay id is outside the retention window")
            return int(position)

    def after(self, position: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` deliverable events after ``position``, oldest first."""
        now = time.monotonic()
        with self.changed:
            out: list[StoredEvent] = []
            index = self._index_after(position)
            while index < len(self._events) and len(out) < limit:
                event = self._events[index]
                if event.visible_at > now:
                    break
                out.append(event)
                index += 1
            return out

    def next_visible_in(self, position: int) -> float | None:
        """Seconds until the next event after ``position`` is deliverable (None: none)."""
        with self.changed:
            index = self._index_after(position)
            if index >= len(self._events):
                return None
            return max(0.0, self._events[index].visible_at - time.monotonic())

    def _index_after(self, position: int) -> int:
        """Where the first event after ``position`` is in the log (positions are
        consecutive, so no search: a deque reaches any index in a few steps)."""
        if not self._events:
            return 0
        return max(0, position + 1 - self._events[0].position)

    def _prune(self, now: datetime) -> None:
        while self._events and (
            self._events[0].committed < now - RETENTION or len(self._events) > self._max_events
        ):
            self._events.popleft()

    def __len__(self) -> int:
        with self.changed:
            return len(self._events)

    # --- the delivery allocation ---------------------------------------------------------
    def allowance(self, wanted: int) -> int:
        """Take up to ``wanted`` deliveries from the rolling 24-hour allocation; how many."""
        now = self.org.clock()
        with self.changed:
            while self._deliveries and self._deliveries[0][0] <= now - ALLOCATION_WINDOW:
                self._deliveries.popleft()
            used = sum(count for _, count in self._deliveries)
            granted = max(0, min(wanted, self.delivery_limit - used))
            if granted:
                self._deliveries.append((now, granted))
            return granted

    def deliveries(self) -> int:
        """Deliveries counted in the current 24-hour window."""
        now = self.org.clock()
        with self.changed:
            return sum(c for at, c in self._deliveries if at > now - ALLOCATION_WINDOW)


def _change_type(before: Row | None, after: Row) -> str:
    if before is None:
        return "CREATE"
    if after.get("IsDeleted") and not before.get("IsDeleted"):
        return "DELETE"
    if before.get("IsDeleted") and not after.get("IsDeleted"):
        return "UNDELETE"
    return "UPDATE"


def _epoch_ms(moment: datetime) -> int:
    return int(avro_value("datetime", moment))
