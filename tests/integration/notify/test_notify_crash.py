"""A real worker process SIGKILLed between applying a decision and sending its message:
the next delivery run sends it, once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine

from worker.notify import deliver_due, load_notify_settings

from .conftest import Receiver

pytestmark = pytest.mark.integration

CHILD = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from worker.notify import enqueue_for_decision, load_notify_settings
    from worker.notify.outbox import claim
    from worker.store.db import make_engine, session_scope
    from worker.store.models.journal import JournalRow

    url, config, stage = sys.argv[1:4]
    settings = load_notify_settings(Path(config))
    engine = make_engine(url)
    with session_scope(engine) as session:  # the worker applies the decision...
        decision = JournalRow(lead_id="00Q1", cycle_id="c", status="applied", owner_id="005S",
                            owner_name="Sarah Johnson", rep_key="sarah@acme.example",
                            lead_name="Ada Lovelace", lead_company="Analytical Engines",
                            reason="Round-robin")
        session.add(decision)
        session.flush()
        enqueue_for_decision(session, decision, settings=settings)  # ...same transaction
    if stage == "claimed":  # the delivery job had started too
        claim(engine, "slack", 10, datetime.now(UTC), timedelta(seconds=60))
    print("ready", flush=True)
    time.sleep(60)
    """
)


@pytest.mark.parametrize("stage", ["applied", "claimed"])
def test_killed_worker_sends_on_restart_exactly_once(
    engine: Engine, store_url: str, receiver: Receiver, tmp_path: Path, stage: str
) -> None:
    config = tmp_path / "routing.yaml"
    section = {
        "allow_local_http": True,
        "channels": {"slack": {"type": "slack", "url": receiver.url("/slack")}},
        "events": {"lead_assigned": {"notify": ["owner"], "channels": ["slack"]}},
        "delivery": {"lease_seconds": 60},
    }
    config.write_text(yaml.safe_dump({"notifications": section}))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, store_url, str(config), stage],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    settings = load_notify_settings(config)
    now = datetime.now(UTC)

    runs = [
        deliver_due(engine, settings=settings, now=now + timedelta(seconds=s)).sent
        for s in (0, 61, 200)
    ]

    assert runs == ([0, 1, 0] if stage == "claimed" else [1, 0, 0])
    (message,) = receiver.on("/slack")
    assert json.loads(message.body)["text"].startswith("New lead for Sarah Johnson: Ada Lovelace")
