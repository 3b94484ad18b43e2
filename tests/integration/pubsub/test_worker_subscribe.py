"""The worker in intake mode subscribe against the sandbox's Pub/Sub server: leads are
routed from their change events (the reconciliation sweep is an hour away), once each,
through gaps, overflows, dropped streams and refused replay ids; our own writes never
route a lead again."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from devkit.sandbox.harness import SandboxHandle
from devkit.sandbox.pubsub import schema as pubsub_schema
from tests.integration.worker.conftest import (
    CONFIG,
    MANAGER,
    check_invariants,
    journal,
    sandbox_env,
)
from worker.bootstrap import App, build_app
from worker.scheduler import Worker
from worker.settings import load_settings
from worker.store import state_repo
from worker.store.db import session_scope, upgrade

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # each a few seconds: a worker's life

TOPIC = "/data/LeadChangeEvent"
SUBSCRIBED = CONFIG.replace(
    "intake: {queues: [Lead_Intake]}",
    "intake: {queues: [Lead_Intake], mode: subscribe,\n"
    "         subscribe: {window_seconds: 0.1, sweep_seconds: 3600}}",
)


def settings_for(sandbox: SandboxHandle, url: str, config: Path, **extra: str) -> Any:
    env = sandbox_env(sandbox, url, config) | {
        "LEADROUTER_SF_PUBSUB_ENDPOINT": str(sandbox.pubsub_endpoint),
        **extra,
    }
    return load_settings(**{k.removeprefix("LEADROUTER_").lower(): v for k, v in env.items()})


@pytest.fixture
def subscribed_config(tmp_path: Path) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(SUBSCRIBED)
    assert "mode: subscribe" in path.read_text()
    return path


@pytest.fixture
def make_worker(
    pubsub_sandbox: SandboxHandle, sqlite_url: str, subscribed_config: Path
) -> Iterator[Callable[[], Worker]]:
    upgrade(sqlite_url)
    made: list[Worker] = []

    def make() -> Worker:
        worker = Worker(build_app(settings_for(pubsub_sandbox, sqlite_url, subscribed_config)))
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.stop_subscription()
        worker.app.lease.release()


def start(worker: Worker) -> None:
    """The first tick: the lease, the subscriber, the sweep at start."""
    worker.intake()
    assert worker.subscription is not None and worker.subscription.alive()
    sub = worker.subscription.subscriber
    deadline = time.monotonic() + 10
    while sub.streams == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # the server has fixed where the stream starts


def wait_routed(sandbox: SandboxHandle, ids: list[str], timeout: float = 30) -> None:
    admin = sandbox.admin()
    queue = admin.intake_queue_id()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = [i for i in ids if admin.get_lead(i)["OwnerId"] == queue]
        if not waiting:
            return
        time.sleep(0.05)
    raise AssertionError(f"{len(waiting)} of {len(ids)} leads still in the queue")


def settle(worker: Worker, seconds: float = 1.0) -> None:
    """Let our own writes' events arrive (and be passed over), and settling writes land."""
    time.sleep(seconds)


def stored(app: App) -> bytes | None:
    with session_scope(app.deps.engine) as s:
        return state_repo.get_replay_id(s, TOPIC)


def routed_by_events_only(worker: Worker, swept_at: float) -> None:
    assert worker.last_sweep == swept_at, "a sweep ran: the leads were not routed by events"


def test_leads_are_routed_by_their_events_once_and_our_writes_route_nothing(
    pubsub_sandbox: SandboxHandle, make_worker: Callable[[], Worker]
) -> None:
    worker = make_worker()
    start(worker)
    swept_at = worker.last_sweep
    ids = pubsub_sandbox.admin().create_leads(20)
    wait_routed(pubsub_sandbox, ids)
    settle(worker)
    routed_by_events_only(worker, swept_at)
    statuses = check_invariants(worker.app, pubsub_sandbox)
    assert statuses == {"applied": 20}
    intake = worker.subscription.intake  # type: ignore[union-attr]
    assert intake.own == 20  # our 20 owner writes came back as events, named ours
    assert intake.routed == 20  # and routed nothing again
    assert stored(worker.app) is not None


