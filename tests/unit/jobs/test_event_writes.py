"""A subscribed batch's owners written on a thread while the next batch is decided
(:mod:`worker.jobs.event_writes`): the guarantees of the inline write kept (fake org,
real store)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from tests.unit.jobs.conftest import REPS, a_config, uid
from tests.unit.jobs.fakes import PERSON_ID, FakeGateway
from tests.unit.jobs.test_sla_events import update
from tests.unit.jobs.test_subscribe import (
    TOPIC,
    created,
    journal,
    lead_id,
    stored,
    world,
)
from worker.jobs.deps import Deps
from worker.jobs.intake import run_cycle
from worker.jobs.precondition import CLOCK_SKEW
from worker.jobs.reconcile import reconcile_pending
from worker.jobs.subscribe import SETTLE_PAD, EventIntake
from worker.routing.model import SlaPolicy
from worker.sfdc.mapping import UserRow
from worker.sfdc.pubsub.subscriber import ChangeEvent

REP_IDS = {uid(k) for k in REPS}


class Gate:
    """Holds the next owner write on its thread until :meth:`open` (the fake's
    ``before_write`` hook, which runs on the writer's thread)."""

    def __init__(self, org: FakeGateway) -> None:
        self.reached, self._open = threading.Event(), threading.Event()
        org.before_write = self._hold

    def _hold(self) -> None:
        self.reached.set()
        assert self._open.wait(10), "the gate was never opened"

    def open(self) -> None:
        self._open.set()


@pytest.fixture
def piped(make_deps: Callable[..., Deps]) -> Iterator[EventIntake]:
    intake = EventIntake(make_deps(), TOPIC, sweep=lambda: None, writes_in_flight=2)
    yield intake
    intake.close()


def settle(intake: EventIntake) -> None:
    """Wait for the writes in flight and journal them (as a stream's end does)."""
    intake.drain()


def test_a_batch_is_journaled_and_its_replay_id_stored_before_its_write_lands(
    org: FakeGateway, piped: EventIntake
) -> None:
    org.add_lead(lead_id(1))
    org.tick(2)
    gate = Gate(org)
    event = created(org, 1)
    piped.handle([event], event.replay_id)  # returns with the write held on its thread
    assert gate.reached.wait(5)
    assert [r.status for r in journal(piped.deps)] == ["pending"]
    assert stored(piped.deps) == event.replay_id  # never ahead of the journal: it is there
    assert org.owner(lead_id(1)) not in REP_IDS
    gate.open()
    settle(piped)
    assert [r.status for r in journal(piped.deps)] == ["applied"]
    assert org.owner(lead_id(1)) in REP_IDS
    assert piped.deps.state.writing == {}


def test_a_reconcile_and_a_redelivery_leave_a_write_in_flight_alone(
    org: FakeGateway, piped: EventIntake
) -> None:
    deps = piped.deps
    org.add_lead(lead_id(1))
    org.tick(2)
    gate = Gate(org)
    event = created(org, 1)
    piped.handle([event], event.replay_id)
    assert gate.reached.wait(5)
    calls = dict(org.calls)
    with deps.lock:  # the sweep's reconcile, while the write is on its way
        out = reconcile_pending(deps, a_config(), (org.queues["Lead_Intake"],))
        report = run_cycle(deps)  # the sweep's own read: the lead is pending, not new
    assert not (out.applied or out.skipped or out.failed or out.left_pending)
    assert report.decided == 0
    assert org.calls.get("guarded") == calls.get("guarded")  # nothing sent a second time
    piped.handle([event], event.replay_id)  # delivered again: pending, routed nothing
    gate.open()
    settle(piped)
    assert [(r.lead_id, r.status) for r in journal(deps)] == [(lead_id(1), "applied")]
    assert org.calls.get("guarded") == 1


def test_the_next_batch_is_decided_while_the_last_ones_write_is_in_flight(
    org: FakeGateway, piped: EventIntake
) -> None:
    for n in (1, 2):
        org.add_lead(lead_id(n))
    org.tick(2)
    gate = Gate(org)
    first, second = created(org, 1), created(org, 2)
    piped.handle([first], first.replay_id)
    assert gate.reached.wait(5)
    piped.handle([second], second.replay_id)  # not held up by the first one's write
    rows = journal(piped.deps)
    assert [r.lead_id for r in rows] == [lead_id(1), lead_id(2)]
    assert rows[0].status == "pending"  # still on its way
    assert stored(piped.deps) == second.replay_id
    gate.open()
    settle(piped)
    assert [r.status for r in journal(piped.deps)] == ["applied", "applied"]
    assert {org.owner(lead_id(n)) for n in (1, 2)} <= REP_IDS


def test_a_write_that_fails_leaves_its_decision_pending_for_a_reconcile(
    org: FakeGateway, piped: EventIntake
) -> None:
    org.add_lead(lead_id(1))
    org.tick(2)

    def broken() -> None:
        raise RuntimeError("a bug on the writer's thread")

    org.before_write = broken
    event = created(org, 1)
    piped.handle([event], event.replay_id)
    settle(piped)  # the failure is logged, not raised into the stream
    assert [r.status for r in journal(piped.deps)] == ["pending"]
    assert piped.deps.state.writing == {}
    assert piped.reconcile_at is not None  # written by a reconcile soon, as possibly sent
    org.tick(20)
    piped.tick()
    assert [r.status for r in journal(piped.deps)] == ["applied"]
    assert org.owner(lead_id(1)) in REP_IDS


def test_a_persons_change_to_a_lead_being_written_is_judged_after_the_write(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """The owner change comes in a later batch while our write is still in flight: its
    outcome is journaled first, so the change closes the clock the write opened."""
    policy = SlaPolicy(minutes=10, max_hops=1, untouched_statuses=frozenset({"Open - Not Contacted"}))  # fmt: skip
    intake = EventIntake(make_deps(a_config(sla=policy)), TOPIC, sweep=lambda: None,
                         writes_in_flight=2)  # fmt: skip
    org.add_lead(lead_id(1))
    org.tick(2)
    landed = threading.Event()
    real = org.update_owners_guarded

    def slow(updates: object) -> object:
        out = real(updates)  # type: ignore[arg-type]
        landed.set()
        threading.Event().wait(0.3)  # the answer still on its way back
        return out

    org.update_owners_guarded = slow  # type: ignore[method-assign,assignment]
    event = created(org, 1)
    intake.handle([event], event.replay_id)
    assert landed.wait(5)
    org.set_owner(lead_id(1), PERSON_ID)
    change = update(lead_id(1), org.clock + timedelta(seconds=5), OwnerId=PERSON_ID)
    intake.handle([change], b"\x00\x00\x00\x09")
    (row,) = journal(intake.deps)
    assert row.status == "applied" and row.sla_state == "closed"
    intake.close()


def write_held_then_let_go(org: FakeGateway, intake: EventIntake, n: int) -> None:
    """Hand lead ``n``'s create event over; its write reaches the org and is held there,
    to be let go 0.2 s from now (while the caller waits for it)."""
    gate = Gate(org)
    event = created(org, n)
    intake.handle([event], event.replay_id)
    assert gate.reached.wait(5)
    threading.Timer(0.2, gate.open).start()


def test_closing_waits_for_the_writes_in_flight_and_journals_them(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    intake = EventIntake(make_deps(), TOPIC, sweep=lambda: None, writes_in_flight=2)
    org.add_lead(lead_id(1))
    org.tick(2)
    write_held_then_let_go(org, intake, 1)
    intake.close()
    assert [r.status for r in journal(intake.deps)] == ["applied"]


def test_a_stream_that_ends_journals_the_writes_in_flight_and_goes_on(
    org: FakeGateway, piped: EventIntake
) -> None:
    """The subscriber drains its handler when a stream ends: while it backs off no batch
    or tick comes to collect the writes, and the journal must not lag behind the org."""
    org.add_lead(lead_id(1))
    org.add_lead(lead_id(2))
    org.tick(2)
    write_held_then_let_go(org, piped, 1)
    piped.drain()
    assert [r.status for r in journal(piped.deps)] == ["applied"]
    assert not piped.deps.state.writing
    second = created(org, 2)  # the next stream's batches are written behind as before
    piped.handle([second], second.replay_id)
    piped.drain()
    assert [r.status for r in journal(piped.deps)] == ["applied", "applied"]


def test_written_behind_or_inline_the_same_batches_decide_and_write_the_same(
    tmp_path: Path,
) -> None:
    """One truth: the same batches in two fresh worlds, one writing each batch before
    the next, one writing them behind, end with the same journal and the same owners."""
    worlds = []
    for in_flight in (0, 3):
        org = FakeGateway(users=[UserRow(uid(k), k, k, k, True) for k in REPS])
        for n in range(1, 10):
            org.add_lead(lead_id(n), Country=("Germany", "France")[n % 2], NumberOfEmployees=n)
        org.tick(2)
        deps = world(tmp_path / str(in_flight), org)
        intake = EventIntake(deps, TOPIC, sweep=lambda: None, writes_in_flight=in_flight)
        for batch in ((1, 2), (3,), (4, 5, 6), (7,), (8, 9)):
            events = [created(org, n) for n in batch]
            intake.handle(events, events[-1].replay_id)
            intake.tick()
        intake.close()
        rows = journal(deps)
        owners = {lead_id(n): org.owner(lead_id(n)) for n in range(1, 10)}
        worlds.append(([(r.lead_id, r.owner_id, r.pool, r.status) for r in rows], owners))
    assert worlds[0] == worlds[1]
    assert {status for *_, status in worlds[0][0]} == {"applied"}
    assert len(worlds[0][0]) == 9


def test_an_applied_time_is_when_salesforce_answered_not_when_journaled(
    org: FakeGateway, piped: EventIntake
) -> None:
    org.add_lead(lead_id(1))
    org.tick(2)
    event = created(org, 1)
    piped.handle([event], event.replay_id)
    assert piped.writes is not None
    while not piped.writes.ready():
        threading.Event().wait(0.01)
    answered = org.clock
    org.tick(30)  # the outcome reaches the journal much later
    piped.tick()
    (row,) = journal(piped.deps)
    assert row.applied_at is not None
    assert abs(row.applied_at.replace(tzinfo=None) - answered.replace(tzinfo=None)) < timedelta(seconds=1)  # fmt: skip


def test_the_wait_for_the_creation_second_is_spent_on_the_writers_thread(
    org: FakeGateway, piped: EventIntake
) -> None:
    """Decided at once; written once Salesforce's clock has left the lead's second, in one
    guarded call, not held back for a reconcile (the long-running worker's settling on)."""
    deps = piped.deps
    deps.settling.enabled = True
    org.tick(0.4)  # created at .400 of a second
    org.add_lead(lead_id(1))
    stamp = org.clock
    sleeps: list[tuple[float, str]] = []

    def sleep(seconds: float) -> None:
        sleeps.append((seconds, threading.current_thread().name))
        org.tick(seconds)

    deps.sleep = sleep
    event = created(org, 1)
    header = replace(event.header, commit_timestamp=int(stamp.timestamp() * 1000))
    event = ChangeEvent(event.replay_id, header, event.fields, event.schema)
    piped.handle([event], event.replay_id)
    assert [r.status for r in journal(deps)] == ["pending"]  # decided, not waited for
    settle(piped)
    assert [r.status for r in journal(deps)] == ["applied"]
    ((waited, thread),) = sleeps
    assert thread.startswith("event-writes")
    assert waited == pytest.approx(0.6 + CLOCK_SKEW.total_seconds() + SETTLE_PAD)
    assert org.calls.get("guarded") == 1 and "owners" not in org.calls
    assert piped.reconcile_at is None
    applied = journal(deps)[0].applied_at
    assert applied is not None and applied.replace(tzinfo=None) > stamp.replace(tzinfo=None, microsecond=0) + timedelta(seconds=1)  # fmt: skip
