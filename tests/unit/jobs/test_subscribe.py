"""Change event batches routed through the intake's path (fake org, real store)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from tests.unit.jobs.conftest import MANAGER, REPS, a_config, uid
from tests.unit.jobs.fakes import LEAD_TYPES, FakeGateway
from tests.unit.sfdc.lead_events import create_event, lead_schema
from worker.jobs.deps import Deps
from worker.jobs.directory import Directory
from worker.jobs.event_leads import DESCRIBE_RETRY
from worker.jobs.precondition import CLOCK_SKEW, LONGEST_WAIT
from worker.jobs.subscribe import SETTLE_MARGIN, EventIntake, leads_to_route, settle_wait
from worker.sfdc.errors import SfdcPermanentError, SfdcTransientError
from worker.sfdc.ids import to18
from worker.sfdc.mapping import UserRow
from worker.sfdc.pubsub.events import ChangeHeader
from worker.sfdc.pubsub.subscriber import ChangeEvent
from worker.store import state_repo
from worker.store.db import make_engine, session_scope, upgrade
from worker.store.models import JournalRow

REP_IDS = {uid(k) for k in REPS}
TOPIC = "/data/LeadChangeEvent"
OURS = "com/salesforce/api/rest/62.0;client=leadrouter"


def change(n: int, kind: str = "CREATE", *ids: str, origin: str = "", changed: tuple[str, ...] = (), owner: str | None = None) -> ChangeEvent:  # fmt: skip
    header = ChangeHeader(
        entity="Lead", record_ids=ids or (f"00Q{n}",), change_type=kind,
        change_origin=origin or "com/salesforce/api/rest/62.0", transaction_key=f"t{n}",
        sequence_number=1, commit_timestamp=0, commit_number=n, commit_user="005",
        changed=changed, nulled=(), diff=(),
    )  # fmt: skip
    return ChangeEvent(n.to_bytes(4, "big"), header, {"OwnerId": owner})


def journal(deps: Deps) -> list[JournalRow]:
    with Session(deps.engine) as s:
        return list(s.exec(select(JournalRow).order_by(JournalRow.id)).all())  # type: ignore[arg-type]


def stored(deps: Deps) -> bytes | None:
    with session_scope(deps.engine) as s:
        return state_repo.get_replay_id(s, TOPIC)


@pytest.fixture
def sweeps() -> list[bytes | None]:
    return []


@pytest.fixture
def intake(make_deps: Callable[..., Deps], sweeps: list[bytes | None]) -> EventIntake:
    deps = make_deps()
    return EventIntake(deps, TOPIC, sweep=lambda: sweeps.append(stored(deps)))


def test_which_events_name_leads_to_route() -> None:
    events = [
        change(1),
        change(2, "UPDATE"),  # a field changed: not a new lead
        change(3, "UPDATE", changed=("OwnerId", "LastModifiedDate")),  # back in a queue?
        change(4, "DELETE"),
        change(5, "UPDATE", changed=("OwnerId",), origin=OURS),  # our own write
        change(6, "GAP_UPDATE"),  # values unknown: re-read
        change(7, "UNDELETE"),
        change(8, "GAP_OVERFLOW", "00Q*"),
        change(9, "CREATE", "00Q1"),  # the same lead again: once
    ]
    assert leads_to_route(events) == ["00Q1", "00Q3", "00Q6", "00Q7"]


def test_events_naming_another_owner_need_no_read() -> None:
    queue = "00G000000000001AAA"
    events = [
        change(1, owner=queue),
        change(2, owner=uid(REPS[0])),  # created for a rep
        change(3, "UPDATE", changed=("OwnerId",), owner=uid(REPS[1])),  # a person's reassignment
        change(4, "UPDATE", changed=("OwnerId",), owner=queue[:15]),  # back in the queue
        change(5, "GAP_CREATE"),  # no values: read
    ]
    assert leads_to_route(events, [queue, "005000000000009AAA"]) == ["00Q1", "00Q4", "00Q5"]


def test_a_batch_is_routed_once_and_its_replay_id_stored_after_the_journal(
    org: FakeGateway, intake: EventIntake
) -> None:
    for n in (1, 2, 3):
        org.add_lead(f"00Q{n}")
    org.add_lead("00Q4", owner=uid(REPS[0]))  # created straight to a rep: not ours to route
    org.tick(2)
    reads: list[list[str]] = []
    real = org.leads_by_id

    def spy(ids: list[str], fields: object) -> object:
        reads.append(list(ids))
        return real(ids, fields)  # type: ignore[arg-type]

    org.leads_by_id = spy  # type: ignore[method-assign,assignment]
    events = [change(1), change(2), change(3), change(4)]
    intake.handle(events, events[-1].replay_id)
    rows = journal(intake.deps)
    assert sorted(r.lead_id for r in rows) == ["00Q1", "00Q2", "00Q3"]
    assert {r.status for r in rows} == {"applied"}
    assert {org.owner(f"00Q{n}") for n in (1, 2, 3)} <= REP_IDS
    assert org.owner("00Q4") == uid(REPS[0])
    assert stored(intake.deps) == events[-1].replay_id
    assert reads == [["00Q1", "00Q2", "00Q3", "00Q4"]]  # one read by Id for the batch
    # delivered again (a restart before the replay id was stored): nothing routed twice
    intake.handle(events, events[-1].replay_id)
    assert len(journal(intake.deps)) == 3


def test_our_own_writes_never_route_again(org: FakeGateway, intake: EventIntake) -> None:
    org.add_lead("00Q1")
    org.tick(2)
    intake.handle([change(1)], change(1).replay_id)
    org.set_owner("00Q1", org.queues["Lead_Intake"])  # as if it were back: still ours
    mine = change(2, "UPDATE", "00Q1", origin=OURS, changed=("OwnerId",))
    intake.handle([mine], mine.replay_id)
    assert len(journal(intake.deps)) == 1
    assert stored(intake.deps) == mine.replay_id


def test_an_overflow_sweeps_before_the_replay_id_moves(
    org: FakeGateway, intake: EventIntake, sweeps: list[bytes | None]
) -> None:
    first = change(1, "DELETE")
    intake.handle([first], first.replay_id)
    overflow = change(2, "GAP_OVERFLOW", "00Q*")
    intake.handle([overflow], overflow.replay_id)
    assert sweeps == [first.replay_id]  # swept while the stored id was still the old one
    assert stored(intake.deps) == overflow.replay_id


def test_a_gap_event_rereads_its_lead(org: FakeGateway, intake: EventIntake) -> None:
    org.add_lead("00Q1")
    org.tick(2)
    gap = change(1, "GAP_CREATE")
    intake.handle([gap], gap.replay_id)
    assert [r.status for r in journal(intake.deps)] == ["applied"]


def test_a_failed_batch_leaves_the_replay_id_where_it_was(
    org: FakeGateway, intake: EventIntake
) -> None:
    org.add_lead("00Q1")

    def down(*_args: object) -> list[object]:
        raise RuntimeError("org unreachable")

    org.leads_by_id = down  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        intake.handle([change(1)], change(1).replay_id)
    assert stored(intake.deps) is None


def test_catch_ups_run_at_the_next_tick(intake: EventIntake, sweeps: list[bytes | None]) -> None:
    intake.catch_up("stored replay id refused")
    assert sweeps == []
    intake.tick()
    intake.tick()
    assert sweeps == [None]


def test_a_lead_left_to_settle_is_written_by_a_reconcile_once_settled(
    org: FakeGateway, intake: EventIntake
) -> None:
    deps = intake.deps
    deps.settling.enabled = True
    org.add_lead("00Q1")  # created this very second: its write waits for the next one
    intake.handle([change(1)], change(1).replay_id)
    assert [r.status for r in journal(deps)] == ["pending"]
    assert intake.reconcile_at is not None
    intake.tick()  # not yet settled
    assert [r.status for r in journal(deps)] == ["pending"]
    org.tick(3)
    intake.tick()
    assert [r.status for r in journal(deps)] == ["applied"]
    assert org.owner("00Q1") in REP_IDS


def created_at(n: int, at_ms: int, lead: str | None = None, origin: str = "") -> ChangeEvent:
    event = change(n, "CREATE", lead or f"00Q{n}", origin=origin)
    header = replace(event.header, commit_timestamp=at_ms)
    return ChangeEvent(event.replay_id, header, event.fields)


def test_a_batch_waits_until_its_newest_change_second_is_over_by_our_clock() -> None:
    now = datetime(2026, 11, 23, 14, 0, 0, 700_000, tzinfo=UTC)
    second_ms = int(now.replace(microsecond=0).timestamp()) * 1000
    events = [created_at(1, second_ms - 400), created_at(2, second_ms + 500)]
    # the newest (00Q2) at .500 of this second: over at the next second, + skew + margin
    over = 1 + CLOCK_SKEW.total_seconds() + SETTLE_MARGIN
    assert settle_wait(events, ["00Q1", "00Q2"], now) == pytest.approx(over - 0.7)
    assert settle_wait(events, ["00Q1"], now) == 0.0  # its second is long over
    ours = created_at(3, second_ms + 900, origin=OURS)
    assert settle_wait([ours], ["00Q3"], now) == 0.0  # our own writes route nothing
    assert settle_wait([change(4)], ["00Q4"], now) == 0.0  # no commit time: no wait
    ahead = created_at(5, second_ms + 60_000)  # clocks a minute apart: capped
    assert settle_wait([ahead], ["00Q5"], now) == LONGEST_WAIT
    # by a bound on Salesforce's clock: no margin for our clock's distance from it
    bound = 1 + CLOCK_SKEW.total_seconds() - 0.7
    assert settle_wait(events, ["00Q2"], now, margin=0.0) == pytest.approx(bound)


def test_the_wait_is_by_salesforces_clock_once_its_answers_bound_it(
    org: FakeGateway, intake: EventIntake
) -> None:
    org.tick(0.4)
    org.add_lead("00Q1")
    event = created_at(1, int(org.clock.timestamp() * 1000))
    waits: list[float] = []
    real_sleep = intake.deps.sleep

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        real_sleep(seconds)

    intake.deps.sleep = sleep
    intake.handle([event], event.replay_id)
    # the fake org's clock is Salesforce's: from .400, the rest of the second and the skew
    assert waits[0] == pytest.approx(0.6 + CLOCK_SKEW.total_seconds())


def test_a_fresh_lead_waits_once_and_is_written_on_its_first_owner_reread(
    org: FakeGateway, intake: EventIntake
) -> None:
    org.tick(0.4)  # created at .400 of a second: a re-read now would come in that second
    org.add_lead("00Q1")
    created = int(org.clock.timestamp() * 1000)
    event = created_at(1, created)
    intake.handle([event], event.replay_id)
    assert [r.status for r in journal(intake.deps)] == ["applied"]  # no hold, no reconcile
    assert org.calls.get("owners") == 1  # one owner re-read: after the second was over
    assert org.clock.timestamp() >= created // 1000 + 1 + CLOCK_SKEW.total_seconds()
    assert intake.reconcile_at is None


def test_without_a_commit_time_a_fresh_lead_is_reread_once_its_second_is_over(
    org: FakeGateway, intake: EventIntake
) -> None:
    org.tick(0.4)
    org.add_lead("00Q1")
    event = change(1)  # no commitTimestamp: no wait, the write path waits and re-reads
    intake.handle([event], event.replay_id)
    assert [r.status for r in journal(intake.deps)] == ["applied"]
    assert org.calls.get("owners") == 2  # the first re-read came in the creation's second


# --- leads taken from their create events (no read by Id) -------------------------------
SCHEMA = lead_schema(LEAD_TYPES)


def lead_id(n: int) -> str:
    return to18(f"00Q{n:012d}")


def created(org: FakeGateway, n: int, **kw: Any) -> ChangeEvent:
    """The create event of the fake org's lead ``n``, as Salesforce would send it."""
    return create_event(org.leads[lead_id(n)], LEAD_TYPES, SCHEMA, n=n, **kw)


