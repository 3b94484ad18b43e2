"""What a settings save says, in words: "Saved Sarah Johnson: now away (holiday)." rather
than the changed field names. Plain text: show it with ``st.success(fmt.md(...))``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

CAPS = {"per_hour": "hourly cap", "per_day": "daily cap", "max_open": "open-lead cap"}
NEXT_CYCLE = "The worker applies it at its next cycle."


def _value(raw: str | None) -> Any:
    try:
        return None if raw is None else json.loads(raw)
    except ValueError:
        return raw


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _caps(scope: str, old: Any, new: Any) -> list[str]:
    old, new = old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {}
    out = []
    for key, label in CAPS.items():
        if old.get(key) != new.get(key):
            value = new.get(key)
            out.append(f"{label}{scope} {'none' if value is None else _number(value)}")
    return out


def _phrases(field: str, old: Any, new: Any, reason: str | None) -> list[str]:
    if field == "enabled":
        if new is False:
            return [f"now away ({reason})" if reason else "now away"]
        return ["takes leads again" if new is True else "on/off as the config file says"]
    if field == "weight":
        return [f"weight {_number(new)}" if new is not None else "weight as the config file says"]
    if field == "caps":
        return _caps("", old, new)
    if field.startswith("pools."):
        pool = field.split(".", 1)[1]
        if new is None:
            return [f"terms in {pool} as the config file says"]
        old_terms = old if isinstance(old, dict) else {}
        out = []
        if isinstance(new, dict) and new.get("weight") != old_terms.get("weight"):
            out.append(f"weight in {pool} {_number(new.get('weight'))}")
        if isinstance(new, dict):
            out += _caps(f" in {pool}", old_terms.get("caps"), new.get("caps"))
        return out or [f"terms in {pool} changed"]
    if field == "timezone":
        return [f"time zone {new}"]
    if field == "tags":
        return [f"tags {', '.join(map(str, new))}" if new else "no tags"]
    if field == "working_hours":
        return ["working hours changed" if new is not None else "working hours as the file says"]
    if field == "out_of_office":
        return ["time off changed" if new else "no time off"]
    if field == "holidays":
        return [f"public holidays of {new}" if new else "no public holidays"]
    return [f"{field.replace('_', ' ')} changed"]


def saved_message(rep_name: str, changed: Sequence[tuple[str, str | None, str | None]]) -> str:
    """The sentence after a save of ``rep_name``'s settings; ``changed`` is what
    :func:`worker.store.team_repo.save_rep_override` returns (field, old JSON, new JSON)."""
    if not changed:
        return f"Nothing to save for {rep_name}: no value changed."
    values = {f: (_value(o), _value(n)) for f, o, n in changed}
    reason = values.get("disabled_reason", (None, None))[1]
    phrases: list[str] = []
    for field, (old, new) in values.items():
        if field == "disabled_reason":
            if "enabled" not in values and new:
                phrases.append(f"away reason {new}")
            continue
        phrases += _phrases(field, old, new, reason)
    return f"Saved {rep_name}: {'; '.join(phrases)}. {NEXT_CYCLE}"
