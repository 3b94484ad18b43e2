"""The worker's side of notifications (issue 7): queue messages in the transactions that
change the journal, so a message exists if and only if its decision does.

- :func:`announce_decisions`: in the transaction that marks decisions applied or inserts
  held ones (rows flushed, ids set); pending/failed/skipped rows announce nothing;
- :func:`announce_allocation`: when the worker slows down or stops writing for the org's
  API allocation (once per UTC day and pace);
- the SLA sweep calls :func:`worker.notify.enqueue_sla_reminders` itself; delivery is its
  own scheduled job (:func:`worker.notify.deliver_due`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlmodel import Session

from worker.jobs.deps import Deps
from worker.notify import EventKind, NotificationEvent, enqueue_event, enqueue_for_decision
from worker.runtime.budget import Pace
from worker.store.db import session_scope
from worker.store.models.journal import Decision

log = logging.getLogger("leadrouter.notices")


def announce_decisions(session: Session, deps: Deps, rows: Iterable[Decision]) -> int:
    """Queue the messages of applied/held journal rows; returns how many were new."""
    if not deps.notify.enabled:
        return 0
    directory = deps.directory.contacts()
    now = deps.now()
    return sum(
        enqueue_for_decision(
            session,
            row,
            settings=deps.notify,
            instance_url=deps.instance_url,
            directory=directory,
            now=now,
        )  # fmt: skip
        for row in rows
    )


def announce_allocation(deps: Deps, pace: Pace, usage: tuple[int, int] | None) -> int:
    """Tell RevOps the worker slowed down or stopped writing for the API allocation."""
    if not deps.notify.enabled or pace is Pace.NORMAL or usage is None:
        return 0
    now = deps.now()
    share = deps.budget.stop_share if pace is Pace.STOP else deps.budget.slow_share
    what = "stopped writing to Salesforce" if pace is Pace.STOP else "slowed down"
    event = NotificationEvent(
        EventKind.API_ALLOCATION,
        source=f"api:{now.date().isoformat()}:{pace.value}",  # stop is news after slow
        reason=f"API allocation at {usage[0]}/{usage[1]} (>= {share:.0%}): the router {what}",
        facts={"used": str(usage[0]), "max": str(usage[1]), "pace": pace.value},
        occurred_at=now,
    )
    try:
        with session_scope(deps.engine) as s:
            return enqueue_event(s, event, settings=deps.notify, now=now)
    except Exception:  # noqa: BLE001 - an alert must never stop the cycle
        log.exception("could not queue the API allocation notice")
        return 0
