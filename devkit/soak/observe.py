"""What the soak sees: the org's owners over time, and the journal at the end.

The sandbox keeps no field history, so the soak keeps its own: a thread reads every
lead's owner over and over (through the admin endpoint, not the API, so the worker's API
figures are untouched) and records each change it sees. A lead assigned to one rep and
then silently to another between two samples can escape it; the final owner against the
journal's last applied decision cannot.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from devkit.soak.verdict import Entry
from worker.root import engine_for
from worker.store.models import Decision


class OwnerSampler:
    """Samples every lead's owner until stopped; ``seen[lead]`` lists distinct owners in
    the order they were seen. The pause between samples grows with the sample's cost."""

    def __init__(self, admin: Any, min_pause: float = 0.5) -> None:
        self._admin = admin
        self._min_pause = min_pause
        self.seen: dict[str, list[str]] = {}
        self.samples = 0
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        self.stop.set()
        self._thread.join(60)

    def record(self, leads: list[dict[str, Any]]) -> dict[str, str]:
        owners = {str(lead["Id"]): str(lead["OwnerId"]) for lead in leads}
        for lead_id, owner in owners.items():
            seen = self.seen.setdefault(lead_id, [])
            if not seen or seen[-1] != owner:
                seen.append(owner)
        self.samples += 1
        return owners

    def _run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                self.record(self._admin.leads())
            except Exception:  # noqa: BLE001, S112 - a missed sample is only less evidence
                pass
            took = time.monotonic() - started
            self.stop.wait(max(self._min_pause, 4 * took))


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def read_journal(database_url: str) -> list[Entry]:
    engine = engine_for(database_url, pool=False)
    try:
        with Session(engine) as s:
            rows = s.exec(select(Decision)).all()
            return [
                Entry(
                    id=r.id or 0,
                    lead_id=r.lead_id,
                    kind=r.kind,
                    status=r.status,
                    owner_id=r.owner_id,
                    reason=r.reason or "",
                    previous_owner_id=r.previous_owner_id,
                    decided_at=_aware(r.decided_at),
                    applied_at=_aware(r.applied_at),
                    sla_due_at=_aware(r.sla_due_at),
                    error=r.error or "",
                )  # fmt: skip
                for r in rows
            ]
    finally:
        engine.dispose()


def count_decisions(database_url: str) -> int:
    engine = engine_for(database_url, pool=False)
    try:
        with Session(engine) as s:
            return len(s.exec(select(Decision.id).limit(1)).all())
    finally:
        engine.dispose()


def latest_status(database_url: str, lead_ids: list[str], chunk: int = 500) -> list[str]:
    """The status of each lead's latest journal row ("" for a lead with none)."""
    engine = engine_for(database_url, pool=False)
    last: dict[str, tuple[int, str]] = {}
    try:
        with Session(engine) as s:
            for start in range(0, len(lead_ids), chunk):
                part = lead_ids[start : start + chunk]
                query = select(Decision.id, Decision.lead_id, Decision.status).where(
                    col(Decision.lead_id).in_(part)
                )
                for row_id, lead_id, status in s.exec(query).all():
                    if lead_id not in last or (row_id or 0) > last[lead_id][0]:
                        last[lead_id] = (row_id or 0, status)
    finally:
        engine.dispose()
    return [last.get(lead_id, (0, ""))[1] for lead_id in lead_ids]
