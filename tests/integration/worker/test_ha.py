"""Two workers on one PostgreSQL database: one active, the other takes over on kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import Session, select

from devkit.sandbox.harness import SandboxHandle
from tests.integration.worker.conftest import sandbox_env
from worker.store.db import make_engine
from worker.store.models import JournalRow, WorkerHeartbeat

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]
INTERVAL = 0.5


def roles(url: str) -> dict[int, str]:
    engine = make_engine(url, pool=False)
    try:
        with Session(engine) as s:
            return {hb.pid: hb.role for hb in s.exec(select(WorkerHeartbeat)).all()}
    except Exception:  # noqa: BLE001 - schema not there yet
        return {}
    finally:
        engine.dispose()


def wait_for(predicate, timeout: float) -> float:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_standby_takes_over_within_two_intervals_and_nothing_is_assigned_twice(
    sandbox: SandboxHandle, pg_url: str, routing_config: Path, tmp_path: Path
) -> None:
    admin = sandbox.admin()
    env = {**os.environ, **sandbox_env(sandbox, pg_url, routing_config)}
    env["LEADROUTER_INTAKE_INTERVAL_SECONDS"] = env["LEADROUTER_IDLE_INTERVAL_SECONDS"] = str(
        INTERVAL
    )
    argv = [sys.executable, "-m", "worker", "run"]
    log = (tmp_path / "workers.log").open("ab")
    a = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    b = None
    try:
        wait_for(lambda: roles(pg_url).get(a.pid) == "active", 60)
        b = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: roles(pg_url).get(b.pid) == "standby", 60)
        admin.create_leads(300)
        time.sleep(INTERVAL * 2)
        a.send_signal(signal.SIGKILL)
        took = wait_for(lambda: roles(pg_url).get(b.pid) == "active", 10)  # from the kill
        admin.create_leads(300)
        assert took <= 2 * INTERVAL + 0.5, f"takeover took {took:.2f}s"
        queue = admin.intake_queue_id()
        wait_for(lambda: all(lead["OwnerId"] != queue for lead in admin.leads()), 30)
        print(f"takeover after {took:.2f}s")
    finally:
        for proc in (a, b):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(20)
    engine = make_engine(pg_url, pool=False)
    with Session(engine) as s:
        rows = list(s.exec(select(JournalRow)).all())
    engine.dispose()
    applied = Counter(r.lead_id for r in rows if r.status == "applied")
    owners = {lead["Id"]: lead["OwnerId"] for lead in admin.leads()}
    assert set(applied) == set(owners) and set(applied.values()) == {1}
    assert all(owners[r.lead_id] == r.owner_id for r in rows if r.status == "applied")