def spy_reads(org: FakeGateway) -> list[list[str]]:
    reads: list[list[str]] = []
    real = org.leads_by_id

    def spy(ids: list[str], fields: object) -> object:
        reads.append(list(ids))
        return real(ids, fields)  # type: ignore[arg-type]

    org.leads_by_id = spy  # type: ignore[method-assign,assignment]
    return reads


def test_a_created_lead_is_routed_from_its_event_without_a_read(
    org: FakeGateway, intake: EventIntake
) -> None:
    for n in (1, 2):
        org.add_lead(lead_id(n), Country="Germany", NumberOfEmployees=40)
    org.tick(2)
    reads = spy_reads(org)
    first = created(org, 1)
    intake.handle([first], first.replay_id)
    second = created(org, 2)
    intake.handle([second], second.replay_id)
    assert reads == []
    rows = journal(intake.deps)
    assert [(r.lead_id, r.status) for r in rows] == [(lead_id(1), "applied"), (lead_id(2), "applied")]  # fmt: skip
    assert {org.owner(lead_id(n)) for n in (1, 2)} <= REP_IDS
    assert org.calls.get("describe") == 1  # once per worker
    # each written in one guarded call: Salesforce's own query before the PATCH, no re-read
    assert org.calls.get("guarded") == 2 and "owners" not in org.calls


