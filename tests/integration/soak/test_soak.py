"""``leadrouter soak --profile quick --json`` through the CLI, as CI runs it, in both intake
modes: polling on SQLite with one worker, and subscribed (change events over the sandbox's
Pub/Sub API, with gap, overflow and dropped-stream faults) on PostgreSQL with two (kills
hit the active one: the standby takes over and resumes after the stored replay id).
One soak per mode keeps the suite's time: each runs ~2 minutes, on its own xdist worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]

FAULT_KINDS = ("server_unavailable", "internal_error", "reset", "reset_after", "slow",
               "expire_session", "lock_row", "api_allocation_low")  # fmt: skip
CDC_KINDS = ("cdc_gap", "cdc_overflow", "cdc_drop_stream")


def soak(tmp_path: Path, *args: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADROUTER_")}
    done = subprocess.run(
        [sys.executable, "-m", "worker", "soak", "--profile", "quick", "--json", *args],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=560,
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, f"stdout is not one JSON object:\n{done.stdout[-2000:]}"
    result: dict[str, Any] = json.loads(lines[0])
    assert done.returncode == 0, f"{result.get('failures')}\n{done.stderr[-3000:]}"
    return result


def check(result: dict[str, Any]) -> None:
    assert result["ok"] and result["failures"] == []
    assert result["created"] >= 700 and result["routed"] + result["held"] <= result["created"]
    assert (result["lost"], result["double_assigned"], result["overwritten"]) == (0, 0, 0)
    assert (result["sla_incorrect"], result["pending_left"]) == (0, 0)
    assert result["sla_reassigned"] > 0 and result["held"] > 0
    assert result["human_changes"] > 0 and result["rep_touches"] > 0
    assert result["kills"] >= 3 and result["restarts"] == result["kills"]
    assert result["fault_share"] >= 0.10
    faults = result["faults_injected"]
    assert all(faults.get(kind, 0) > 0 for kind in FAULT_KINDS), faults
    assert result["api_slow_cycles"] > 0  # the worker saw the allocation run low
    assert result["p95_owner_s"] is not None


def test_quick_soak_polling_on_sqlite_keeps_every_invariant(tmp_path: Path) -> None:
    result = soak(tmp_path, "--intake", "poll")
    check(result)
    assert (result["intake"], result["database"], result["workers"]) == ("poll", "sqlite", 1)
    assert not any(result["faults_injected"].get(kind) for kind in CDC_KINDS)


@pytest.mark.postgres
def test_quick_soak_subscribed_on_postgres_with_two_workers_fails_over(
    tmp_path: Path, pg_url: str
) -> None:
    result = soak(tmp_path, "--intake", "subscribe", "--workers", "2", "--database-url", pg_url)
    check(result)
    assert (result["intake"], result["database"], result["workers"]) == (
        "subscribe", "postgresql", 2,
    )  # fmt: skip
    faults = result["faults_injected"]
    assert all(faults.get(kind, 0) > 0 for kind in CDC_KINDS), faults
    assert result["takeover_max_s"] < 5  # the standby, not a restart, took over
