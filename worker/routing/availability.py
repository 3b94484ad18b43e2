"""Availability of a rep at an instant, evaluated in the REP's IANA time zone (never the
server's): manual toggle, out-of-office ranges, public holidays and working hours.

Working hours are blocks of local wall-clock time per weekday, so a 09:00-17:00 rep in
Berlin is available 08:00-16:00 UTC in winter and 07:00-15:00 UTC in summer; DST is
handled by ``zoneinfo``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from worker.routing import _libs
from worker.routing.model import Rep, TimeBlock

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True, slots=True)
class RepClock:
    """A rep's local view of ``now``: bucket keys for caps and why they are unavailable."""

    local: datetime
    day_key: str
    hour_key: str
    unavailable: str | None  # plain-language reason, None when available
    away: bool  # unavailable for a reason that earns catch-up (out of office, holiday)


def in_blocks(blocks: tuple[TimeBlock, ...], minute: int) -> bool:
    return any(b.start <= minute < b.end for b in blocks)


def _fmt_day(d: object) -> str:
    return f"{d.day} {d.strftime('%b')}"  # type: ignore[attr-defined]


def rep_clock(rep: Rep, now: datetime) -> RepClock:
    """Evaluate ``rep``'s availability at ``now`` (an aware datetime)."""
    local = now.astimezone(zone(rep.timezone))
    day = local.date()
    keys = (day.isoformat(), local.strftime("%Y-%m-%dT%H"))
    if not rep.enabled:
        why = f"turned off ({rep.disabled_reason})" if rep.disabled_reason else "turned off"
        return RepClock(local, *keys, why, False)
    for r in rep.out_of_office:
        if r.start <= day <= r.end:
            return RepClock(local, *keys, f"out of office until {_fmt_day(r.end)}", True)
    if rep.holidays:
        name = _libs.holiday_name(rep.holidays, day)
        if name:
            return RepClock(local, *keys, f"public holiday ({name}, {rep.holidays})", True)
    if rep.working_hours is not None:
        minute = local.hour * 60 + local.minute
        if not in_blocks(rep.working_hours[local.weekday()], minute):
            when = f"{_DAYS[local.weekday()]} {local:%H:%M} {rep.timezone}"
            # off-hours are the rep's normal schedule, not an absence: no catch-up debt
            return RepClock(local, *keys, f"outside working hours ({when})", False)
    return RepClock(local, *keys, None, False)