def test_a_redelivered_create_is_read_and_routes_nothing_again(
    org: FakeGateway, intake: EventIntake
) -> None:
    org.add_lead(lead_id(1))
    org.tick(2)
    event = created(org, 1)
    intake.handle([event], event.replay_id)
    reads = spy_reads(org)
    intake.handle([event], event.replay_id)  # a restart before the replay id was stored
    assert reads == [[lead_id(1)]]  # journaled already: its payload is stale, read
    assert len(journal(intake.deps)) == 1


def test_a_lead_changed_later_in_the_batch_is_read(org: FakeGateway, intake: EventIntake) -> None:
    for n in (1, 2):
        org.add_lead(lead_id(n))
    org.tick(2)
    reads = spy_reads(org)
    update = created(org, 2, kind="UPDATE")
    events = [created(org, 1), created(org, 2), update]
    intake.handle(events, events[-1].replay_id)
    assert reads == [[lead_id(2)]]
    assert [r.status for r in journal(intake.deps)] == ["applied", "applied"]


def test_without_the_describe_every_lead_is_read_and_the_failure_logged_once(
    org: FakeGateway, intake: EventIntake, caplog: pytest.LogCaptureFixture
) -> None:
    def down(_sobject: str) -> None:
        org._count("describe")
        raise SfdcTransientError("unavailable")

    org.describe_object = down  # type: ignore[method-assign,assignment]
    for n in (1, 2):
        org.add_lead(lead_id(n), Email="someone@example.com")
    org.tick(2)
    reads = spy_reads(org)
    with caplog.at_level(logging.WARNING, logger="leadrouter.subscribe"):
        for n in (1, 2):
            event = created(org, n)
            intake.handle([event], event.replay_id)
    assert reads == [[lead_id(1)], [lead_id(2)]]
    assert [r.status for r in journal(intake.deps)] == ["applied", "applied"]
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "someone" not in warned[0].getMessage()
    assert org.calls.get("describe") == 1


