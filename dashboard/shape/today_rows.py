"""Data shaping for "Team today": who is next in each pool, each rep's leads today and this
week in the team's time zone, and the SLA clocks at risk or breached.

Who is next is not predicted by a second algorithm: :func:`next_up` routes synthetic
leads through the routing core's one entry point (:func:`worker.routing.api.route_batch`)
on the current routing state, with the same round robin, caps, hours and availability
the worker applies; nothing is stored (the state is an immutable value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from worker.routing.api import Ask, route_batch, routing_context
from worker.routing.model import Decision, Lead, RepStatus, RoutingConfig
from worker.routing.state import RoutingState

NEXT_COUNT = 5
AT_RISK_SHARE = 0.25  # "at risk": the last quarter of the time the SLA allows
STALE_DAYS = 7  # an untouched lead overdue longer is no longer counted as open


def team_zone(config: RoutingConfig | None) -> str:
    """The team's time zone: the intake's business hours' zone, else UTC."""
    hours = config.intake.business_hours if config is not None else None
    return hours.timezone if hours is not None else "UTC"


@dataclass(frozen=True)
class Periods:
    """The team's "today" and "this week" (starting Monday) as UTC instants."""

    zone: str
    day_start: datetime
    week_start: datetime
    local_day: str  # e.g. "Mon 7 Dec"


def periods(now: datetime, zone_name: str) -> Periods:
    """Today's and this week's start in ``zone_name`` (an IANA zone; an unknown one is
    refused with its name), as UTC instants. Midnight that a DST change skips is taken
    as the first instant of the day (``fold`` rules of :mod:`zoneinfo`)."""
    try:
        tz = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"time zone: {zone_name!r} is not an IANA time zone") from None
    local = now.astimezone(tz)
    midnight = datetime(local.year, local.month, local.day, tzinfo=tz)
    monday = midnight.date() - timedelta(days=midnight.weekday())
    week = datetime(monday.year, monday.month, monday.day, tzinfo=tz)
    label = f"{local:%a} {local.day} {local:%b}"
    return Periods(zone_name, midnight.astimezone(UTC), week.astimezone(UTC), label)


def rep_statuses(
    config: RoutingConfig,
    directory: Mapping[str, Mapping[str, Any]],
    open_leads: Mapping[str, int],
) -> dict[str, RepStatus]:
    """The reps as the worker last saw them (``directory``: user id and active flag); a
    rep it found no Salesforce user for has none here either (never next). Before the
    worker's first cycle (no directory yet) every rep gets a stand-in user, as What-if
    does, so the screen shows the rotation. ``open_leads``: the untouched leads each
    holds, what the store knows of their open leads."""
    out = {}
    for key in config.reps:
        known = directory.get(key) or {}
        user_id = known.get("user_id") or (None if directory else f"preview:{key}")
        out[key] = RepStatus(
            key, None if user_id is None else str(user_id), bool(known.get("active", True)),
            open_leads.get(key, 0),
        )  # fmt: skip
    return out


def synthetic_leads(n: int, pool: str) -> list[Lead]:
    """``n`` identical leads carrying no field (so no tag) for ``pool``."""
    return [Lead(id=f"next-up:{pool}:{i + 1}", fields={}) for i in range(n)]


def next_up(
    config: RoutingConfig,
    state: RoutingState,
    reps: Mapping[str, RepStatus],
    now: datetime,
    pool: str,
    n: int = NEXT_COUNT,
) -> list[Decision]:
    """The next ``n`` decisions of ``pool`` if ``n`` identical leads arrived now: routed
    by the core into the pool (with its overflow chain, as a rule sending them there
    would), each pick counting towards the caps and state of the next."""
    asks = [Ask(lead, only_pool=pool) for lead in synthetic_leads(n, pool)]
    decisions, _ = route_batch(
        asks, config=config, context=routing_context(reps), state=state, now=now
    )
    return decisions


def next_up_rows(
    config: RoutingConfig, decisions: Sequence[Decision], pool: str
) -> list[dict[str, Any]]:
    """One row per upcoming pick: who, and why (another pool when it overflowed)."""
    rows = []
    for i, d in enumerate(decisions, 1):
        rep = config.reps.get(d.rep_key or "")
        if d.action == "assign" and rep is not None:
            who = rep.name
            where = "" if d.pool in (None, pool) else f"overflow to {d.pool}"
        else:
            who, where = "held", d.reason
        rows.append({"#": i, "rep": who, "note": where})
    return rows


def count_rows(
    config: RoutingConfig, today: Mapping[str, int], week: Mapping[str, int]
) -> list[dict[str, Any]]:
    """Each configured rep (then anyone else the journal names) with today's and this
    week's assignments, most this week first."""
    keys = list(config.reps) + sorted((set(today) | set(week)) - set(config.reps))
    rows = []
    for key in keys:
        rep = config.reps.get(key)
        rows.append(
            {
                "rep": rep.name if rep else key,
                "today": int(today.get(key, 0)),
                "this week": int(week.get(key, 0)),
                "on": "" if rep is None else ("yes" if rep.enabled else "off"),
                "why off": "" if rep is None else (rep.disabled_reason or ""),
                "key": key,
            }
        )
    return sorted(rows, key=lambda r: (-r["this week"], -r["today"], r["rep"]))


def sla_status(row: Mapping[str, Any], now: datetime, share: float = AT_RISK_SHARE) -> str | None:
    """``breached`` (past due, untouched), ``at risk`` (within the last ``share`` of the
    time its SLA allows) or None (on time)."""
    due, start = row.get("sla_due_at"), row.get("applied_at") or row.get("decided_at")
    if due is None:
        return None
    if now >= due:
        return "breached"
    allowed = (due - start).total_seconds() if start is not None else 0.0
    return "at risk" if (due - now).total_seconds() <= share * max(allowed, 0.0) else None


def _minutes(delta: timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    text = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    return text


def sla_rows(
    rows: Sequence[Mapping[str, Any]], now: datetime, share: float = AT_RISK_SHARE
) -> list[dict[str, Any]]:
    """The untouched leads breached or at risk, breached first, soonest due first."""
    out = []
    for row in rows:
        status = sla_status(row, now, share)
        if status is None:
            continue
        due = row["sla_due_at"]
        when = f"{_minutes(now - due)} ago" if status == "breached" else f"in {_minutes(due - now)}"
        out.append(
            {
                "status": status,
                "lead": row.get("lead_name") or row["lead_id"],
                "company": row.get("lead_company") or "",
                "owner": row.get("owner_name") or row.get("rep_key") or "",
                "due": when,
                "pool": row.get("pool") or "",
                "lead_id": row["lead_id"],
            }
        )
    return sorted(out, key=lambda r: r["status"] != "breached")  # stable: due order kept
