"""Outbox storage: concurrent claims, held-lead dedup, purge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from devkit.sink import Sink
from worker.notify import deliver_due, enqueue_for_decision, outbox_summary
from worker.notify.outbox import claim, claim_on, purge_outbox
from worker.store.db import session_scope

from .conftest import NOW, Receiver, a_decision, notify_settings

pytestmark = pytest.mark.integration
SLACK_ONLY = {"lead_assigned": {"notify": ["owner"], "channels": ["slack"]}}


def _queue(engine: Engine, settings, count: int) -> None:  # type: ignore[no-untyped-def]
    for n in range(count):
        with session_scope(engine) as session:
            decision = a_decision(lead_id=f"00Q{n}")
            session.add(decision)
            session.flush()
            enqueue_for_decision(session, decision, settings=settings, now=NOW)


def test_concurrent_claims_on_postgres_skip_locked_rows_instead_of_sharing_them(
    pg_url: str, receiver: Receiver, smtp_sink: Sink
) -> None:
    from worker.store.db import make_engine, upgrade

    upgrade(pg_url)
    engine = make_engine(pg_url)
    _queue(engine, notify_settings(receiver, smtp_sink, events=SLACK_ONLY), 4)
    lease = timedelta(seconds=60)

    with engine.begin() as first_tx:  # still open while the second worker claims
        first = claim_on(first_tx, "slack", 2, NOW, lease)
        second = claim(engine, "slack", 10, NOW, lease)

    assert len(first) == 2 and len(second) == 2
    assert not {r.id for r in first} & {r.id for r in second}
    engine.dispose()


def test_a_lead_held_every_cycle_alerts_revops_once_a_day(
    engine: Engine, receiver: Receiver, smtp_sink: Sink
) -> None:
    settings = notify_settings(receiver, smtp_sink)
    held = {"status": "held", "owner_id": None, "rep_key": None, "owner_name": None}
    counts = []
    for minutes in (0, 2, 60 * 24):
        with session_scope(engine) as session:
            decision = a_decision(decided_at=NOW + timedelta(minutes=minutes), **held)
            session.add(decision)
            session.flush()
            counts.append(enqueue_for_decision(session, decision, settings=settings, now=NOW))

    assert counts == [2, 0, 2]  # e-mail + webhook, again the next day


def test_purge_deletes_old_finished_messages_and_keeps_waiting_ones(
    engine: Engine, receiver: Receiver, smtp_sink: Sink
) -> None:
    settings = notify_settings(receiver, smtp_sink, events=SLACK_ONLY, rate=1)
    _queue(engine, settings, 2)
    deliver_due(engine, settings=settings, now=NOW)  # rate 1/min: one sent, one waits

    assert purge_outbox(engine, NOW + timedelta(days=1)) == 1
    assert outbox_summary(engine)["totals"] == {"pending": 1, "sending": 0, "sent": 0, "dead": 0}