def test_a_describe_that_failed_in_transit_is_asked_again_later(
    org: FakeGateway, intake: EventIntake
) -> None:
    real = org.describe_object
    outage = [True]

    def flaky(sobject: str) -> object:
        if outage[0]:
            org._count("describe")
            raise SfdcTransientError("unavailable")
        return real(sobject)

    org.describe_object = flaky  # type: ignore[method-assign,assignment]
    for n in (1, 2, 3):
        org.add_lead(lead_id(n))
    org.tick(2)
    reads = spy_reads(org)
    first = created(org, 1)
    intake.handle([first], first.replay_id)
    outage[0] = False  # Salesforce is back, but the retry is not due yet
    second = created(org, 2)
    intake.handle([second], second.replay_id)
    assert reads == [[lead_id(1)], [lead_id(2)]] and org.calls["describe"] == 1
    org.tick(DESCRIBE_RETRY)
    third = created(org, 3)
    intake.handle([third], third.replay_id)
    assert reads == [[lead_id(1)], [lead_id(2)]]  # the third taken from its event
    assert org.calls["describe"] == 2


def test_a_refused_describe_is_not_asked_again(org: FakeGateway, intake: EventIntake) -> None:
    def refused(_sobject: str) -> None:
        org._count("describe")
        raise SfdcPermanentError("INSUFFICIENT_ACCESS", status=403)

    org.describe_object = refused  # type: ignore[method-assign,assignment]
    for n in (1, 2):
        org.add_lead(lead_id(n))
    org.tick(2)
    first = created(org, 1)
    intake.handle([first], first.replay_id)
    org.tick(DESCRIBE_RETRY)
    second = created(org, 2)
    intake.handle([second], second.replay_id)
    assert org.calls["describe"] == 1


