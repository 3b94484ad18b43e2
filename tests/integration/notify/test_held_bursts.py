"""Held-lead alerts: one per burst of held leads in a pool, not one per lead."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from devkit.sink import Sink
from worker.notify import enqueue_for_decision
from worker.store.db import session_scope
from worker.store.models.outbox import OutboxMessage

from .conftest import NOW, Receiver, a_decision, notify_settings

pytestmark = pytest.mark.integration
HELD = {"status": "held", "owner_id": None, "rep_key": None, "owner_name": None,
        "reason": "Held in the intake queue: sdr-24x7: everyone capped"}  # fmt: skip


def _hold(engine: Engine, settings, minutes: float, lead: int, pool: str = "na") -> int:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        decision = a_decision(
            lead_id=f"00Q5e00000Held{lead:04d}", pool=pool,
            decided_at=NOW + timedelta(minutes=minutes), **HELD,
        )  # fmt: skip
        session.add(decision)
        session.flush()
        return enqueue_for_decision(session, decision, settings=settings, now=NOW)


def test_a_burst_of_held_leads_alerts_once_per_pool_and_again_after_a_quiet_spell(
    engine: Engine, receiver: Receiver, smtp_sink: Sink
) -> None:
    settings = notify_settings(receiver, smtp_sink)
    burst = [_hold(engine, settings, m, lead) for lead, m in enumerate((0, 0, 0.5, 1, 3, 14))]
    assert burst == [2, 0, 0, 0, 0, 0]  # e-mail + webhook for the first lead only
    assert _hold(engine, settings, 4, 50, pool="emea") == 2  # another pool: its own burst
    assert _hold(engine, settings, 28, 99) == 0  # 14 min after the last held one: same burst
    assert _hold(engine, settings, 44, 7) == 2  # 16 quiet minutes: a new burst
    with session_scope(engine) as session:
        mails = [
            json.loads(m.payload)
            for m in session.exec(select(OutboxMessage)).all()
            if m.event == "lead_held" and m.channel == "mail"
        ]
    assert len(mails) == 3
    assert all("One alert per burst" in m["text"] and "everyone capped" in m["text"] for m in mails)
