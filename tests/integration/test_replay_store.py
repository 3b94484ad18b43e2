"""The stored replay id: opaque bytes kept exactly, per topic, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from worker.store import state_repo
from worker.store.db import make_engine, session_scope, upgrade

pytestmark = pytest.mark.integration


def test_replay_ids_round_trip_as_bytes(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    try:
        raw = bytes(range(256))  # every byte value, NULs included
        with session_scope(engine) as s:
            assert state_repo.get_replay_id(s, "/data/LeadChangeEvent") is None
            state_repo.set_replay_id(s, "/data/LeadChangeEvent", b"\x00\x01", worker_id="w1")
        with session_scope(engine) as s:
            state_repo.set_replay_id(s, "/data/LeadChangeEvent", raw, worker_id="w2")
            state_repo.set_replay_id(s, "/data/Other__chn", b"\xff", worker_id="w2")
        with session_scope(engine) as s:
            assert state_repo.get_replay_id(s, "/data/LeadChangeEvent") == raw
            assert state_repo.get_replay_id(s, "/data/Other__chn") == b"\xff"
    finally:
        engine.dispose()
