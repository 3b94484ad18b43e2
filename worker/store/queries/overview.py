"""Headline figures for the Overview page: counts, timings, SLA, API use, worker health.

Daily counts per kind/status come from one GROUP BY over a covering index
(decided_at, kind, status, applied_at, lead_created_at, first_touch_at); timings from one
fetch of two computed columns over the last 7 days from the same index (no table rows);
so the page costs a handful of queries however large the journal is.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from worker.store.models.core import ApiUsage, WorkerHeartbeat
from worker.store.models.journal import DecisionKind, DecisionStatus, JournalRow
from worker.store.queries._sql import (
    as_utc,
    seconds_between,
    ten_minutes_start,
    unindexed,
    utc_ten_minutes,
)

D: Any = JournalRow
A: Any = ApiUsage
H: Any = WorkerHeartbeat


@dataclass(frozen=True)
class Timing:
    median_s: float | None
    p95_s: float | None
    samples: int


@dataclass(frozen=True)
class Overview:
    now: datetime
    routed_today: int
    routed_7d: int  # the last 7 calendar days (in the zone asked for), today included
    held_24h: int  # distinct leads with a held decision in the last 24 h
    held_reasons: tuple[tuple[str, int], ...]
    sla_reassigned_7d: int
    escalated_7d: int
    failed_24h: int
    time_to_assign: Timing
    time_to_first_touch: Timing
    api_used: int | None
    api_max: int | None
    workers: tuple[dict[str, Any], ...]
    days: tuple[str, ...]  # sparkline x axis, oldest first
    series: dict[str, tuple[float, ...]] = field(default_factory=dict)


def timing(values: list[float]) -> Timing:
    if not values:
        return Timing(None, None, 0)
    ordered = sorted(values)
    return Timing(statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))], len(ordered))


@lru_cache(maxsize=8192)
def _local_day(bucket: object, tz: tzinfo) -> str:
    """The day in ``tz`` of a ten-minute bucket (cached: a week of rows has ~1,000 buckets)."""
    return ten_minutes_start(str(bucket)).astimezone(tz).strftime("%Y-%m-%d")


def _daily_counts(conn: Connection, since: datetime, tz: tzinfo) -> dict[tuple[str, str, str], int]:
    """(day in ``tz``, kind, status) -> decisions since ``since``."""
    bucket = utc_ten_minutes(D.decided_at)
    stmt = (
        select(bucket, D.kind, D.status, func.count())
        .where(D.decided_at >= since)
        .group_by(bucket, D.kind, D.status)
    )
    out: dict[tuple[str, str, str], int] = defaultdict(int)
    for b, k, s, n in conn.execute(stmt).all():
        out[(_local_day(b, tz), str(k), str(s))] += int(n)
    return out


def _durations(
    conn: Connection, since: datetime, limit: int, tz: tzinfo
) -> list[tuple[str, float | None, float | None]]:
    """(day in ``tz``, seconds to assign, seconds to first touch) of routed leads since
    ``since``."""
    stmt = (
        select(
            utc_ten_minutes(D.decided_at),
            seconds_between(D.applied_at, D.lead_created_at),
            seconds_between(D.first_touch_at, D.applied_at),
        )
        .where(
            D.decided_at >= since,
            D.kind == DecisionKind.ROUTE,
            # not by the status index (every applied row of the journal and a table read
            # each) but by the covering (decided_at, kind, status, times) one: the week
            unindexed(D.status) == DecisionStatus.APPLIED,
        )
        .order_by(D.decided_at.desc())
        .limit(limit)
    )
    return [(_local_day(d, tz), a, t) for d, a, t in conn.execute(stmt).all()]


def _workers(conn: Connection, now: datetime) -> tuple[dict[str, Any], ...]:
    stmt = select(WorkerHeartbeat).order_by(H.last_seen_at.desc()).limit(20)
    out = []
    for row in conn.execute(stmt).mappings():
        item = {k: (as_utc(v) if isinstance(v, datetime) else v) for k, v in dict(row).items()}
        seen = item.get("last_seen_at")
        item["seconds_since_seen"] = (now - seen).total_seconds() if seen else None
        out.append(item)
    return tuple(out)


def _held(conn: Connection, since: datetime) -> tuple[int, tuple[tuple[str, int], ...]]:
    leads = func.count(func.distinct(D.lead_id))
    where = (D.status == DecisionStatus.HELD, D.decided_at >= since)
    total = int(conn.execute(select(leads).where(*where)).scalar_one())
    stmt = select(D.reason, leads).where(*where).group_by(D.reason).order_by(leads.desc()).limit(8)
    return total, tuple((str(r or "(no reason)"), int(c)) for r, c in conn.execute(stmt).all())


def _midnight(day: datetime, tz: tzinfo) -> datetime:
    """The UTC instant the calendar day of ``day`` (a date in ``tz``) begins in ``tz``."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def overview(
    engine: Engine,
    now: datetime,
    *,
    tz: tzinfo = UTC,
    spark_days: int = 14,
    max_samples: int = 300_000,
) -> Overview:
    """The figures up to ``now``; "today" and the sparklines' days are the calendar days
    of ``tz`` (the viewer's or the team's time zone)."""
    local_today = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    first_day = local_today - timedelta(days=spark_days - 1)
    days = tuple((first_day + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(spark_days))
    since = _midnight(first_day, tz)
    week = set(days[-7:])
    with engine.connect() as conn:
        counts = _daily_counts(conn, since, tz)
        durations = _durations(
            conn, _midnight(local_today - timedelta(days=6), tz), max_samples, tz
        )
        held_total, held_reasons = _held(conn, now - timedelta(hours=24))
        failed_24h = conn.execute(
            select(func.count()).where(
                D.decided_at >= now - timedelta(hours=24), D.status == DecisionStatus.FAILED
            )
        ).scalar_one()
        api = conn.execute(select(A.used, A.max).order_by(A.at.desc()).limit(1)).first()
        workers = _workers(conn, now)

    def per_day(kind: str | None, status: str | None) -> tuple[float, ...]:
        return tuple(
            float(
                sum(
                    n
                    for (d, k, s), n in counts.items()
                    if d == day and kind in (None, k) and status in (None, s)
                )
            )
            for day in days
        )

    routed = per_day(DecisionKind.ROUTE, DecisionStatus.APPLIED)
    sla = per_day(DecisionKind.SLA_REASSIGN, None)
    assign_by_day: dict[str, list[float]] = defaultdict(list)
    touch_by_day: dict[str, list[float]] = defaultdict(list)
    for day, assign_s, touch_s in durations:
        if assign_s is not None:
            assign_by_day[day].append(float(assign_s))
        if touch_s is not None:
            touch_by_day[day].append(float(touch_s))
    return Overview(
        now=now,
        routed_today=int(routed[-1]),
        routed_7d=int(sum(routed[-7:])),
        held_24h=held_total,
        held_reasons=held_reasons,
        sla_reassigned_7d=int(sum(sla[-7:])),
        escalated_7d=int(sum(per_day(DecisionKind.ESCALATE, None)[-7:])),
        failed_24h=int(failed_24h),
        time_to_assign=timing([v for d in week for v in assign_by_day.get(d, [])]),
        time_to_first_touch=timing([v for d in week for v in touch_by_day.get(d, [])]),
        api_used=int(api[0]) if api else None,
        api_max=int(api[1]) if api else None,
        workers=workers,
        days=days,
        series={
            "routed": routed,
            "held": per_day(None, DecisionStatus.HELD),
            "sla": sla,
            "failed": per_day(None, DecisionStatus.FAILED),
            "assign_median_s": tuple(_median(assign_by_day.get(d, [])) for d in days[-7:]),
            "touch_median_s": tuple(_median(touch_by_day.get(d, [])) for d in days[-7:]),
        },
    )


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def api_usage_series(
    engine: Engine, since: datetime, *, limit: int = 500
) -> list[tuple[datetime, int, int]]:
    """Recent API allocation samples (at, used, max), oldest first."""
    stmt = select(A.at, A.used, A.max).where(A.at >= since).order_by(A.at.desc()).limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [(as_utc(at) or since, int(u), int(m)) for at, u, m in reversed(rows)]
