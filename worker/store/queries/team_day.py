"""The screens a team lives in, read side: assignments per rep since an instant, the open
SLA clocks, a rep's own leads, the routing state as the worker last saved it, and the
untouched leads each rep holds.

Periods ("today", "this week") are turned into UTC instants by the caller (in the team's
time zone: :mod:`dashboard.shape.today_rows`); these queries only compare timestamps, so
they read the ``decided_at`` and ``(sla_state, sla_due_at)`` indexes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from worker.routing.state import RoutingState, StateError, state_from_json
from worker.store.models.journal import DecisionKind, DecisionStatus, JournalRow
from worker.store.models.worker_state import RoutingStateRow
from worker.store.queries._sql import as_utc

D: Any = JournalRow
R: Any = RoutingStateRow


def _applied() -> Any:
    """``status = 'applied'`` written so that no index serves it: SQLite's planner,
    without statistics, would otherwise read every applied row of the journal through
    the (status, lead_id) index instead of the short period of the decided_at index."""
    return func.coalesce(D.status, "") == DecisionStatus.APPLIED.value


# a decision that gave a rep a lead: the first routing or an SLA move to them
ASSIGNING = (DecisionKind.ROUTE, DecisionKind.SLA_REASSIGN, DecisionKind.ESCALATE)
OPEN = "open"  # an assignment's SLA clock still running: nobody touched the lead yet


def assigned_per_rep(
    engine: Engine, since: datetime, until: datetime | None = None
) -> dict[str, int]:
    """Rep key -> leads assigned to the rep (applied) from ``since`` (inclusive) to
    ``until`` (exclusive; None: no end)."""
    stmt = (
        select(D.rep_key, func.count())
        .where(
            D.decided_at >= since,
            D.kind.in_(ASSIGNING),
            _applied(),
            D.rep_key.is_not(None),
        )
        .group_by(D.rep_key)
    )
    if until is not None:
        stmt = stmt.where(D.decided_at < until)
    with engine.connect() as conn:
        return {str(k): int(n) for k, n in conn.execute(stmt).all()}


SLA_COLUMNS: tuple[str, ...] = (
    "id", "lead_id", "lead_name", "lead_company", "rep_key", "owner_name", "pool", "rule",
    "applied_at", "decided_at", "sla_due_at",
)  # fmt: skip


def open_sla_clocks(
    engine: Engine, due_before: datetime, *, due_since: datetime | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Applied assignments whose SLA clock still runs (nobody touched the lead) and falls
    due before ``due_before`` (and from ``due_since``: older ones are stale, their leads
    handled by the SLA sweep), soonest due first (the sweep's own index)."""
    columns = [getattr(JournalRow, c) for c in SLA_COLUMNS]
    stmt = (
        select(*columns)
        .where(D.sla_state == OPEN, D.sla_due_at.is_not(None), D.sla_due_at < due_before)
        .order_by(D.sla_due_at, D.id)
        .limit(limit)
    )
    if due_since is not None:
        stmt = stmt.where(D.sla_due_at >= due_since)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    for row in rows:
        for key in ("applied_at", "decided_at", "sla_due_at"):
            row[key] = as_utc(row[key])
    return rows


def untouched_per_rep(engine: Engine, due_since: datetime) -> dict[str, int]:
    """Rep key -> leads assigned to the rep that nobody has touched yet (open SLA clocks
    falling due from ``due_since``): the open leads the store knows of (the worker asks
    Salesforce for the full count). A clock overdue for longer than that is stale: the
    SLA sweep has moved, escalated or closed its lead meanwhile."""
    stmt = (
        select(D.rep_key, func.count())
        .where(D.sla_state == OPEN, D.sla_due_at >= due_since)
        .group_by(D.rep_key)
    )
    with engine.connect() as conn:
        return {str(k): int(n) for k, n in conn.execute(stmt).all() if k is not None}


MY_COLUMNS: tuple[str, ...] = (
    "id", "decided_at", "lead_id", "lead_name", "lead_company", "lead_email", "kind",
    "pool", "rule", "reason", "sla_state", "sla_due_at", "first_touch_at",
)  # fmt: skip


def rep_leads(
    engine: Engine, rep_key: str, since: datetime, *, limit: int = 500
) -> list[dict[str, Any]]:
    """The leads assigned to ``rep_key`` since ``since`` (applied), newest first."""
    columns = [getattr(JournalRow, c) for c in MY_COLUMNS]
    stmt = (
        select(*columns)
        .where(
            D.decided_at >= since,
            D.rep_key == rep_key,
            D.kind.in_(ASSIGNING),
            _applied(),
        )
        .order_by(D.decided_at.desc(), D.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    for row in rows:
        for key in ("decided_at", "sla_due_at", "first_touch_at"):
            row[key] = as_utc(row[key])
    return rows


def routing_state(engine: Engine) -> RoutingState:
    """The routing state the worker saved last (empty before its first decision, or when
    the stored state cannot be read: a screen must still render)."""
    with engine.connect() as conn:
        text = conn.execute(select(R.state).where(R.id == 1)).scalar()
    try:
        return state_from_json(text)
    except StateError:
        return RoutingState()


def latest_decision_id(engine: Engine, lead_id: str) -> int | None:
    """The newest decision about ``lead_id`` (its "why"), or None."""
    stmt = (
        select(D.id).where(D.lead_id == lead_id).order_by(D.decided_at.desc(), D.id.desc()).limit(1)
    )
    with engine.connect() as conn:
        found = conn.execute(stmt).scalar()
    return None if found is None else int(found)
