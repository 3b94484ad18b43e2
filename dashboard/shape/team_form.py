"""Between the routing config's ``Rep`` and the override JSON the Team settings form edits.

Override values use the config file's own shapes (``caps: {per_day: 10}``,
``working_hours: {mon: ["09:00-17:00"]}``, ``out_of_office: [{from, to}]``) so that
``validate_rep_override`` applies exactly the rules of ``leadrouter config check``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from worker.routing.members import MemberTerms, member_terms
from worker.routing.model import Rep, RoutingConfig

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def rep_values(rep: Rep) -> dict[str, Any]:
    """The rep's effective settings in override shape (what the form starts from)."""
    hours = None
    if rep.working_hours is not None:
        hours = {
            DAYS[d]: [f"{_hhmm(b.start)}-{_hhmm(b.end)}" for b in blocks]
            for d, blocks in enumerate(rep.working_hours)
            if blocks
        }
    caps = {k: getattr(rep.caps, k) for k in ("per_hour", "per_day", "max_open")}
    return {
        "weight": rep.weight,
        "caps": {k: v for k, v in caps.items() if v is not None},
        "tags": sorted(rep.tags),
        "working_hours": hours,
        "timezone": rep.timezone,
        "out_of_office": [
            {"from": r.start.isoformat(), "to": r.end.isoformat()} for r in rep.out_of_office
        ],
        "enabled": rep.enabled,
        "disabled_reason": rep.disabled_reason,
    }


def parse_tags(text: str) -> list[str]:
    return sorted({t.strip().lower() for t in text.split(",") if t.strip()})


HOURS_COLUMNS = ("day", "from", "to")
_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d|24:00")


def hours_rows(hours: Mapping[str, Sequence[str]] | None) -> list[dict[str, str]]:
    """Working hours (``{mon: ["09:00-12:00", "13:00-17:00"]}``) as the editor's rows: one
    per time range, ``day``, ``from``, ``to``; no rows = always available."""
    rows = []
    for day in DAYS:
        for block in (hours or {}).get(day, ()):
            start, _, end = block.partition("-")
            rows.append({"day": day, "from": start.strip(), "to": end.strip()})
    return rows


def rows_hours(rows: Sequence[Mapping[str, Any]]) -> tuple[dict[str, list[str]] | None, list[str]]:
    """The editor's rows as working hours in the config's shape (None: no row, always
    available), and a problem per row that is not a day with two HH:MM times; the
    config's own checks (overlaps, end after start) run when it is saved."""
    hours: dict[str, list[str]] = {}
    problems = []
    for n, row in enumerate(rows, 1):
        day, start, end = (str(_blank(row.get(k)) or "").strip() for k in HOURS_COLUMNS)
        if not (day or start or end):
            continue  # a row added and left empty
        if day not in DAYS:
            problems.append(f"working hours row {n}: pick a day (mon … sun), not {day!r}")
            continue
        bad = [f"{k} {v!r}" for k, v in (("from", start), ("to", end)) if not _HHMM.fullmatch(v)]
        if bad:
            problems.append(f"working hours row {n} ({day}): {', '.join(bad)} is not HH:MM")
            continue
        hours.setdefault(day, []).append(f"{start}-{end}")
    ordered = {d: hours[d] for d in DAYS if d in hours}
    return (ordered or None), problems


def parse_ooo(text: str) -> tuple[list[dict[str, str]], list[str]]:
    """One range per line: ``2026-12-01 to 2026-12-05`` (or a single date)."""
    ranges, problems = [], []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        first, _, last = line.replace("..", " to ").partition(" to ")
        try:
            start = date.fromisoformat(first.strip())
            end = date.fromisoformat((last or first).strip())
        except ValueError:
            problems.append(
                f"out_of_office line {n}: {line.strip()!r} is not 'YYYY-MM-DD to YYYY-MM-DD'"
            )
            continue
        ranges.append({"from": start.isoformat(), "to": end.isoformat()})
    return ranges, problems


