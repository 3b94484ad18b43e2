"""Team settings writes (per-rep overrides) and their change history: the one service
through which the dashboard changes anything (reading them back is
:mod:`worker.store.queries.team_settings`; the sign-in throttle is
:mod:`worker.store.sign_in_repo`).

Every write takes the signed-in :class:`Actor` and refuses anyone who is not an admin:
the dashboard hides buttons from viewers, but this check is the one that counts (a
crafted session cannot get past it). Overrides are validated before they are stored;
an override row carries a ``version`` so two admins cannot silently overwrite each other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import Engine

from worker.store.db import session_scope
from worker.store.models.team import RepOverride, SettingsChange

Role = Literal["admin", "viewer", "rep"]
ROLES: tuple[str, ...] = ("admin", "viewer", "rep")
Validator = Callable[[str, Mapping[str, Any]], list[str]]
OVERRIDE_FIELDS: tuple[str, ...] = (
    "name",
    "holidays",
    "weight",
    "caps",
    "tags",
    "working_hours",
    "timezone",
    "out_of_office",
    "enabled",
    "disabled_reason",
    "pools",
)


@dataclass(frozen=True)
class Actor:
    """The signed-in dashboard user on whose behalf a write happens. A ``rep`` names
    the rep it is (``rep_key``: the rep's key in the config, its e-mail, or its
    Salesforce user Id), from the users file, never from what a page holds."""

    username: str
    role: str
    rep_key: str | None = None


class PermissionDenied(PermissionError):
    """The actor may not change settings (viewers are read-only)."""


class InvalidSettings(ValueError):
    """The override breaks the config rules; ``problems`` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class StaleEdit(RuntimeError):
    """Someone saved this rep since the form was loaded."""


def require_admin(actor: Actor | None) -> Actor:
    if actor is None or actor.role != "admin" or not actor.username:
        who = actor.username if actor else "anonymous"
        raise PermissionDenied(f"{who} may not change settings: admin role required")
    return actor


def is_self(actor: Actor, rep_key: str, user_id: str | None = None) -> bool:
    """Whether ``actor`` is the rep ``rep_key`` (whose Salesforce user is ``user_id``)."""
    own = (actor.rep_key or "").strip()
    if actor.role != "rep" or not own:
        return False
    return own.lower() == rep_key.strip().lower() or (user_id is not None and own == user_id)


def require_admin_or_self(actor: Actor | None, rep_key: str, user_id: str | None = None) -> Actor:
    """An admin may change any rep's availability; a rep only their own."""
    if actor is not None and actor.username and is_self(actor, rep_key, user_id):
        return actor
    if actor is not None and actor.role == "rep":
        raise PermissionDenied(f"{actor.username} may change only their own availability")
    return require_admin(actor)


def basic_problems(data: Mapping[str, Any]) -> list[str]:
    """Shape checks used when no config validator is given (tests, tools); the dashboard
    passes ``validate_rep_override`` so the rules are exactly those of ``config check``."""
    problems = [f"{k}: not a rep setting" for k in data if k not in OVERRIDE_FIELDS]
    weight = data.get("weight")
    if weight is not None and (
        not isinstance(weight, int | float) or isinstance(weight, bool) or weight <= 0
    ):
        problems.append("weight: must be a number > 0 (switch the rep off instead of 0)")
    for name, cap in (data.get("caps") or {}).items():
        if name not in {"per_hour", "per_day", "max_open"}:
            problems.append(f"caps.{name}: unknown cap (per_hour, per_day, max_open)")
        elif cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 0):
            problems.append(f"caps.{name}: must be a whole number >= 0 or empty")
    tz = data.get("timezone")
    if tz is not None:
        try:
            ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"timezone: {tz!r} is not an IANA time zone (e.g. Europe/Berlin)")
    for i, item in enumerate(data.get("out_of_office") or []):
        try:
            start, end = date.fromisoformat(item["from"]), date.fromisoformat(item["to"])
        except (KeyError, TypeError, ValueError):
            problems.append(f"out_of_office[{i}]: needs from and to dates (YYYY-MM-DD)")
            continue
        if end < start:
            problems.append(f"out_of_office[{i}]: ends ({end}) before it starts ({start})")
    if data.get("enabled") is False and not str(data.get("disabled_reason") or "").strip():
        problems.append("disabled_reason: say why the rep is switched off")
    return problems


