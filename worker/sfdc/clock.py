"""Salesforce's clock as seen from here: a lower bound, from the ``Date`` of its answers.

A conditional owner write (``If-Unmodified-Since``) compares whole seconds, so it cannot
see a change made after our owner re-read in the same second as the lead's previous
change. Whether a re-read was in a later second than that change is a question about
Salesforce's clock, not ours, and the only reading of it every answer carries is its
``Date`` header: whole seconds, stamped while the answer was made.

One answer says little (its second, give or take a round trip); many say more. With
``offset = Salesforce's time - our monotonic time``, an answer stamped ``D`` and
received at ``r`` on our clock proves ``offset >= D - r``: Salesforce's clock read at
least ``D`` when it stamped the answer, and it stamped it before we received it. The
best of those bounds, over answers at every phase of the second, comes within a round
trip of the truth. :meth:`ServerClock.lower` turns it into "Salesforce's clock had
certainly reached this" for any moment on ours; between the two clocks' rates a drift of
up to ``drift`` (100 ppm, several times what NTP-disciplined clocks show) is allowed for.

A bound from below is the safe side for every use made of it: a request sent at
``t`` is served at ``lower(t)`` or later, so a re-read whose ``lower`` is past a lead's
last-change second was certainly made in a later second; and waiting until ``lower``
passes a second waits at least as long as needed, never less.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

DRIFT = 1e-4  # seconds per second the two clocks' rates may differ


class ServerClock:
    """The best lower bound on Salesforce's clock the answers so far prove (thread-safe)."""

    def __init__(self, drift: float = DRIFT) -> None:
        self._drift = drift
        self._offset: float | None = None  # Salesforce's epoch seconds - our monotonic
        self._at = 0.0  # our monotonic time of the answer that gave it
        self._last = ""  # the last Date header seen (an equal one cannot do better)
        self._lock = threading.Lock()

    def observe(self, date_header: str | None, received: float) -> None:
        """An answer stamped ``date_header`` arrived at ``received`` (our monotonic
        clock). Unreadable or missing headers are ignored."""
        if not date_header or date_header == self._last:
            return  # the same stamp received later proves less than when first seen
        stamped = _http_date(date_header)
        if stamped is None:
            return
        bound = stamped.timestamp() - received
        with self._lock:
            self._last = date_header
            if self._offset is None or bound > self._offset_at(received):
                self._offset, self._at = bound, received

    def lower(self, at: float) -> datetime | None:
        """A time Salesforce's clock had certainly reached when ours read ``at``
        (monotonic); None before any answer with a readable ``Date``."""
        with self._lock:
            if self._offset is None:
                return None
            return datetime.fromtimestamp(at + self._offset_at(at), UTC)

    def _offset_at(self, at: float) -> float:
        assert self._offset is not None
        return self._offset - self._drift * abs(at - self._at)


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
