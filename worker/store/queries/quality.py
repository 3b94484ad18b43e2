"""The fairness audit's "leftover leads" check: did every rep get the same quality of
leads (rating, company size, source), and how did they serve them (SLA breaches, first
touch)? All aggregated in SQL per owner."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine

from worker.store.models.journal import DecisionKind, DecisionStatus, JournalRow
from worker.store.queries._sql import seconds_between

D: Any = JournalRow


_SIZE = case(
    (D.lead_employees.is_(None), "unknown"),
    (D.lead_employees < 50, "1-49"),
    (D.lead_employees < 250, "50-249"),
    (D.lead_employees < 1000, "250-999"),
    else_="1000+",
)


def lead_mix(engine: Engine, pool: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Lead quality per owner: counts by rating, company size band and source."""
    base = (
        D.pool == pool,
        D.decided_at >= start,
        D.decided_at < end,
        D.kind == DecisionKind.ROUTE,
        D.status == DecisionStatus.APPLIED,
    )
    out: list[dict[str, Any]] = []
    dims = {
        "rating": func.coalesce(D.lead_rating, "unknown"),
        "size": _SIZE,
        "source": func.coalesce(D.lead_source, "unknown"),
    }
    with engine.connect() as conn:
        for dim, expr in dims.items():
            stmt = (
                select(D.owner_id, func.max(D.owner_name), expr.label("bucket"), func.count())
                .where(*base)
                .group_by(D.owner_id, expr)
            )
            for owner_id, name, bucket, n in conn.execute(stmt).all():
                out.append(
                    {
                        "owner_id": owner_id,
                        "owner": name or owner_id,
                        "dimension": dim,
                        "bucket": str(bucket),
                        "leads": int(n),
                    }
                )
    return out


def rep_service(engine: Engine, pool: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per owner: SLA breaches (leads taken away for no touch), median/avg first touch."""
    period = (D.pool == pool, D.decided_at >= start, D.decided_at < end)
    touch = seconds_between(D.first_touch_at, D.applied_at)
    with engine.connect() as conn:
        breaches: dict[Any, Any] = dict(
            conn.execute(
                select(D.previous_owner_id, func.count())
                .where(*period, D.kind == DecisionKind.SLA_REASSIGN)
                .group_by(D.previous_owner_id)
            ).all()
        )
        rows = conn.execute(
            select(
                D.owner_id,
                func.max(D.owner_name),
                func.count(),
                func.count(D.first_touch_at),
                func.avg(touch),
            )
            .where(*period, D.kind == DecisionKind.ROUTE, D.status == DecisionStatus.APPLIED)
            .group_by(D.owner_id)
        ).all()
        medians = _median_touch(conn, period, touch)
    return [
        {
            "owner_id": oid,
            "owner": name or oid,
            "leads": int(n),
            "touched": int(touched),
            "sla_breaches": int(breaches.get(oid, 0)),
            "median_first_touch_min": (medians[oid] / 60) if medians.get(oid) is not None else None,
            "avg_first_touch_min": (float(avg) / 60) if avg is not None else None,
        }
        for oid, name, n, touched, avg in rows
    ]


def _median_touch(
    conn: Any, period: tuple[Any, ...], touch: Any, per_rep_cap: int = 20_000
) -> dict[str, float]:
    """Median first-touch seconds per owner: values come sorted from SQL, capped per rep."""
    stmt = (
        select(D.owner_id, touch)
        .where(
            *period,
            D.kind == DecisionKind.ROUTE,
            D.status == DecisionStatus.APPLIED,
            touch.is_not(None),
        )
        .order_by(D.owner_id, touch)
    )
    values: dict[str, list[float]] = defaultdict(list)
    for oid, secs in conn.execute(stmt.limit(per_rep_cap * 50)):
        values[str(oid)].append(float(secs))
    return {oid: v[len(v) // 2] for oid, v in values.items() if v}