def test_gap_events_are_reread_and_routed(
    pubsub_sandbox: SandboxHandle, make_worker: Callable[[], Worker]
) -> None:
    worker = make_worker()
    start(worker)
    swept_at = worker.last_sweep
    admin = pubsub_sandbox.admin()
    admin.set_faults({"cdc_gap": 1.0})
    ids = admin.create_leads(10)
    wait_routed(pubsub_sandbox, ids)
    settle(worker)
    assert admin.fault_counts()["cdc_gap"] >= 10
    routed_by_events_only(worker, swept_at)
    assert check_invariants(worker.app, pubsub_sandbox) == {"applied": 10}


def test_an_overflow_is_resynced_by_soql(
    pubsub_sandbox: SandboxHandle, make_worker: Callable[[], Worker]
) -> None:
    worker = make_worker()
    start(worker)
    swept_at = worker.last_sweep
    admin = pubsub_sandbox.admin()
    admin.set_faults({"cdc_overflow": 1.0})
    ids = admin.create_leads(10)
    wait_routed(pubsub_sandbox, ids)
    settle(worker)
    assert admin.fault_counts()["cdc_overflow"] >= 1
    assert worker.last_sweep > swept_at, "the overflow did not sweep"
    assert check_invariants(worker.app, pubsub_sandbox) == {"applied": 10}


def test_a_dropped_stream_is_resumed(
    pubsub_sandbox: SandboxHandle, make_worker: Callable[[], Worker]
) -> None:
    worker = make_worker()
    start(worker)
    swept_at = worker.last_sweep
    admin = pubsub_sandbox.admin()
    admin.set_faults({"cdc_drop_stream": 0.5, "seed": 5})
    ids: list[str] = []
    for _ in range(6):
        ids += admin.create_leads(5)
        time.sleep(0.2)
    wait_routed(pubsub_sandbox, ids)
    settle(worker)
    assert admin.fault_counts()["cdc_drop_stream"] >= 1
    assert worker.subscription.subscriber.streams > 1  # type: ignore[union-attr]
    routed_by_events_only(worker, swept_at)
    assert check_invariants(worker.app, pubsub_sandbox) == {"applied": 30}


def test_a_replay_id_past_retention_resubscribes_and_catches_up(
    pubsub_sandbox: SandboxHandle, make_worker: Callable[[], Worker]
) -> None:
    admin = pubsub_sandbox.admin()
    worker = make_worker()
    start(worker)
    first = admin.create_leads(5)
    wait_routed(pubsub_sandbox, first)
    settle(worker)
    old = stored(worker.app)
    worker.stop_subscription()
    missed = admin.create_leads(5)  # while nobody listens
    org = admin.org
    clock, now = org.clock, org.clock()
    org.clock = lambda: now + timedelta(hours=72, seconds=1)  # type: ignore[method-assign]
    try:
        worker.intake()  # subscribes again from the stored id: expired
        wait_routed(pubsub_sandbox, missed)  # the catch-up sweep
        later = admin.create_leads(5)  # and events flow again
        wait_routed(pubsub_sandbox, later)
        settle(worker)
    finally:
        org.clock = clock  # type: ignore[method-assign]
    assert worker.subscription.subscriber.streams >= 2  # type: ignore[union-attr]
    assert stored(worker.app) != old
    assert check_invariants(worker.app, pubsub_sandbox) == {"applied": 15}


