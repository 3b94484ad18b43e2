"""Crash windows: a decision journalled ``pending`` whose write may or may not have landed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.unit.jobs.conftest import REPS, a_config
from tests.unit.jobs.fakes import WORKER_USER_ID, FakeGateway
from tests.unit.jobs.test_intake import journal
from worker.jobs.deps import Deps
from worker.jobs.intake import run_cycle
from worker.store.db import session_scope
from worker.store.state_repo import load_state


class Crash(BaseException):
    """Stands in for kill -9 (not an Exception: nothing may catch it)."""


def crash_on_write(org: FakeGateway, *, after_write: bool) -> None:
    real = org.update_owners

    def write(updates, **conditions):  # type: ignore[no-untyped-def]
        org.update_owners = real  # type: ignore[method-assign]
        if after_write:
            real(updates, **conditions)
        raise Crash

    org.update_owners = write  # type: ignore[method-assign]


@pytest.mark.parametrize("after_write", [False, True])
def test_crash_around_the_write_ends_with_exactly_one_owner(
    org: FakeGateway, make_deps: Callable[..., Deps], after_write: bool
) -> None:
    for i in range(5):
        org.add_lead(f"00Q{i}")
    crash_on_write(org, after_write=after_write)
    with pytest.raises(Crash):
        run_cycle(make_deps())
    assert {r.status for r in journal(make_deps())} == {"pending"}
    run_cycle(make_deps())  # restart
    rows = journal(make_deps())
    assert len(rows) == 5 and {r.status for r in rows} == {"applied"}
    assert all(org.owner(r.lead_id) == r.owner_id for r in rows)


def test_pending_lead_taken_by_a_human_meanwhile_is_skipped(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    org.add_lead("00QA")
    crash_on_write(org, after_write=False)
    with pytest.raises(Crash):
        run_cycle(make_deps())
    org.set_owner("00QA", "005HUMAN")
    run_cycle(make_deps())
    (row,) = journal(make_deps())
    assert row.status == "skipped" and org.owner("00QA") == "005HUMAN"


def test_skipped_decision_gives_its_cap_count_back(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    org.add_lead("00QA")
    real = org.current_owners
    org.current_owners = lambda ids: (org.set_owner("00QA", "005HUMAN"), real(ids))[1]  # type: ignore[method-assign]
    deps = make_deps()
    run_cycle(deps)
    with session_scope(deps.engine) as s:
        state, _ = load_state(s)
    assert all(c.day_count == 0 for c in state.reps.values())


def test_a_person_who_picked_our_rep_while_we_were_down_is_not_taken_for_our_write(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """Reconcile cannot tell "our PATCH landed" from "a person chose that very rep" by the
    owner alone; ``LastModifiedById`` can. A person's choice gets no SLA clock of ours."""
    org.add_lead("00QA")
    crash_on_write(org, after_write=False)
    with pytest.raises(Crash):
        run_cycle(make_deps())
    (pending,) = journal(make_deps())
    org.set_owner("00QA", str(pending.owner_id))  # a person, while the worker was down
    run_cycle(make_deps())
    (row,) = journal(make_deps())
    assert (row.status, row.error, row.sla_state) == (
        "skipped",
        "owner changed by someone else; our write may have landed first",
        None,
    )
    assert org.owner("00QA") == pending.owner_id


def test_our_own_write_found_on_restart_is_applied(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    org.add_lead("00QA")
    crash_on_write(org, after_write=True)  # our PATCH landed, its answer never came
    with pytest.raises(Crash):
        run_cycle(make_deps())
    run_cycle(make_deps())
    (row,) = journal(make_deps())
    assert row.status == "applied" and org.leads["00QA"]["LastModifiedById"] == WORKER_USER_ID


def test_our_write_found_on_restart_is_applied_though_its_rep_has_worked_the_lead(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """Our PATCH landed, we died before journaling it, and the rep we wrote changed the
    lead's status meanwhile (LastModifiedById = that rep): still our write. Taken for a
    person's choice, the journal would not explain the owner Salesforce shows."""
    org.add_lead("00QA")
    crash_on_write(org, after_write=True)
    with pytest.raises(Crash):
        run_cycle(make_deps())
    lead = org.leads["00QA"]
    lead["Status"], lead["LastModifiedById"] = "Working", lead["OwnerId"]  # the rep, at work
    run_cycle(make_deps())
    (row,) = journal(make_deps())
    assert row.status == "applied" and row.owner_id == org.owner("00QA")


def test_two_skipped_decisions_of_one_rep_give_back_two_counts(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """One count per decision, not one per rep: a rep with two leads taken by people
    must not be left one lead nearer their cap."""
    org.add_lead("00QA")
    org.add_lead("00QB")
    real = org.current_owners

    def people_first(ids):  # type: ignore[no-untyped-def]
        org.set_owner("00QA", "005HUMAN")
        org.set_owner("00QB", "005HUMAN")
        return real(ids)

    org.current_owners = people_first  # type: ignore[method-assign]
    deps = make_deps(a_config(reps=(REPS[0],)))
    run_cycle(deps)
    assert {r.status for r in journal(deps)} == {"skipped"}
    with session_scope(deps.engine) as s:
        state, _ = load_state(s)
    assert state.reps[REPS[0]].day_count == 0


@pytest.mark.parametrize("folded", [True, False])
def test_outcomes_journaled_with_the_next_page_or_at_the_hand_over_end_the_same(
    org: FakeGateway,
    make_deps: Callable[..., Deps],
    monkeypatch: pytest.MonkeyPatch,
    folded: bool,
) -> None:
    """A page's write outcomes are journaled in the next page's transaction when the
    writes are done by then (``folded``), else at the hand-over: either way every lead
    ends journaled as Salesforce shows it and the rep's counters match what they got."""
    from worker.runtime.pipeline import WriteBehind

    org.page_size = 2
    for i in range(6):
        org.add_lead(f"00Q{i}")
    real_finished, real_owners = WriteBehind.finished, org.current_owners

    def finished(self):  # type: ignore[no-untyped-def]
        if not folded:
            return None
        if self._in_flight is not None:
            self._in_flight.result()  # done by now: the folding path, every page
        return real_finished(self)

    def people_first(ids):  # type: ignore[no-untyped-def]
        for lead in ("00Q0", "00Q2"):
            if lead in ids:
                org.set_owner(lead, "005HUMAN")
        return real_owners(ids)

    monkeypatch.setattr(WriteBehind, "finished", finished)
    org.current_owners = people_first  # type: ignore[method-assign]
    deps = make_deps(a_config(reps=(REPS[0],)))
    report = run_cycle(deps)
    rows = {r.lead_id: r.status for r in journal(deps)}
    assert rows == {"00Q0": "skipped", "00Q1": "applied", "00Q2": "skipped",
                    "00Q3": "applied", "00Q4": "applied", "00Q5": "applied"}  # fmt: skip
    assert (report.applied, report.skipped) == (4, 2)
    with session_scope(deps.engine) as s:
        state, _ = load_state(s)
    assert state.reps[REPS[0]].day_count == 4