def ooo_text(ranges: list[dict[str, str]]) -> str:
    return "\n".join(f"{r['from']} to {r['to']}" for r in ranges)


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Only the fields the form changed: saving an untouched form writes nothing."""
    return {k: v for k, v in after.items() if before.get(k) != v}


def _cap_text(terms: MemberTerms, name: str) -> str:
    pool = getattr(terms.pool_caps, name, None)
    rep = getattr(terms.rep_caps, name, None)
    parts = ([f"{pool} in pool"] if pool is not None else []) + (
        [f"{rep} overall"] if rep is not None else []
    )
    return ", ".join(parts)


def membership_rows(config: RoutingConfig, edited: Collection[str] = ()) -> list[dict[str, Any]]:
    """One row per pool membership, with the terms the router applies
    (:func:`worker.routing.members.member_terms`) and where each comes from."""
    rows = []
    for pool in config.pools.values():
        for t in member_terms(config, pool.name):
            rep = config.reps[t.rep]
            rows.append(
                {
                    "pool": pool.name,
                    "rep": t.name,
                    "email": t.rep,
                    "weight": t.weight,
                    "weight from": "pool" if t.weight_source == "pool" else "rep default",
                    "cap/day": _cap_text(t, "per_day"),
                    "cap/hour": _cap_text(t, "per_hour"),
                    "max open": rep.caps.max_open,
                    "on": rep.enabled,
                    "why off": rep.disabled_reason or "",
                    "out of office": ", ".join(f"{r.start}..{r.end}" for r in rep.out_of_office),
                    "edited": "yes" if t.rep in edited else "",
                }
            )
    return rows


MEMBER_COLUMNS = ("pool", "weight in pool", "cap/day in pool", "cap/hour in pool")


def member_values(config: RoutingConfig, rep_key: str) -> list[dict[str, Any]]:
    """The rep's own terms in each pool it belongs to, in the membership editor's shape:
    a blank weight means the rep's default weight applies, a blank cap means none."""
    out = []
    for pool in config.pools.values():
        member = next((m for m in pool.members if m.rep == rep_key), None)
        if member is not None:
            out.append(
                {
                    "pool": pool.name,
                    "weight in pool": member.weight,
                    "cap/day in pool": member.caps.per_day,
                    "cap/hour in pool": member.caps.per_hour,
                }
            )
    return out


def _blank(value: Any) -> Any:
    """A table cell as a value: NaN or None (an emptied cell) is None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def member_changes(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The ``pools`` override for the memberships the editor changed (pool -> the keys
    that changed; None removes the pool's own value so the rep's applies)."""
    old = {r["pool"]: r for r in before}
    out: dict[str, dict[str, Any]] = {}
    for row in after:
        was = old.get(row["pool"])
        if was is None:
            continue
        change: dict[str, Any] = {}
        weight = _blank(row.get("weight in pool"))
        if weight != _blank(was.get("weight in pool")):
            change["weight"] = None if weight is None else float(weight)
        caps: dict[str, Any] = {}
        for column, cap in (("cap/day in pool", "per_day"), ("cap/hour in pool", "per_hour")):
            value = _blank(row.get(column))
            if value != _blank(was.get(column)):
                caps[cap] = None if value is None else int(value)
        if caps:
            change["caps"] = caps
        if change:
            out[row["pool"]] = change
    return out


def merged_pools(
    stored: Mapping[str, Any] | None, changes: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """The rep's ``pools`` override after ``changes`` (partial caps kept, as the file's)."""
    merged: dict[str, Any] = {k: dict(v) for k, v in (stored or {}).items()}
    for pool, change in changes.items():
        entry = merged.setdefault(pool, {})
        for k, v in change.items():
            if k == "caps":
                entry["caps"] = {**(entry.get("caps") or {}), **v}
            else:
                entry[k] = v
    return merged


@dataclass(frozen=True)
class RepForm:
    """What the Edit-a-rep form holds when it is saved (the widgets' values)."""

    weight: float
    per_day: int | None
    per_hour: int | None
    max_open: int | None
    tags: str
    timezone: str
    hours: Sequence[Mapping[str, Any]]  # the working-hours editor's rows
    out_of_office: str
    enabled: bool
    reason: str


def form_changes(
    current: Mapping[str, Any],
    form: RepForm,
    memberships: list[dict[str, Any]],
    edited_members: list[dict[str, Any]],
    stored_pools: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], list[str]]:
    """The override changes a saved form stands for, and the problems of its free-text
    fields (hours, out of office). ``current`` is the rep's effective values
    (:func:`rep_values`); ``memberships`` the membership editor's rows before editing,
    ``edited_members`` after; ``stored_pools`` the rep's saved ``pools`` override."""
    hours_value, hours_problems = rows_hours(form.hours)
    ooo_value, ooo_problems = parse_ooo(form.out_of_office)
    problems = [*hours_problems, *ooo_problems]
    caps = {
        k: int(v)
        for k, v in (
            ("per_hour", form.per_hour),
            ("per_day", form.per_day),
            ("max_open", form.max_open),
        )
        if v is not None
    }
    after = {
        "weight": float(form.weight),
        "caps": caps,
        "tags": parse_tags(form.tags),
        "working_hours": hours_value,
        "timezone": form.timezone,
        "out_of_office": ooo_value,
        "enabled": bool(form.enabled),
        "disabled_reason": form.reason.strip() or None,
    }
    changes = changed_fields(dict(current), after)
    pool_changes = member_changes(memberships, edited_members)
    if pool_changes:
        changes["pools"] = merged_pools(stored_pools, pool_changes)
    return changes, problems


def own_weight_pools(memberships: list[dict[str, Any]]) -> list[str]:
    """The pools where the rep's own weight in the pool replaces its default weight."""
    return [m["pool"] for m in memberships if m["weight in pool"] is not None]
