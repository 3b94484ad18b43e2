"""Caps: per rep overall and per rep per pool, per local hour and local day, and on open
load (open leads owned, as fetched by the worker plus those assigned in this batch)."""

from __future__ import annotations

from worker.routing.model import Caps
from worker.routing.state import Counter


def cap_reason(caps: Caps, counter: Counter | None, day: str, hour: str, scope: str) -> str | None:
    """Why the hour/day caps block one more lead (e.g. ``daily cap 10/10``), or None."""
    if caps.per_hour is None and caps.per_day is None:
        return None
    c = counter or Counter()
    if caps.per_day is not None and c.today(day) >= caps.per_day:
        return f"{scope}daily cap {c.today(day)}/{caps.per_day}"
    if caps.per_hour is not None and c.this_hour(hour) >= caps.per_hour:
        return f"{scope}hourly cap {c.this_hour(hour)}/{caps.per_hour}"
    return None


def open_load_reason(caps: Caps, open_leads: int) -> str | None:
    if caps.max_open is not None and open_leads >= caps.max_open:
        return f"open-lead cap {open_leads}/{caps.max_open}"
    return None