def _fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Override fields as the change history lists them: a rep's terms in each pool are
    fields of their own (``pools.enterprise``), not one blob for every pool."""
    out = {k: v for k, v in data.items() if k != "pools"}
    pools = data.get("pools")
    if isinstance(pools, Mapping):
        out.update((f"pools.{name}", terms) for name, terms in pools.items())
    return out


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def save_rep_override(
    engine: Engine,
    *,
    actor: Actor | None,
    rep_key: str,
    changes: Mapping[str, Any],
    validate: Validator | None,
    expected_version: int | None = None,
    now: datetime | None = None,
    effective_before: Mapping[str, Any] | None = None,
) -> list[tuple[str, str | None, str | None]]:
    """Apply ``changes`` (field -> value; None removes the override so the file value
    applies again) to ``rep_key``'s override after checking role, rules and version.

    Returns the changed fields as (field, old JSON, new JSON); nothing is written when
    nothing changed. ``effective_before`` (the rep's values before the change, file +
    override) fills the history's "old" column for fields the override did not hold yet.
    Raises PermissionDenied, InvalidSettings or StaleEdit.
    """
    return _save(
        engine, require_admin(actor), rep_key, changes, validate, expected_version, now,
        effective_before,
    )  # fmt: skip


AVAILABILITY_FIELDS = ("enabled", "disabled_reason")


def set_availability(
    engine: Engine,
    *,
    actor: Actor | None,
    rep_key: str,
    available: bool,
    reason: str = "",
    validate: Validator | None,
    user_id: str | None = None,
    now: datetime | None = None,
    effective_before: Mapping[str, Any] | None = None,
) -> list[tuple[str, str | None, str | None]]:
    """Switch ``rep_key`` on, or off with ``reason`` (required): an admin for anyone, a rep
    for themselves only (``user_id``: the rep's Salesforce user, which a rep's users-file
    entry may name instead of the key). Recorded in the change history like any setting.
    Raises PermissionDenied or InvalidSettings."""
    who = require_admin_or_self(actor, rep_key, user_id)
    reason = reason.strip()
    if not available and not reason:
        raise InvalidSettings(["disabled_reason: say why the rep is switched off"])
    changes = {"enabled": available, "disabled_reason": None if available else reason}
    return _save(engine, who, rep_key, changes, validate, None, now, effective_before)


def _save(
    engine: Engine,
    actor: Actor,
    rep_key: str,
    changes: Mapping[str, Any],
    validate: Validator | None,
    expected_version: int | None,
    now: datetime | None,
    effective_before: Mapping[str, Any] | None,
) -> list[tuple[str, str | None, str | None]]:
    rep_key = rep_key.strip().lower()
    now = now or datetime.now(UTC)
    with session_scope(engine) as session:
        row = session.get(RepOverride, rep_key)
        if row is not None and expected_version is not None and row.version != expected_version:
            raise StaleEdit(
                f"{rep_key} was changed by {row.updated_by} meanwhile: reload and retry"
            )
        old: dict[str, Any] = json.loads(row.data) if row else {}
        new = {k: v for k, v in {**old, **changes}.items() if v is not None}
        problems = validate(rep_key, new) if validate else basic_problems(new)
        if problems:
            raise InvalidSettings(problems)
        before_fields, after_fields = _fields(old), _fields(new)
        changed = [
            (f, _dumps(before_fields.get(f)), _dumps(after_fields.get(f)))
            for f in sorted(set(before_fields) | set(after_fields))
            if _dumps(before_fields.get(f)) != _dumps(after_fields.get(f))
        ]
        if not changed:
            return []
        if row is None:
            row = RepOverride(rep_key=rep_key, data="{}", version=0, updated_by=actor.username)
        row.data, row.version = json.dumps(new, sort_keys=True), row.version + 1
        row.updated_by, row.updated_at = actor.username, now
        session.add(row)
        shown_before = _fields(effective_before or {})
        for f, before, after in changed:
            if before is None and shown_before.get(f) is not None:
                before = _dumps(shown_before[f])  # the file value the override replaces
            session.add(
                SettingsChange(
                    at=now,
                    actor=actor.username,
                    entity=f"rep:{rep_key}",
                    field=f,
                    old_value=before,
                    new_value=after,
                )
            )
    return changed
