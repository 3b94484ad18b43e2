"""Availability of a rep at an instant, evaluated in the REP's IANA time zone (never the
server's): manual toggle, out-of-office ranges, public holidays and working hours.

A rep switched off, out of office or on a public holiday (an absence like out of office)
is *away* during its working hours, which earns catch-up in pools that pay it back;
outside its working hours it is merely off, as every night.

Working hours are blocks of local wall-clock time per weekday, so a 09:00-17:00 rep in
Berlin is available 08:00-16:00 UTC in winter and 07:00-15:00 UTC in summer; DST is
handled by ``zoneinfo``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
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
    # absent (switched off, out of office, public holiday) during its working hours: the
    # reasons that earn catch-up; Salesforce status is checked by the pool (in_hours)
    away: bool
    in_hours: bool  # within its working hours (always, when it has none)


def in_blocks(blocks: tuple[TimeBlock, ...], minute: int) -> bool:
    return any(b.start <= minute < b.end for b in blocks)


def _fmt_day(d: object) -> str:
    return f"{d.day} {d.strftime('%b')}"  # type: ignore[attr-defined]


def rep_clock(rep: Rep, now: datetime) -> RepClock:
    """Evaluate ``rep``'s availability at ``now`` (an aware datetime)."""
    local = now.astimezone(zone(rep.timezone))
    day = local.date()
    keys = (day.isoformat(), local.strftime("%Y-%m-%dT%H"))
    hours = rep.working_hours
    in_hours = hours is None or in_blocks(hours[local.weekday()], local.hour * 60 + local.minute)
    absent = _absence(rep, day)
    if absent:
        # an absence earns catch-up only for the hours the rep would have worked
        return RepClock(local, *keys, absent, in_hours, in_hours)
    if not in_hours:
        when = f"{_DAYS[local.weekday()]} {local:%H:%M} {rep.timezone}"
        # off-hours are the rep's normal schedule, not an absence: no catch-up debt
        return RepClock(local, *keys, f"outside working hours ({when})", False, False)
    return RepClock(local, *keys, None, False, True)


def _absence(rep: Rep, day: date) -> str | None:
    """Why the rep is away on ``day`` (switched off, out of office, public holiday)."""
    if not rep.enabled:
        return f"turned off ({rep.disabled_reason})" if rep.disabled_reason else "turned off"
    for r in rep.out_of_office:
        if r.start <= day <= r.end:
            return f"out of office until {_fmt_day(r.end)}"
    if rep.holidays:
        name = _libs.holiday_name(rep.holidays, day)
        if name:
            return f"public holiday ({name}, {rep.holidays})"
    return None
