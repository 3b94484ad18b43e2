"""The SLA clocks of a subscribed worker against the sandbox's Pub/Sub server: a rep's
status change records the first touch at its commit time and a person's reassignment
closes the clock, from their change events, with no API call; the SLA sweep then has
nothing to read until a clock comes due."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from devkit.sandbox.harness import SandboxHandle
from tests.integration.pubsub.test_worker_subscribe import (  # noqa: F401 - fixtures
    make_worker,
    settle,
    start,
    subscribed_config,
    wait_routed,
)
from tests.integration.worker.conftest import MANAGER, journal
from worker.jobs.sla import run_sla_sweep
from worker.scheduler import Worker
from worker.sfdc.mapping import parse_datetime
from worker.store.models import JournalRow

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def clocks(worker: Worker) -> dict[str, JournalRow]:
    return {r.lead_id: r for r in journal(worker.app) if r.kind == "route"}


def wait_closed_or_touched(worker: Worker, ids: list[str], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = clocks(worker)
        if all(rows[i].sla_state in ("touched", "closed") for i in ids):
            return
        time.sleep(0.05)
    raise AssertionError(f"clocks still open: {[(i, clocks(worker)[i].sla_state) for i in ids]}")


def test_touches_and_reassignments_come_from_events_without_a_call(
    pubsub_sandbox: SandboxHandle,
    make_worker: Callable[[], Worker],  # noqa: F811 - the imported fixture
) -> None:
    admin = pubsub_sandbox.admin()
    worker = make_worker()
    start(worker)
    worked, taken, untouched = ids = admin.create_leads(3)
    wait_routed(pubsub_sandbox, ids)
    settle(worker)
    assert {r.sla_state for r in clocks(worker).values()} == {"open"}
    gateway = worker.app.deps.gateway
    calls = gateway.api_calls()
    owner = admin.get_lead(worked)["OwnerId"]
    # commit times are whole seconds: a change in the second our write was answered in
    # cannot be told after it, and is left to the sweep (sla_events): a person acts later
    applied = clocks(worker)[taken].applied_at
    assert applied is not None
    applied = applied if applied.tzinfo else applied.replace(tzinfo=UTC)  # (SQLite)
    later = applied.replace(microsecond=0) + timedelta(seconds=1.2) - datetime.now(UTC)
    time.sleep(max(later.total_seconds(), 0.0))
    admin.set_lead_status(worked, "Working - Contacted", by=owner)
    admin.change_owner(taken, admin.user_ids()[MANAGER])
    wait_closed_or_touched(worker, [worked, taken])
    rows = clocks(worker)
    assert (rows[worked].sla_state, rows[taken].sla_state) == ("touched", "closed")
    assert rows[untouched].sla_state == "open"
    changed = parse_datetime(admin.get_lead(worked)["LastModifiedDate"])
    touched = rows[worked].first_touch_at
    assert changed is not None and touched is not None
    touched = touched if touched.tzinfo else touched.replace(tzinfo=UTC)  # (SQLite)
    assert abs(touched - changed) < timedelta(seconds=1)  # the change's commit time
    assert gateway.api_calls() == calls  # from the events alone
    report = run_sla_sweep(worker.app.deps, subscribed=True)  # nothing due yet
    assert report.checked == 0 and gateway.api_calls() == calls
