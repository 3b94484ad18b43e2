"""SLA: when an assigned lead must have been touched, and what happens when it was not.

``sla_due_at`` adds the policy's minutes to the assignment time, either as wall-clock
minutes or (``working_hours_only``) counting only minutes inside the owner's working
blocks, in the owner's time zone; out-of-office days and holidays do not count either. A
rep without working hours is treated as always working.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Literal

from worker.routing import _libs
from worker.routing.availability import zone
from worker.routing.model import Rep, SlaPolicy, Target

_MAX_DAYS = 366  # a rep with no working minutes at all: give up after a year


def _day_blocks(rep: Rep, day_start: datetime) -> list[tuple[int, int]]:
    day = day_start.date()
    if any(r.start <= day <= r.end for r in rep.out_of_office):
        return []
    if rep.holidays and _libs.holiday_name(rep.holidays, day):
        return []
    assert rep.working_hours is not None
    return [(b.start, b.end) for b in rep.working_hours[day.weekday()]]


def sla_due_at(
    assigned_at: datetime, policy: SlaPolicy, rep: Rep | None = None, now: datetime | None = None
) -> datetime:
    """When the lead breaches its SLA (an aware UTC datetime).

    ``now`` is accepted for symmetry with the other helpers and ignored: the due time
    depends only on the assignment time and the owner's calendar.
    """
    del now
    minutes = float(policy.minutes)
    if not policy.working_hours_only or rep is None or rep.working_hours is None:
        return assigned_at + timedelta(minutes=minutes)
    tz = zone(rep.timezone)
    local = assigned_at.astimezone(tz)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = (local - day_start).total_seconds() / 60
    for _ in range(_MAX_DAYS):
        for start, end in _day_blocks(rep, day_start):
            begin = max(float(start), offset)
            if begin >= end:
                continue
            if minutes <= end - begin:
                wall = day_start.replace(tzinfo=None) + timedelta(minutes=begin + minutes)
                return wall.replace(tzinfo=tz).astimezone(assigned_at.tzinfo)
            minutes -= end - begin
        day_start = (day_start.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=tz)
        offset = 0.0
    return assigned_at + timedelta(days=_MAX_DAYS)


def is_touched(
    status: str | None,
    policy: SlaPolicy,
    *,
    owner_changed: bool = False,
    activity_since_assignment: bool = False,
) -> bool:
    """True when the rep worked the lead: its status left the untouched statuses, an
    activity was logged, or someone else took ownership."""
    if owner_changed or activity_since_assignment:
        return True
    return (status or "") not in policy.untouched_statuses


def sla_next_step(policy: SlaPolicy, hops: int) -> Literal["reassign", "escalate"]:
    """After a breach: re-assign within the pool while ``hops < max_hops``, then escalate."""
    return "reassign" if hops < policy.max_hops else "escalate"


def escalation_target(policy: SlaPolicy) -> Target:
    """Where to escalate; "hold" (stay with the current owner) when none is configured."""
    return policy.escalate_to or Target("hold")


def previous_owners(history: Collection[str], current: str | None) -> frozenset[str]:
    """``exclude_reps`` for a re-assignment: everyone who already had the lead."""
    return frozenset(history) | ({current} if current else frozenset())
