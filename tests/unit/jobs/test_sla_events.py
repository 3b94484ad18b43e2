"""Open SLA clocks followed by change events: a person's status change records the touch
at its commit time, an owner change closes the clock; no API call (fake org, real store)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from tests.unit.jobs.conftest import REPS, a_config, uid
from tests.unit.jobs.fakes import PERSON_ID, FakeGateway
from tests.unit.jobs.test_intake import journal
from worker.jobs.deps import Deps
from worker.jobs.intake import run_cycle
from worker.jobs.sla import run_sla_sweep
from worker.jobs.sla_events import lead_changes, record_sla_events
from worker.jobs.subscribe import EventIntake
from worker.routing.model import SlaPolicy
from worker.sfdc.pubsub.events import ChangeHeader
from worker.sfdc.pubsub.subscriber import ChangeEvent
from worker.store.models import JournalRow

OURS = "com/salesforce/api/rest/62.0;client=leadrouter"
A_PERSON = "com/salesforce/api/rest/62.0"
WORKING = "Working - Contacted"
UNTOUCHED = "Open - Not Contacted"


def update(lead_id: str, at: datetime, origin: str = A_PERSON, **fields: str) -> ChangeEvent:
    """A person's (or, ``origin=OURS``, our) update of ``fields`` committed at ``at``."""
    header = ChangeHeader(
        entity="Lead", record_ids=(lead_id,), change_type="UPDATE", change_origin=origin,
        transaction_key="t", sequence_number=1, commit_timestamp=int(at.timestamp() * 1000),
        commit_number=1, commit_user=PERSON_ID, changed=(*fields, "LastModifiedDate"),
        nulled=(), diff=(),
    )  # fmt: skip
    return ChangeEvent(b"\x00\x01", header, dict(fields))


@pytest.fixture
def deps(org: FakeGateway, make_deps: Callable[..., Deps]) -> Deps:
    policy = SlaPolicy(minutes=10, max_hops=1, untouched_statuses=frozenset({UNTOUCHED, "New"}))
    deps = make_deps(a_config(sla=policy))
    org.add_lead("00QA")
    run_cycle(deps)
    assert org.owner("00QA") in {uid(k) for k in REPS}
    return deps


def the_row(deps: Deps) -> JournalRow:
    (row,) = journal(deps)
    return row


def assigned(deps: Deps) -> datetime:
    at = the_row(deps).applied_at
    assert at is not None
    return at


def test_a_status_change_to_a_worked_status_is_the_first_touch_at_its_commit_time(
    org: FakeGateway, deps: Deps
) -> None:
    org.tick(90)
    at = org.clock.replace(microsecond=0)
    before = dict(org.calls)
    report = record_sla_events(deps, [update("00QA", at, Status=WORKING)])
    assert (report.touched, report.closed) == (1, 0) and org.calls == before
    row = the_row(deps)
    assert row.sla_state == "touched" and row.first_touch_at is not None
    assert row.first_touch_at.replace(tzinfo=None) == at.replace(tzinfo=None)


def test_a_status_change_to_another_untouched_status_is_no_touch(
    org: FakeGateway, deps: Deps
) -> None:
    org.tick(90)
    assert record_sla_events(deps, [update("00QA", org.clock, Status="New")]).touched == 0
    assert the_row(deps).sla_state == "open"


def test_our_own_writes_are_passed_over(org: FakeGateway, deps: Deps) -> None:
    org.tick(90)
    events = [update("00QA", org.clock, OURS, Status=WORKING, OwnerId=PERSON_ID)]
    assert lead_changes(events) == []
    record_sla_events(deps, events)
    assert the_row(deps).sla_state == "open"


def test_a_person_taking_the_lead_closes_its_clock(org: FakeGateway, deps: Deps) -> None:
    org.tick(90)
    report = record_sla_events(deps, [update("00QA", org.clock, OwnerId=PERSON_ID)])
    assert (report.touched, report.closed) == (0, 1)
    assert the_row(deps).sla_state == "closed"
    org.tick(20 * 60)
    assert run_sla_sweep(deps, subscribed=True).moved == 0  # nothing left to act on


def test_changes_committed_before_the_assignment_tell_nothing(org: FakeGateway, deps: Deps) -> None:
    earlier = assigned(deps) - timedelta(minutes=5)
    events = [update("00QA", earlier, Status=WORKING), update("00QA", earlier, OwnerId=PERSON_ID)]
    assert record_sla_events(deps, events) == record_sla_events(deps, [])
    assert the_row(deps).sla_state == "open"


def test_an_owner_change_to_the_owner_itself_keeps_the_clock(org: FakeGateway, deps: Deps) -> None:
    org.tick(90)
    owner = org.owner("00QA")
    assert record_sla_events(deps, [update("00QA", org.clock, OwnerId=owner)]).closed == 0
    assert the_row(deps).sla_state == "open"


def test_a_touched_clock_is_never_touched_again(org: FakeGateway, deps: Deps) -> None:
    org.tick(60)
    first = org.clock.replace(microsecond=0)
    record_sla_events(deps, [update("00QA", first, Status=WORKING)])
    org.tick(60)
    assert record_sla_events(deps, [update("00QA", org.clock, Status="Qualified")]).touched == 0
    touched_at = the_row(deps).first_touch_at
    assert touched_at is not None and touched_at.replace(tzinfo=None) == first.replace(tzinfo=None)


def test_the_event_intake_records_touches_of_each_batch(org: FakeGateway, deps: Deps) -> None:
    intake = EventIntake(deps, "/data/LeadChangeEvent", sweep=lambda: None)
    org.tick(90)
    at = org.clock.replace(microsecond=0)
    before = dict(org.calls)
    intake.handle([update("00QA", at, Status=WORKING)], b"\x00\x02")
    assert org.calls == before  # a status change routes nothing and reads nothing
    row = the_row(deps)
    assert row.sla_state == "touched" and row.first_touch_at is not None
    assert row.first_touch_at.replace(tzinfo=None) == at.replace(tzinfo=None)
