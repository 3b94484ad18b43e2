"""Held-lead alerts coalesced per burst: RevOps hears once when leads start being held
in a pool, not once per lead.

A burst of a pool opens with a held decision when no other lead was held in that pool
in the ``quiet`` period before it, and lasts while held decisions keep coming (a held
lead is retried, and held again, every cycle): only the decision that opens a burst is
announced. The journal is the burst's memory, so a restart of the worker neither loses
nor repeats one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from worker.store.models.journal import DecisionStatus, JournalRow

HELD_QUIET = timedelta(minutes=15)  # no held lead in a pool for this long: the burst is over


def opens_held_burst(
    session: Session, decision: JournalRow, *, quiet: timedelta = HELD_QUIET
) -> bool:
    """Whether held ``decision`` (flushed: its id is set) opens a new burst in its pool:
    no earlier held decision of that pool in the ``quiet`` period before it."""
    row: type[JournalRow] = JournalRow
    at = decision.decided_at or datetime.now(UTC)
    same_pool = row.pool == decision.pool if decision.pool is not None else row.pool.is_(None)  # type: ignore[union-attr]
    earlier = (
        select(row.id)
        .where(
            row.status == DecisionStatus.HELD,
            same_pool,
            row.id < decision.id,  # type: ignore[operator]
            row.decided_at >= at - quiet,  # type: ignore[operator]
        )
        .limit(1)
    )
    return session.exec(earlier).first() is None


def held_burst_source(decision: JournalRow) -> str:
    """Dedup source of a burst's one alert (the decision that opened it)."""
    return f"held-burst:{decision.pool or '-'}:{decision.id}"


def held_burst_reason(decision: JournalRow, *, quiet: timedelta = HELD_QUIET) -> str:
    """The alert's reason: the first lead's, and what the alert stands for."""
    minutes = int(quiet.total_seconds() // 60)
    return (
        f"{decision.reason or 'nobody eligible'}. One alert per burst: further leads held in "
        f"{decision.pool or 'no pool'} are not announced one by one until none has been held "
        f"for {minutes} minutes (the dashboard's Overview lists every held lead's reason)."
    )
