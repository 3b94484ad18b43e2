"""Snapshots of held leads, kept between cycles so retrying them costs no API call.

Each snapshot is the :class:`LeadRow` as last read, as compact JSON (orjson) compressed
by zlib: a lead's ~30 fields take ~0.5 kB this way instead of ~3 kB of live dicts and
strings. JSON, not pickle: a busy page holds 2,000 leads, and pickling their rows cost
~0.1 ms each. A row JSON cannot hold (a value orjson cannot encode) is simply not kept:
it is re-read when retried. There are at most ``max_rows`` snapshots: a backlog bigger than that (every rep
capped for hours) is re-read from Salesforce when retried instead of growing the
worker's memory.
"""

from __future__ import annotations

import zlib
from datetime import date, datetime

import orjson

from worker.routing.model import Lead
from worker.sfdc.mapping import LeadRow


class HeldSnapshots:
    def __init__(self, max_rows: int = 5_000) -> None:
        self.max_rows = max_rows
        self._rows: dict[str, bytes] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, lead_id: object) -> bool:
        return lead_id in self._rows

    def put(self, row: LeadRow) -> bool:
        """Keep (or refresh) ``row``; False when full and ``row`` was not kept."""
        if row.id not in self._rows and len(self._rows) >= self.max_rows:
            return False
        try:
            blob = orjson.dumps(_pack(row))
        except orjson.JSONEncodeError:
            self._rows.pop(row.id, None)  # never hand back an older snapshot
            return False
        self._rows[row.id] = zlib.compress(blob, 1)
        return True

    def get(self, lead_id: str) -> LeadRow | None:
        blob = self._rows.get(lead_id)
        if blob is None:
            return None
        return _unpack(orjson.loads(zlib.decompress(blob)))

    def pop(self, lead_id: str) -> None:
        self._rows.pop(lead_id, None)

    def clear(self) -> None:
        self._rows.clear()


def _pack(row: LeadRow) -> list[object]:
    lead = row.lead
    return [lead.id, dict(lead.fields), lead.created_at, row.owner_id, row.status,
            row.is_converted, row.modstamp, row.last_activity]  # fmt: skip


def _unpack(packed: list[object]) -> LeadRow:
    lead_id, fields, created, owner, status, converted, modstamp, activity = packed
    return LeadRow(
        lead=Lead(id=str(lead_id), fields=fields, created_at=_datetime(created)),  # type: ignore[arg-type]
        owner_id=str(owner),
        status=None if status is None else str(status),
        is_converted=bool(converted),
        modstamp=_datetime(modstamp),
        last_activity=None if activity is None else date.fromisoformat(str(activity)),
    )


def _datetime(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))
