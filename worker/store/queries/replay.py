"""Leads of the last days, as the journal saw them, for the dashboard's what-if replay."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from worker.store.models.journal import DecisionKind, DecisionStatus, JournalRow
from worker.store.queries._sql import as_utc

D: Any = JournalRow


def recent_routed_leads(
    engine: Engine, since: datetime, *, pool: str | None = None, limit: int = 5000
) -> list[dict[str, Any]]:
    """First routing decision per lead since ``since`` (assigned or held), oldest first,
    with the lead snapshot and who actually got it; at most ``limit`` (the newest)."""
    stmt = (
        select(
            D.lead_id, D.decided_at, D.lead_created_at, D.status, D.pool, D.rep_key,
            D.owner_id, D.owner_name, D.lead_email, D.lead_company, D.lead_country,
            D.lead_source, D.lead_rating, D.lead_employees, D.lead_fields,
        )
        .where(
            D.decided_at >= since,
            D.kind == DecisionKind.ROUTE,
            D.status.in_((DecisionStatus.APPLIED, DecisionStatus.HELD)),
        )
        .order_by(D.decided_at.desc(), D.id.desc())
        .limit(limit)
    )  # fmt: skip
    if pool:
        stmt = stmt.where(D.pool == pool)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    seen: set[str] = set()
    out = []
    for row in reversed(rows):  # oldest first; a held-then-routed lead counts once
        if row["lead_id"] in seen:
            continue
        seen.add(row["lead_id"])
        row["decided_at"] = as_utc(row["decided_at"])
        row["lead_created_at"] = as_utc(row["lead_created_at"])
        out.append(row)
    return out


DIRECTORY = "directory.reps"  # the worker's last view of its reps' Salesforce users


def rep_directory(engine: Engine) -> dict[str, dict[str, Any]]:
    """Rep key -> ``{"user_id", "active", "name"}`` as the worker last saw it (empty
    before the first cycle)."""
    from worker.store.models import KeyValue

    kv: Any = KeyValue
    with engine.connect() as conn:
        row = conn.execute(select(kv.value).where(kv.key == DIRECTORY)).first()
    try:
        value = json.loads(row[0]) if row else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