def test_a_corrupted_replay_id_resubscribes_from_the_earliest(
    pubsub_sandbox: SandboxHandle, make_worker: Callable[[], Worker]
) -> None:
    admin = pubsub_sandbox.admin()
    worker = make_worker()
    with session_scope(worker.app.deps.engine) as s:
        state_repo.set_replay_id(s, TOPIC, b"not a replay id", worker_id="test")
    start(worker)
    ids = admin.create_leads(8)
    wait_routed(pubsub_sandbox, ids)
    settle(worker)
    presets = worker.subscription.subscriber  # type: ignore[union-attr]
    assert presets.streams >= 2
    assert stored(worker.app) not in (None, b"not a replay id")
    assert check_invariants(worker.app, pubsub_sandbox) == {"applied": 8}


def test_the_next_worker_resumes_from_the_stored_replay_id(
    pubsub_sandbox: SandboxHandle, make_worker: Callable[[], Worker]
) -> None:
    """A worker that takes over (here: after the first let its lease go) replays the
    events since the stored id: its sweep at start is skipped, so only they route."""
    admin = pubsub_sandbox.admin()
    active = make_worker()
    start(active)
    ids = admin.create_leads(5)
    wait_routed(pubsub_sandbox, ids)
    settle(active)
    active.stop_subscription()
    active.app.lease.release()
    standby = make_worker()
    more = admin.create_leads(5)  # between the two: replayed from the stored id
    standby.last_sweep = swept_at = time.monotonic()  # no sweep: the events alone
    start(standby)
    wait_routed(pubsub_sandbox, more)
    settle(standby)
    routed_by_events_only(standby, swept_at)
    assert check_invariants(standby.app, pubsub_sandbox) == {"applied": 10}


def test_an_expired_session_is_refreshed_and_the_stream_resumed(
    pubsub_sandbox: SandboxHandle, make_worker: Callable[[], Worker]
) -> None:
    admin = pubsub_sandbox.admin()
    worker = make_worker()
    start(worker)
    swept_at = worker.last_sweep
    sub = worker.subscription.subscriber  # type: ignore[union-attr]
    intake = worker.subscription.intake  # type: ignore[union-attr]
    before = intake.batches
    gone = admin.create_leads(1, owner_id=admin.user_ids()[MANAGER])  # not ours to route
    deadline = time.monotonic() + 20
    # its event handled (its schema fetched), not merely a keepalive checkpointed: else the
    # refused session may be met by the schema fetch on this stream, with no new stream
    while intake.batches == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert intake.batches > before, "the lead's create event never arrived"
    connection = worker.app.connection
    assert connection is not None
    tokens = connection.token_requests
    admin.expire_sessions()
    admin.set_faults({"cdc_drop_stream": 1.0})
    admin.delete_lead(gone[0])  # an event that calls for no REST call; then the stream drops
    deadline = time.monotonic() + 20
    while connection.token_requests == tokens and time.monotonic() < deadline:
        time.sleep(0.05)
    assert connection.token_requests > tokens, "the refused session was not refreshed"
    admin.set_faults({})
    ids = admin.create_leads(5)
    wait_routed(pubsub_sandbox, ids)
    settle(worker)
    # the dropped stream was opened again (whether the subscriber met the refused session
    # itself, or a REST call of the worker renewed the token first, is a race: the
    # subscriber's own refresh is tests/unit/sfdc/test_subscriber.py's)
    assert sub.streams >= 2
    routed_by_events_only(worker, swept_at)
    assert check_invariants(worker.app, pubsub_sandbox) == {"applied": 5}


