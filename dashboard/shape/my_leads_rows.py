"""My leads (the rep role): which rep the signed-in person is, their leads today and this
week, and how their availability reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from worker.routing.model import RoutingConfig

MY_COLUMNS = ("when", "lead", "company", "how", "first touch", "lead_id")
_HOW = {"route": "routed", "sla_reassign": "re-assigned to you", "escalate": "escalated to you"}


def resolve_rep(
    ref: str | None, config: RoutingConfig, directory: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """The config key of the rep a users-file entry names (``rep:``): its key (e-mail,
    any case) or its Salesforce user Id as the worker resolved it; None: no such rep."""
    ref = (ref or "").strip()
    if not ref:
        return None
    if ref.lower() in config.reps:
        return ref.lower()
    for key, known in directory.items():
        if key in config.reps and str(known.get("user_id") or "") == ref:
            return key
    return None


def user_id_of(rep_key: str, directory: Mapping[str, Mapping[str, Any]]) -> str | None:
    found = (directory.get(rep_key) or {}).get("user_id")
    return str(found) if found else None


def availability_words(enabled: bool, reason: str | None) -> str:
    return "available" if enabled else f"away ({reason or 'no reason given'})"


def _local(at: datetime | None, zone: Any) -> str:
    return at.astimezone(zone).strftime("%a %H:%M") if at else ""


def my_rows(
    rows: Sequence[Mapping[str, Any]], since_today: datetime, zone: Any
) -> tuple[list[dict[str, Any]], int, int]:
    """The rep's leads as shown (times in ``zone``), and how many today and this week
    (``rows``: this week's, newest first)."""
    shown = []
    for r in rows:
        touched = r.get("first_touch_at")
        state = r.get("sla_state")
        first = _local(touched, zone) if touched else ("not yet" if state == "open" else "")
        shown.append(
            {
                "when": _local(r["decided_at"], zone),
                "lead": r.get("lead_name") or r["lead_id"],
                "company": r.get("lead_company") or "",
                "how": _HOW.get(str(r.get("kind")), str(r.get("kind"))),
                "first touch": first,
                "lead_id": r["lead_id"],
            }
        )
    today = sum(1 for r in rows if r["decided_at"] >= since_today)
    return shown, today, len(rows)