def test_leads_route_the_same_read_or_taken_from_their_events(tmp_path: Path) -> None:
    """One truth: the same batch in two fresh worlds, one reading every lead, one taking
    them from their events (but the one an update follows), decides the same."""
    outcomes = []
    for from_events in (False, True):
        org = FakeGateway(users=[UserRow(uid(k), k, k, k, True) for k in (*REPS, MANAGER)])
        if not from_events:
            org.lead_types = None  # no describe: every lead read
        for n in range(1, 7):
            org.add_lead(lead_id(n), Country=("Germany", "France")[n % 2], NumberOfEmployees=n)
        org.tick(2)
        deps = world(tmp_path / str(from_events), org)
        intake = EventIntake(deps, TOPIC, sweep=lambda: None)
        events = [*(created(org, n) for n in range(1, 7)), created(org, 3, kind="UPDATE")]
        reads = spy_reads(org)
        intake.handle(events, events[-1].replay_id)
        read = [i for ids in reads for i in ids]
        assert read == ([lead_id(3)] if from_events else [lead_id(n) for n in range(1, 7)])
        rows = journal(deps)
        outcomes.append([(r.lead_id, r.owner_id, r.pool, r.rule, r.status) for r in rows])
    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0]) == 6


def world(folder: Path, org: FakeGateway) -> Deps:
    folder.mkdir()
    url = f"sqlite:///{folder}/leadrouter.db"
    upgrade(url)
    config = a_config()
    return Deps(
        engine=make_engine(url), gateway=org, directory=Directory(org),
        config=lambda _s: config, worker_id="test", now=lambda: org.clock,
        **org.clock_ports(),
    )  # fmt: skip


def _calls_at_the_wait(org: FakeGateway, intake: EventIntake, kind: str) -> list[int]:
    """Route lead 1 (already added) from its create event, committed now, at .400 of a
    second: the count of ``kind`` calls made when each wait began."""
    at_sleep: list[int] = []
    slept = intake.deps.sleep

    def sleep(seconds: float) -> None:
        at_sleep.append(org.calls.get(kind, 0))
        slept(seconds)

    intake.deps.sleep = sleep
    event = created(org, 1)
    committed = int(org.clock.timestamp() * 1000)
    event = replace(event, header=replace(event.header, commit_timestamp=committed))
    intake.handle([event], event.replay_id)
    assert [r.status for r in journal(intake.deps)] == ["applied"]
    return at_sleep


def test_the_wait_looks_up_the_new_leads_emails_so_the_decision_finds_them_cached(
    org: FakeGateway, intake: EventIntake
) -> None:
    org.tick(0.4)  # created at .400: the batch waits for the rest of the second
    org.add_lead(lead_id(1), Email="ana@northwind.example")
    seen_at_sleep = _calls_at_the_wait(org, intake, "contacts")
    assert seen_at_sleep and seen_at_sleep[0] == 1  # looked up before the wait ran out
    assert org.calls.get("contacts") == 1  # and not again by the decision


def test_the_wait_reloads_the_open_lead_counts_when_due_not_the_decision(
    org: FakeGateway, intake: EventIntake
) -> None:
    org.tick(0.4)
    org.add_lead(lead_id(1))
    intake.deps.caches.open_leads.loaded_at = float("-inf")  # due for its aggregate
    aggregates_at_sleep = _calls_at_the_wait(org, intake, "aggregate")
    assert aggregates_at_sleep == [1]  # reloaded during the wait
    assert org.calls.get("aggregate") == 1  # the decision found them fresh
