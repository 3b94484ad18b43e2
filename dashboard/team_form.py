"""Between the routing config's ``Rep`` and the override JSON the Team settings form edits.

Override values use the config file's own shapes (``caps: {per_day: 10}``,
``working_hours: {mon: ["09:00-17:00"]}``, ``out_of_office: [{from, to}]``) so that
``validate_rep_override`` applies exactly the rules of ``leadrouter config check``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml

from worker.routing.model import Rep

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


def parse_hours(text: str) -> tuple[Any, str | None]:
    """YAML mapping of days to blocks; empty text = always available (None)."""
    if not text.strip():
        return None, None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return text, f"working_hours: not valid YAML ({str(exc).splitlines()[0]})"
    return value, None


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


def hours_text(hours: dict[str, list[str]] | None) -> str:
    return "" if not hours else yaml.safe_dump(hours, default_flow_style=None, sort_keys=False)


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Only the fields the form changed: saving an untouched form writes nothing."""
    return {k: v for k, v in after.items() if before.get(k) != v}
