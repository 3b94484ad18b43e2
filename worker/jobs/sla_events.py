"""SLA clocks followed by change events (intake mode ``subscribe``): no API call.

A person's change to a lead with an open clock comes as an ``UPDATE`` event
(:meth:`worker.jobs.subscribe.EventIntake.handle` passes every batch here, before its
replay id is stored):

- ``Status`` changed to a status that is no longer one of the untouched statuses of the
  row's SLA policy: the lead was touched, at the change's commit time (``first_touch_at``
  for speed-to-lead);
- ``OwnerId`` changed to someone other than the row's owner: the lead left its owner,
  and the clock is closed (as the sweep closes it).

Events of our own writes are passed over, and so are changes committed before the
assignment: they tell nothing about the assignee. For a touch, that is a change before the
decision; one committed while our write was on its way counts from the assignment time
(speed-to-lead is never negative). For a close, only a change after our write was
answered (by more than :data:`~worker.jobs.precondition.CLOCK_SKEW`) counts: closing a
clock wrongly would end its SLA, while a close missed here is made by the sweep's read at
the due time. Neither needs an API call. A touch that changes no field of the lead (a Task
logged) has no event: the sweep finds it at the due time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from worker.jobs.deps import Deps
from worker.jobs.precondition import CLOCK_SKEW
from worker.jobs.sla import aware, policy_of
from worker.routing.model import RoutingConfig
from worker.routing.sla import is_touched
from worker.sfdc.pubsub.subscriber import ChangeEvent
from worker.store import journal_repo
from worker.store.db import session_scope
from worker.store.models.journal import JournalRow

log = logging.getLogger("leadrouter.sla")

FOLLOWED = frozenset({"Status", "OwnerId"})
Verdict = Literal["touched", "closed"]


@dataclass(frozen=True)
class LeadChange:
    """A person's change to a lead's ``Status`` or ``OwnerId`` (None: not changed)."""

    lead_id: str
    at: datetime | None  # the commit time (None: the event carries none)
    status: str | None = None
    owner_id: str | None = None


@dataclass
class EventReport:
    touched: int = 0
    closed: int = 0


def lead_changes(events: Sequence[ChangeEvent]) -> list[LeadChange]:
    """The changes of ``Status`` or ``OwnerId`` that ``events`` carry, in order, one per
    record: updates of leads not made by our own writes."""
    out: list[LeadChange] = []
    for event in events:
        header = event.header
        changed = FOLLOWED.intersection(header.changed)
        if event.ours or header.entity != "Lead" or header.change_type != "UPDATE" or not changed:
            continue
        stamp = header.commit_timestamp
        at = datetime.fromtimestamp(stamp / 1000, UTC) if stamp > 0 else None
        status = _text(event.fields.get("Status")) if "Status" in changed else None
        owner = _text(event.fields.get("OwnerId")) if "OwnerId" in changed else None
        out += [LeadChange(i, at, status, owner) for i in header.record_ids]
    return out


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def verdict(row: JournalRow, change: LeadChange, config: RoutingConfig) -> Verdict | None:
    """What ``change`` means for the open clock ``row`` (None: nothing)."""
    if change.at is None:
        return None
    if change.owner_id is not None and change.owner_id[:15] != (row.owner_id or "")[:15]:
        applied = aware(row.applied_at)
        if applied is not None and change.at > applied + CLOCK_SKEW:
            return "closed"
    decided = aware(row.decided_at)
    if change.status is None or decided is None or change.at < decided:
        return None
    return "touched" if is_touched(change.status, policy_of(config, row).policy) else None


def touch_time(row: JournalRow, change: LeadChange) -> datetime | None:
    """``first_touch_at`` of a touch: its commit time, never before the assignment."""
    since = aware(row.applied_at) or aware(row.decided_at)
    if change.at is None or since is None:
        return change.at
    return max(change.at, since)


def record_sla_events(deps: Deps, events: Sequence[ChangeEvent]) -> EventReport:
    """Record the touches and closes ``events`` carry for open clocks (under the jobs'
    lock: the SLA sweep must not act on a clock this is closing)."""
    report = EventReport()
    changes = lead_changes(events)
    if not changes:
        return report
    with deps.lock, session_scope(deps.engine) as s:
        config = deps.config(s)
        by_lead: dict[str, list[LeadChange]] = {}
        for change in changes:
            by_lead.setdefault(change.lead_id, []).append(change)
        for row in journal_repo.sla_open_for(s, list(by_lead)):
            found = next(
                ((c, v) for c in by_lead[row.lead_id] if (v := verdict(row, c, config))), None
            )
            if found is None:
                continue
            change, state = found
            at = touch_time(row, change) if state == "touched" else None
            journal_repo.set_sla_state(s, [row.id or 0], state, first_touch_at=at)
            report.touched += state == "touched"
            report.closed += state == "closed"
    if report.touched or report.closed:
        log.info("sla events: touched=%d closed=%d", report.touched, report.closed)
    return report