@pytest.mark.postgres
def test_only_the_lease_holder_subscribes_and_a_standby_takes_over_from_the_stored_id(
    pubsub_sandbox: SandboxHandle, pg_url: str, subscribed_config: Path
) -> None:
    upgrade(pg_url)
    admin = pubsub_sandbox.admin()
    a = Worker(build_app(settings_for(pubsub_sandbox, pg_url, subscribed_config)))
    b = Worker(build_app(settings_for(pubsub_sandbox, pg_url, subscribed_config)))
    try:
        start(a)
        b.intake()
        assert b.role == "standby" and b.subscription is None  # a standby never subscribes
        first = admin.create_leads(5)
        wait_routed(pubsub_sandbox, first)
        settle(a)
        a.stop_subscription()  # the active worker goes away, its lease with it
        a.app.lease.release()
        more = admin.create_leads(5)  # while nobody is active
        b.last_sweep = swept_at = time.monotonic()  # no sweep: the stored replay id alone
        start(b)
        assert b.role == "active"
        wait_routed(pubsub_sandbox, more)
        settle(b)
        routed_by_events_only(b, swept_at)
        assert check_invariants(b.app, pubsub_sandbox) == {"applied": 10}
    finally:
        for worker in (a, b):
            worker.stop_subscription()
            worker.app.lease.release()
            worker.app.deps.engine.dispose()


# --- leads taken from their create events -------------------------------------------------
def route_one(worker: Worker, sandbox: SandboxHandle) -> int:
    """Create one lead, wait until it is routed and our write's event is in: the worker's
    API calls meanwhile."""
    calls = worker.app.deps.gateway.api_calls()
    ids = sandbox.admin().create_leads(1)
    wait_routed(sandbox, ids)
    settle(worker)
    return worker.app.deps.gateway.api_calls() - calls


def test_a_created_lead_is_routed_from_its_event_in_one_call(
    pubsub_sandbox: SandboxHandle, make_worker: Callable[[], Worker]
) -> None:
    worker = make_worker()
    start(worker)
    state = worker.app.deps.state
    route_one(worker, pubsub_sandbox)  # the first create: Lead described, once
    types = state.lead_types
    assert types, "Lead not described"
    state.lead_types = None  # as before: every lead read by Id
    before = route_one(worker, pubsub_sandbox)
    state.lead_types = types
    after = route_one(worker, pubsub_sandbox)
    # no read by Id, no owner re-read: one Composite call, its guard query run by
    # Salesforce just before the PATCH
    assert (before, after) == (3, 1)
    assert check_invariants(worker.app, pubsub_sandbox) == {"applied": 3}


FORMULA_RULE = """rules:
  - name: By industry
    when: [{field: Industry, not_blank: true}]
    action: {pool: sales}
"""


@pytest.fixture
def industry_a_formula(monkeypatch: pytest.MonkeyPatch) -> None:
    """Industry as a formula field: described and read, never in change events (set
    before the sandbox builds its change event schema)."""
    monkeypatch.setattr(pubsub_schema, "LEFT_OUT", pubsub_schema.LEFT_OUT | {"Industry"})


def test_a_lead_routed_by_a_field_its_event_lacks_is_read(
    industry_a_formula: None,
    pubsub_sandbox: SandboxHandle,
    make_worker: Callable[[], Worker],
    subscribed_config: Path,
) -> None:
    subscribed_config.write_text(subscribed_config.read_text().replace("rules:\n", FORMULA_RULE))
    worker = make_worker()
    start(worker)
    gateway = worker.app.deps.gateway
    read: list[str] = []
    real = gateway.leads_by_id

    def spy(ids: Any, fields: Any) -> Any:
        read.extend(ids)
        return real(ids, fields)

    gateway.leads_by_id = spy  # type: ignore[method-assign]
    ids = pubsub_sandbox.admin().create_leads(10)
    wait_routed(pubsub_sandbox, ids)
    settle(worker)
    assert sorted(read) == sorted(ids)  # every one read: its event cannot say its Industry
    assert check_invariants(worker.app, pubsub_sandbox) == {"applied": 10}
    admin = pubsub_sandbox.admin()
    industry = {i for i in ids if admin.get_lead(i).get("Industry")}
    assert industry, "no lead has an Industry: the rule is not exercised"
    rules = {r.lead_id: r.rule for r in journal(worker.app)}
    assert {i for i in ids if rules[i] == "By industry"} == industry
