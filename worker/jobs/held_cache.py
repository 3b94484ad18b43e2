"""Snapshots of held leads, kept between cycles so retrying them costs no API call.

Each snapshot is the :class:`LeadRow` as last read, pickled and zlib-compressed (a lead's
~30 fields take ~0.5 kB this way instead of ~3 kB of live dicts and strings), and there
are at most ``max_rows`` of them: a backlog bigger than that (every rep capped for hours)
is re-read from Salesforce when retried instead of growing the worker's memory. Only our
own objects are pickled, in memory, never read from outside the process.
"""

from __future__ import annotations

import pickle
import zlib

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
        self._rows[row.id] = zlib.compress(pickle.dumps(row, pickle.HIGHEST_PROTOCOL), 1)
        return True

    def get(self, lead_id: str) -> LeadRow | None:
        blob = self._rows.get(lead_id)
        if blob is None:
            return None
        row: LeadRow = pickle.loads(zlib.decompress(blob))  # noqa: S301 - our own bytes
        return row

    def pop(self, lead_id: str) -> None:
        self._rows.pop(lead_id, None)

    def clear(self) -> None:
        self._rows.clear()
