from __future__ import annotations

from collections.abc import Callable

from tests.unit.jobs.conftest import MANAGER, a_config, an_sla, uid
from tests.unit.jobs.fakes import FakeGateway
from tests.unit.jobs.test_intake import journal
from worker.jobs.deps import Deps
from worker.jobs.intake import run_cycle
from worker.jobs.sla import run_sla_sweep


def routed(org: FakeGateway, make_deps: Callable[..., Deps], max_hops: int = 1) -> Deps:
    deps = make_deps(a_config(sla=an_sla(minutes=5, max_hops=max_hops)))
    org.add_lead("00QA")
    run_cycle(deps)
    return deps


def test_untouched_lead_moves_to_another_rep_after_its_sla(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    deps = routed(org, make_deps)
    first = org.owner("00QA")
    org.tick(4 * 60)
    assert run_sla_sweep(deps).moved == 0
    org.tick(2 * 60)
    report = run_sla_sweep(deps)
    assert report.moved == 1 and report.applied == 1
    rows = journal(deps)
    assert [(r.kind, r.hop, r.status) for r in rows] == [
        ("route", 0, "applied"),
        ("sla_reassign", 1, "applied"),
    ]
    assert org.owner("00QA") not in {first, uid(MANAGER)}
    assert rows[0].sla_state == "moved" and rows[1].previous_owner_id == first


def test_escalates_to_the_manager_after_the_last_hop(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    deps = routed(org, make_deps, max_hops=1)
    owners = [org.owner("00QA")]
    for _ in range(2):
        org.tick(6 * 60)
        run_sla_sweep(deps)
        owners.append(org.owner("00QA"))
    assert owners[-1] == uid(MANAGER)
    assert len(set(owners)) == 3  # never back to anyone who already had it
    assert [r.kind for r in journal(deps)] == ["route", "sla_reassign", "escalate"]
    org.tick(60 * 60)
    assert run_sla_sweep(deps).checked == 0  # escalations carry no further SLA


def test_touched_lead_stays_and_first_touch_is_recorded(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    deps = routed(org, make_deps)
    owner = org.owner("00QA")
    org.tick(60)
    org.leads["00QA"]["Status"] = "Working - Contacted"
    touched_at = org.clock
    org.tick(10 * 60)
    report = run_sla_sweep(deps)
    assert report.touched == 1 and org.owner("00QA") == owner
    (row,) = journal(deps)
    assert row.sla_state == "touched" and row.first_touch_at is not None
    assert row.first_touch_at.replace(tzinfo=None) >= touched_at.replace(tzinfo=None)


def test_a_task_on_the_lead_counts_as_a_touch(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    deps = routed(org, make_deps)
    org.tick(90)
    org.tasks["00QA"] = org.clock
    org.tick(10 * 60)
    assert run_sla_sweep(deps).touched == 1
    assert journal(deps)[0].first_touch_at is not None


def test_lead_moved_by_a_human_is_closed_not_reassigned(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    deps = routed(org, make_deps)
    org.set_owner("00QA", "005HUMAN")
    org.tick(10 * 60)
    report = run_sla_sweep(deps)
    assert report.closed == 1 and org.owner("00QA") == "005HUMAN"
    assert len(journal(deps)) == 1
