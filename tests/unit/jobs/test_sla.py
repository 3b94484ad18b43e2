from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, timedelta

import pytest
from sqlmodel import Session, select

from tests.unit.jobs.conftest import MANAGER, a_config, an_sla, uid
from tests.unit.jobs.fakes import T0, FakeGateway
from tests.unit.jobs.test_intake import journal
from worker.jobs.deps import Deps
from worker.jobs.intake import run_cycle
from worker.jobs.records import due_at
from worker.jobs.sla import run_sla_sweep
from worker.notify.model import Channel, EventKind, EventRoute, NotifySettings
from worker.routing.model import (
    Account,
    AccountMatching,
    Condition,
    Decision,
    RoutingConfig,
    Rule,
    SlaPolicy,
    Target,
)
from worker.store.models.outbox import OutboxMessage


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


def test_an_sla_row_journals_the_cores_decision_with_its_why(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """The escalation's row: reason and trace from the routing core's SLA decision, with
    the moves so far and the Salesforce owner the target was found as."""
    deps = routed(org, make_deps, max_hops=1)
    for _ in range(2):
        org.tick(6 * 60)
        run_sla_sweep(deps)
    escalated = journal(deps)[-1]
    assert escalated.kind == "escalate"
    assert escalated.reason.startswith("SLA of 5 min missed after 1 hop(s): escalated to rep")
    steps = [(s["kind"], s["message"]) for s in json.loads(escalated.trace)]
    assert steps[1][0] == "sla" and steps[1][1].endswith("; SLA moves so far: 1 of 1")
    assert steps[-1] == ("pick", f"rep {MANAGER} is Salesforce owner {uid(MANAGER)}")


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


# --- every routed lead has a clock; misses that keep the lead ---------------------------

ANN = "ann@x.example"


def owner_config(sla: SlaPolicy | None = None, default: SlaPolicy | None = None) -> RoutingConfig:
    """Leads from Partner go to their account's owner (by the rule, with ``sla``)."""
    base = a_config()
    rule = Rule("Partners", "account_owner", (Condition("LeadSource", "equals", "Partner"),),
                sla=sla)  # fmt: skip
    extra = {"sla": default} if default else {}
    matching = AccountMatching(route_to_owner=False)  # the rule decides, with its SLA
    return replace(base, rules=(rule, *base.rules), account_matching=matching, **extra)


def owned_by_ann(org: FakeGateway, manager: str | None = MANAGER) -> None:
    """An account of Ann's on acme.com, and Ann's manager in Salesforce."""
    org.account_rows.append(Account("001A", "Acme", website="acme.com", owner_id=uid(ANN)))
    org.users = [replace(u, manager_email=manager) if u.email == ANN else u for u in org.users]
    org.add_lead("00QA", Email="jo@acme.com", LeadSource="Partner")


def test_a_lead_routed_to_its_account_owner_gets_an_sla_clock(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    owned_by_ann(org)
    deps = make_deps(owner_config())
    decided = org.clock  # (the cycle may move the org's clock: a write waiting a second out)
    run_cycle(deps)
    (row,) = journal(deps)
    assert (row.method, row.pool, org.owner("00QA")) == ("account_owner", None, uid(ANN))
    assert row.sla_state == "open"
    assert row.sla_due_at is not None
    assert row.sla_due_at.replace(tzinfo=None) == (decided + timedelta(minutes=60)).replace(
        tzinfo=None
    )


def test_an_account_owners_miss_reminds_them_tells_their_manager_and_keeps_the_lead(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    owned_by_ann(org)
    deps = make_deps(owner_config())
    run_cycle(deps)
    org.tick(59 * 60)
    assert run_sla_sweep(deps).managers_told == 0
    org.tick(2 * 60)
    report = run_sla_sweep(deps)
    assert (report.owners_reminded, report.managers_told, report.moved) == (1, 1, 0)
    assert org.owner("00QA") == uid(ANN)  # never moved
    route, note = journal(deps)
    assert (route.sla_state, note.kind, note.status) == ("escalated", "escalate_manager", "applied")
    assert note.owner_id == uid(ANN) and note.sla_state is None
    assert note.reason == "SLA of 60 min missed: reminded Ann; escalated to their manager Boss"
    steps = [s["kind"] for s in json.loads(note.trace)]
    assert steps == ["sla", "sla", "decision"]
    org.tick(120 * 60)
    assert run_sla_sweep(deps).checked == 0  # the clock ended with the escalation
    writes = org.calls.get("composite", 0) + org.calls.get("collections", 0)
    assert writes == 1  # the first assignment: nothing written since


def test_without_a_manager_the_owner_is_reminded_and_the_reason_says_so(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    owned_by_ann(org, manager=None)
    deps = make_deps(owner_config())
    run_cycle(deps)
    org.tick(61 * 60)
    report = run_sla_sweep(deps)
    assert (report.owners_reminded, report.managers_told) == (1, 0)
    route, note = journal(deps)
    assert (route.sla_state, note.kind, org.owner("00QA")) == ("expired", "sla_remind", uid(ANN))
    assert "no manager known for Ann" in note.reason


def test_remind_gives_the_owner_a_new_window_then_tells_the_manager(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    owned_by_ann(org)
    deps = make_deps(owner_config(SlaPolicy(minutes=30, on_breach="remind", max_hops=1)))
    run_cycle(deps)
    org.tick(31 * 60)
    assert run_sla_sweep(deps).owners_reminded == 1
    route, note = journal(deps)
    assert (route.sla_state, note.kind, note.hop) == ("open", "sla_remind", 0)
    assert route.sla_due_at == note.sla_due_at
    assert route.sla_due_at is not None and route.sla_due_at.replace(tzinfo=None) == (
        org.clock + timedelta(minutes=30)
    ).replace(tzinfo=None)
    org.tick(29 * 60)
    assert run_sla_sweep(deps).owners_reminded == 0  # the new window is still running
    org.tick(2 * 60)
    assert run_sla_sweep(deps).managers_told == 1
    assert [r.kind for r in journal(deps)] == ["route", "sla_remind", "escalate_manager"]
    assert org.owner("00QA") == uid(ANN)


def test_a_touch_after_a_reminder_is_the_first_touch_of_the_assignment(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    owned_by_ann(org)
    deps = make_deps(owner_config(SlaPolicy(minutes=30, on_breach="remind", max_hops=1)))
    run_cycle(deps)
    org.tick(31 * 60)
    run_sla_sweep(deps)
    org.tick(5 * 60)
    org.leads["00QA"]["Status"] = "Working - Contacted"
    assert run_sla_sweep(deps).touched == 1
    route = journal(deps)[0]
    assert route.sla_state == "touched" and route.first_touch_at is not None


def test_a_pool_lead_without_any_sla_configured_gets_the_default(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    deps = make_deps(a_config())  # no pool SLA, no default block: the built-in default
    org.users = [replace(u, manager_email=MANAGER) for u in org.users]
    org.add_lead("00QA")
    run_cycle(deps)
    first = org.owner("00QA")
    org.tick(61 * 60)
    report = run_sla_sweep(deps)
    assert (report.managers_told, report.moved) == (1, 0)  # the default never moves a lead
    assert org.owner("00QA") == first


def test_a_reassignment_keeps_the_rules_sla(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    base = a_config(sla=an_sla(minutes=30, max_hops=2))
    fast = replace(base.rules[0], sla=an_sla(minutes=5, max_hops=2))
    deps = make_deps(replace(base, rules=(fast,)))
    org.add_lead("00QA")
    run_cycle(deps)
    org.tick(6 * 60)
    assert run_sla_sweep(deps).moved == 1
    route, moved = journal(deps)
    assert (moved.kind, moved.rule) == ("sla_reassign", "default")
    assert moved.reason.startswith(
        "SLA of 5 min missed: re-assigned within pool sales (hop 1 of 2)"
    )
    assert moved.sla_due_at is not None and moved.applied_at is not None
    assert (moved.sla_due_at - moved.decided_at) == timedelta(minutes=5)  # the rule's, not 30


def test_an_unavailable_escalation_target_tells_the_manager_instead(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    sla = SlaPolicy(minutes=5, on_breach="escalate", escalate_to=Target("queue", "Nowhere"))
    org.users = [replace(u, manager_email=MANAGER) for u in org.users]
    deps = make_deps(a_config(sla=sla))
    org.add_lead("00QA")
    run_cycle(deps)
    owner = org.owner("00QA")
    org.tick(6 * 60)
    assert run_sla_sweep(deps).managers_told == 1
    note = journal(deps)[-1]
    assert note.kind == "escalate_manager" and org.owner("00QA") == owner
    assert "Not escalated to queue Nowhere: no queue Nowhere in Salesforce" in note.trace


def test_the_owner_and_the_manager_get_their_messages(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    owned_by_ann(org)
    deps = make_deps(owner_config())
    deps.notify = NotifySettings(
        channels={"mail": Channel("mail", "email")},
        events={
            EventKind.SLA_REMINDER: EventRoute(("owner",), ("mail",)),
            EventKind.SLA_REASSIGNED: EventRoute(("owner",), ("mail",)),
        },  # no routes of their own: sla_missed/sla_escalated borrow these channels
    )
    run_cycle(deps)
    org.tick(61 * 60)
    run_sla_sweep(deps)
    with Session(deps.engine) as s:
        sent = {(m.event, m.recipient) for m in s.exec(select(OutboxMessage)).all()}
    assert ("sla_missed", ANN) in sent
    assert ("sla_escalated", MANAGER) in sent
    assert ("sla_escalated", ANN) not in sent  # borrowed route: to the manager only


@pytest.mark.parametrize(
    ("pool", "rule", "method", "minutes"),
    [
        ("sales", "default", "weighted_round_robin", 10),  # a pool's pick: the pool's SLA
        ("sales", "default", "fallback_rep", 10),  # a fallback rep of the pool's chain
        (None, None, "account_owner", 60),  # an account's owner: the default
        ("sales", "default", "round_robin", 10),  # an SLA re-assignment keeps the rule
    ],
)
def test_every_assignment_gets_a_due_time(
    pool: str | None, rule: str | None, method: str, minutes: int
) -> None:
    config = a_config(sla=an_sla(minutes=10))
    at = T0.replace(tzinfo=UTC)
    decision = Decision("00QA", "assign", uid(ANN), ANN, pool, rule, method, "why")
    assert due_at(config, decision, at) == at + timedelta(minutes=minutes)
    held = Decision("00QA", "hold", None, None, pool, rule, "hold", "nobody")
    assert due_at(config, held, at) is None  # assigns nobody: no clock


def test_the_sweep_reads_salesforce_without_the_jobs_lock_and_judges_under_it(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """Intake does not wait for the sweep's reads (after a burst, thousands of clocks):
    the lock is taken for the judging, the moves and their writes."""
    deps = routed(org, make_deps)
    org.tick(6 * 60)
    held_at: dict[str, bool] = {}
    real_read, real_write = org.leads_by_id, org.update_owners

    def read(*args: object, **kw: object) -> object:
        held_at["read"] = deps.lock.locked()
        return real_read(*args, **kw)  # type: ignore[arg-type]

    def write(*args: object, **kw: object) -> object:
        held_at["write"] = deps.lock.locked()
        return real_write(*args, **kw)  # type: ignore[arg-type]

    org.leads_by_id = read  # type: ignore[method-assign,assignment]
    org.update_owners = write  # type: ignore[method-assign,assignment]
    report = run_sla_sweep(deps)
    assert report.moved == 1 and report.applied == 1
    assert held_at == {"read": False, "write": True}
    assert not deps.lock.locked()


def test_a_clock_closed_while_the_sweep_read_is_not_judged_again(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """A change event closes the clock (under the lock) while the sweep reads: the sweep,
    once it has the lock, takes the clock from the store again and leaves it alone."""
    from worker.store import journal_repo
    from worker.store.db import session_scope

    deps = routed(org, make_deps)
    first = org.owner("00QA")
    org.tick(6 * 60)
    real_read = org.leads_by_id

    def read(*args: object, **kw: object) -> object:
        with session_scope(deps.engine) as s:  # the event's close, meanwhile
            journal_repo.set_sla_state(s, [journal(deps)[0].id or 0], "closed")
        return real_read(*args, **kw)  # type: ignore[arg-type]

    org.leads_by_id = read  # type: ignore[method-assign,assignment]
    report = run_sla_sweep(deps)
    assert (report.checked, report.moved, report.closed) == (0, 0, 0)
    assert org.owner("00QA") == first
    assert [(r.kind, r.sla_state) for r in journal(deps)] == [("route", "closed")]
