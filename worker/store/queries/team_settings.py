"""Team settings, read side: the per-rep overrides as stored and their change history.

The one writer of both is :mod:`worker.store.team_repo` (role check, validation,
versions); this module only reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from worker.store.models.team import RepOverride, SettingsChange
from worker.store.queries._sql import as_utc

S: Any = SettingsChange


@dataclass(frozen=True)
class OverrideState:
    rep_key: str
    data: dict[str, Any]
    version: int
    updated_by: str
    updated_at: datetime | None


def load_overrides(engine: Engine) -> dict[str, OverrideState]:
    with engine.connect() as conn:
        rows = conn.execute(select(RepOverride.__table__)).mappings().all()  # type: ignore[attr-defined]
    return {
        r["rep_key"]: OverrideState(
            r["rep_key"],
            json.loads(r["data"]),
            r["version"],
            r["updated_by"],
            as_utc(r["updated_at"]),
        )
        for r in rows
    }


def change_history(
    engine: Engine, *, entity: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Newest first: who changed which field of what, when, old -> new."""
    stmt = select(S.at, S.actor, S.entity, S.field, S.old_value, S.new_value).order_by(
        S.at.desc(), S.id.desc()
    )
    if entity:
        stmt = stmt.where(S.entity == entity)
    with engine.connect() as conn:
        rows = conn.execute(stmt.limit(limit)).mappings().all()
    return [{**dict(r), "at": as_utc(r["at"])} for r in rows]
