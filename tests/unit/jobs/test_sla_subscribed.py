"""The SLA sweep when the worker follows change events: Salesforce is read only for the
clocks that come due (their due time, or a reminder before it); polling reads every open
clock at every sweep, as it always did (fake org, real store)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

import pytest
from sqlmodel import Session, select

from tests.unit.jobs.conftest import REPS, a_config, an_sla, uid
from tests.unit.jobs.fakes import FakeGateway
from tests.unit.jobs.test_intake import journal
from worker.jobs.deps import Deps
from worker.jobs.intake import run_cycle
from worker.jobs.sla import run_sla_sweep
from worker.notify.model import Channel, EventKind, EventRoute, NotifySettings
from worker.sfdc.mapping import LeadRow
from worker.store import journal_repo
from worker.store.db import session_scope
from worker.store.models.outbox import OutboxMessage

MINUTES = 10  # the pool's SLA
REMIND_AT = 0.5  # reminders half-way through the window


@pytest.fixture
def reads(org: FakeGateway) -> list[list[str]]:
    """The lead Ids of every read by Id, in turn."""
    seen: list[list[str]] = []
    real = org.leads_by_id

    def leads_by_id(lead_ids: Iterable[str], fields: Sequence[str]) -> list[LeadRow]:
        ids = list(lead_ids)
        seen.append(ids)
        return real(ids, fields)

    org.leads_by_id = leads_by_id  # type: ignore[method-assign]
    return seen


def route(org: FakeGateway, deps: Deps, lead_id: str) -> None:
    org.add_lead(lead_id)
    run_cycle(deps)
    assert org.owner(lead_id) in {uid(k) for k in REPS}


def a_deps(make_deps: Callable[..., Deps]) -> Deps:
    return make_deps(a_config(sla=an_sla(minutes=MINUTES, max_hops=1)))


def reminding(deps: Deps, *, routed: bool = True) -> Deps:
    """Reminders by e-mail to the owner (``routed=False``: no route for them)."""
    events = {EventKind.SLA_REMINDER: EventRoute(("owner",), ("mail",))} if routed else {}
    deps.notify = NotifySettings(
        reminder_at=REMIND_AT, channels={"mail": Channel("mail", "email")}, events=events
    )
    return deps


def outbox(deps: Deps) -> list[tuple[str, int | None]]:
    with Session(deps.engine) as s:
        return [(m.event, m.decision_id) for m in s.exec(select(OutboxMessage)).all()]


def test_subscribed_nothing_due_makes_no_call(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    deps = a_deps(make_deps)
    route(org, deps, "00QA")
    org.tick((MINUTES - 1) * 60)
    before = dict(org.calls)
    report = run_sla_sweep(deps, subscribed=True)
    assert org.calls == before and report.checked == 0
    assert [r.sla_state for r in journal(deps)] == ["open"]
    assert run_sla_sweep(deps).checked == 1  # polling reads it (the same moment)
    assert org.calls != before


def test_subscribed_a_due_clock_is_read_and_its_breach_acts_as_polling(
    org: FakeGateway, make_deps: Callable[..., Deps], reads: list[list[str]]
) -> None:
    deps = a_deps(make_deps)
    route(org, deps, "00QA")
    first = org.owner("00QA")
    org.tick(MINUTES / 2 * 60)
    route(org, deps, "00QB")  # its clock runs half a window behind
    org.tick((MINUTES / 2 + 1) * 60)
    reads.clear()
    report = run_sla_sweep(deps, subscribed=True)
    assert report.checked == 1 and report.moved == 1 and report.applied == 1
    assert reads[0] == ["00QA"]  # the due clock only
    assert org.owner("00QA") != first
    by_lead = {(r.lead_id, r.kind): r.sla_state for r in journal(deps)}
    assert by_lead[("00QA", "route")] == "moved"
    assert by_lead[("00QB", "route")] == "open"


def test_subscribed_a_task_is_found_at_the_due_time_with_its_own_time(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    deps = a_deps(make_deps)
    route(org, deps, "00QA")
    owner = org.owner("00QA")
    org.tick(60)
    logged = org.clock
    org.tasks["00QA"] = logged  # a call logged; the lead's fields unchanged: no event
    org.tick(MINUTES * 60)
    report = run_sla_sweep(deps, subscribed=True)
    assert (report.touched, report.moved) == (1, 0) and org.owner("00QA") == owner
    (row,) = journal(deps)
    assert row.sla_state == "touched" and row.first_touch_at is not None
    assert row.first_touch_at.replace(tzinfo=None) == logged.replace(tzinfo=None)


def test_subscribed_a_reminder_due_checks_the_touch_first(
    org: FakeGateway, make_deps: Callable[..., Deps], reads: list[list[str]]
) -> None:
    deps = reminding(a_deps(make_deps))
    route(org, deps, "00QA")
    route(org, deps, "00QB")
    org.tick(MINUTES * REMIND_AT * 60 / 2)
    org.tasks["00QA"] = org.clock  # the first lead was worked before its reminder
    org.tick(MINUTES * REMIND_AT * 60 / 2 + 1)
    reads.clear()
    report = run_sla_sweep(deps, subscribed=True)
    assert sorted(reads[0]) == ["00QA", "00QB"]  # both reminders due, not the clocks
    assert (report.touched, report.reminded, report.moved) == (1, 1, 0)
    rows = {r.lead_id: r for r in journal(deps)}
    assert rows["00QA"].sla_state == "touched"
    assert outbox(deps) == [(EventKind.SLA_REMINDER.value, rows["00QB"].id)]
    before = dict(org.calls)
    assert run_sla_sweep(deps, subscribed=True).checked == 0  # reminded: nothing due
    assert org.calls == before


def test_subscribed_a_reminder_with_nowhere_to_go_is_not_due(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """No route for reminders: the lead is not read until its due time (else it would be
    read at every sweep, a reminder never being queued)."""
    deps = reminding(a_deps(make_deps), routed=False)
    route(org, deps, "00QA")
    org.tick((MINUTES - 1) * 60)
    before = dict(org.calls)
    assert run_sla_sweep(deps, subscribed=True).checked == 0
    assert org.calls == before and outbox(deps) == []


def test_polling_reads_every_open_clock_at_every_sweep(
    org: FakeGateway, make_deps: Callable[..., Deps], reads: list[list[str]]
) -> None:
    deps = a_deps(make_deps)
    route(org, deps, "00QA")
    route(org, deps, "00QB")
    reads.clear()
    for _ in range(2):
        org.tick(60)
        assert run_sla_sweep(deps).checked == 2
    assert [sorted(r) for r in reads] == [["00QA", "00QB"]] * 2


def test_the_due_query_takes_only_open_applied_clocks_due_by_now(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    deps = a_deps(make_deps)
    route(org, deps, "00QA")
    (row,) = journal(deps)
    assert row.sla_due_at is not None
    due: datetime = row.sla_due_at
    with session_scope(deps.engine) as s:
        assert journal_repo.sla_due(s, due - timedelta(seconds=1)) == []
        assert [r.id for r in journal_repo.sla_due(s, due)] == [row.id]
        journal_repo.set_sla_state(s, [row.id or 0], "touched")
    with session_scope(deps.engine) as s:
        assert journal_repo.sla_due(s, due + timedelta(days=1)) == []
