"""The fairness audit's "leftover leads" check: did every rep get the same quality of
leads (rating, company size, source), and how did they serve them (SLA breaches, first
touch)? All aggregated in SQL per owner."""

from __future__ import annotations

import math
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
    """Lead quality per owner: counts by rating, company size band and source.

    One GROUP BY over the three dimensions together (one read of the period's rows, not
    three), rolled up per dimension here: a row per (owner, dimension, bucket), its
    owner's name the greatest journaled in that bucket (as SQL's ``max`` gives it)."""
    rating = func.coalesce(D.lead_rating, "unknown")
    source = func.coalesce(D.lead_source, "unknown")
    stmt = (
        select(D.owner_id, func.max(D.owner_name), rating, _SIZE, source, func.count())
        .where(
            D.pool == pool,
            D.decided_at >= start,
            D.decided_at < end,
            D.kind == DecisionKind.ROUTE,
            D.status == DecisionStatus.APPLIED,
        )
        .group_by(D.owner_id, rating, _SIZE, source)
    )
    counts: dict[tuple[Any, str, str], int] = defaultdict(int)
    names: dict[tuple[Any, str, str], str | None] = {}
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    for owner_id, name, *buckets, n in rows:
        for dim, bucket in zip(_DIMENSIONS, buckets, strict=True):
            key = (owner_id, dim, str(bucket))
            counts[key] += int(n)
            if name is not None and (names.get(key) is None or str(name) > str(names[key])):
                names[key] = str(name)
    return [
        {
            "owner_id": owner_id,
            "owner": names.get((owner_id, dim, bucket)) or owner_id,
            "dimension": dim,
            "bucket": bucket,
            "leads": n,
        }
        for (owner_id, dim, bucket), n in counts.items()
    ]


_DIMENSIONS = ("rating", "size", "source")


def rep_service(engine: Engine, pool: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per owner: SLA breaches (leads taken away for no touch), median/avg first touch.

    The period's rows are read once (breaches, counts, average and median are worked
    out here from the same rows)."""
    touch = seconds_between(D.first_touch_at, D.applied_at)
    stmt = select(
        D.kind, D.status, D.previous_owner_id, D.owner_id, D.owner_name,
        D.first_touch_at.is_not(None), touch,
    ).where(
        D.pool == pool, D.decided_at >= start, D.decided_at < end,
        D.kind.in_((DecisionKind.ROUTE, DecisionKind.SLA_REASSIGN)),
    )  # fmt: skip
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    breaches: dict[Any, int] = defaultdict(int)
    per: dict[Any, _Service] = {}
    for kind, status, previous, oid, name, touched, secs in rows:
        if kind == DecisionKind.SLA_REASSIGN:
            breaches[previous] += 1
        elif status == DecisionStatus.APPLIED:
            per.setdefault(oid, _Service()).add(name, bool(touched), secs)
    out = []
    for oid, line in per.items():
        median = line.median()
        out.append(
            {
                "owner_id": oid,
                "owner": line.name or oid,
                "leads": line.leads,
                "touched": line.touched,
                "sla_breaches": int(breaches.get(oid, 0)),
                "median_first_touch_min": (median / 60) if median is not None else None,
                "avg_first_touch_min": (math.fsum(line.seconds) / len(line.seconds) / 60)
                if line.seconds
                else None,
            }
        )
    return out


class _Service:
    """One owner's routed leads in the period: count, touched, first-touch seconds."""

    def __init__(self) -> None:
        self.name: str | None = None
        self.leads = 0
        self.touched = 0
        self.seconds: list[float] = []

    def add(self, name: Any, touched: bool, secs: Any) -> None:
        if name is not None and (self.name is None or str(name) > self.name):
            self.name = str(name)  # the greatest, as SQL's max() gave it
        self.leads += 1
        self.touched += touched
        if secs is not None:
            self.seconds.append(float(secs))

    def median(self) -> float | None:
        """The upper median (the middle value of the sorted times; of an even count, the
        later of the two middle ones)."""
        if not self.seconds:
            return None
        return sorted(self.seconds)[len(self.seconds) // 2]
