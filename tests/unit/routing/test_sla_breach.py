"""The SLA of an assignment (rule > pool > default) and what a miss leads to."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.routing.config_model import DEFAULT_SLA
from worker.routing.model import (
    Decision,
    Pool,
    PoolMember,
    Rep,
    RoutingConfig,
    Rule,
    SlaPolicy,
    Target,
    TraceStep,
)
from worker.routing.sla import Breach, SlaChoice, breach_step, sla_decision, sla_policy_for

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
DUE = NOW - timedelta(minutes=1)
RULE_SLA = SlaPolicy(minutes=5, on_breach="remind", max_hops=1)
POOL_SLA = SlaPolicy(minutes=10, max_hops=2, escalate_to=Target("rep", "boss@x.io"))
DEFAULT = SlaPolicy(minutes=60, on_breach="reassign", escalate_to=Target("queue", "Overflow"))


def a_config(default: SlaPolicy = DEFAULT) -> RoutingConfig:
    pools = {
        "sales": Pool("sales", (PoolMember("ann@x.io"),), sla=POOL_SLA),
        "plain": Pool("plain", (PoolMember("ann@x.io"),)),
    }
    rules = (
        Rule("Fast", "pool", pool="sales", sla=RULE_SLA),
        Rule("Partners", "account_owner", sla=SlaPolicy(minutes=15, on_breach="escalate")),
        Rule("Rest", "pool", pool="sales"),
    )
    return RoutingConfig(reps={"ann@x.io": Rep("ann@x.io", "Ann")}, pools=pools, rules=rules,
                         sla=default)  # fmt: skip


@pytest.mark.parametrize(
    ("pool", "rule", "minutes", "source"),
    [
        ("sales", "Fast", 5, "rule 'Fast'"),  # the rule's SLA wins over its pool's
        ("sales", "Rest", 10, "pool sales"),  # no rule SLA: the pool's
        ("plain", "Rest", 60, "the default"),  # neither: the default
        (None, "Partners", 15, "rule 'Partners'"),  # an account owner's rule with an SLA
        (None, None, 60, "the default for account owners"),  # matched before the rules
        ("gone", "Deleted rule", 60, "the default"),  # config changed since the assignment
    ],
)
def test_the_sla_is_the_rules_then_the_pools_then_the_default(
    pool: str | None, rule: str | None, minutes: int, source: str
) -> None:
    choice = sla_policy_for(a_config(), pool=pool, rule=rule)
    assert (choice.policy.minutes, choice.source) == (minutes, source)


def test_the_default_never_moves_an_account_owners_lead() -> None:
    choice = sla_policy_for(a_config(), pool=None, rule=None)
    assert choice.policy.on_breach == "escalate"
    assert choice.policy.escalate_to == Target("manager")
    assert choice.policy.minutes == DEFAULT.minutes


def test_a_config_without_a_default_still_gives_every_lead_a_clock() -> None:
    config = RoutingConfig(reps={}, pools={}, rules=())
    assert config.sla == DEFAULT_SLA
    choice = sla_policy_for(config, pool=None, rule=None)
    assert choice.policy.minutes == DEFAULT_SLA.minutes


def breach(policy: SlaPolicy, **facts: object) -> Breach:
    base: dict[str, object] = {
        "choice": SlaChoice(policy, "pool sales"),
        "owner": "Sarah Johnson",
        "due_at": DUE,
        "now": NOW,
        "lead_id": "00QA",
        "owner_id": "005SARAH",
        "rep_key": "sarah@x.io",
        "rule": "default",
        "pool": "sales",
        "manager": "Maria Gonzalez",
    }
    return Breach(**(base | facts))  # type: ignore[arg-type]


def test_reassign_moves_within_the_pool_until_max_hops_then_escalates() -> None:
    kinds = [breach_step(breach(POOL_SLA, hop=h)).kind for h in range(4)]
    assert kinds == ["reassign", "reassign", "move", "move"]
    step = breach_step(breach(POOL_SLA, hop=1))
    assert step.target == Target("pool", "sales")
    assert step.reason == "SLA of 10 min missed: re-assigned within pool sales (hop 2 of 2)"
    last = breach_step(breach(POOL_SLA, hop=2))
    assert last.target == Target("rep", "boss@x.io")
    assert last.reason == "SLA of 10 min missed after 2 hop(s): escalated to rep boss@x.io"


def test_remind_keeps_the_lead_with_a_new_window_until_max_hops() -> None:
    policy = SlaPolicy(minutes=30, on_breach="remind", max_hops=2)
    first = breach_step(breach(policy, reminders=0))
    assert (first.kind, first.target, first.due_at) == ("remind", None, NOW + timedelta(minutes=30))
    assert first.reason.startswith("SLA of 30 min missed: reminded Sarah Johnson (reminder 1 of 2)")
    assert breach_step(breach(policy, reminders=1)).kind == "remind"
    third = breach_step(breach(policy, reminders=2))  # hops count reminders, not moves
    assert (third.kind, third.notify_manager) == ("manager", True)


def test_escalate_to_the_manager_reminds_the_owner_and_keeps_the_lead() -> None:
    step = breach_step(breach(SlaPolicy(minutes=30, on_breach="escalate"), pool=None))
    assert (step.kind, step.target, step.due_at, step.notify_manager) == (
        "manager", None, None, True,
    )  # fmt: skip
    assert step.reason == (
        "SLA of 30 min missed: reminded Sarah Johnson; escalated to their manager Maria Gonzalez"
    )


def test_a_missing_manager_is_said_and_the_lead_stays() -> None:
    step = breach_step(breach(SlaPolicy(minutes=30, on_breach="escalate"), manager=None))
    assert (step.kind, step.target, step.notify_manager) == ("manager", None, False)
    assert "no manager known for Sarah Johnson" in step.reason
    assert "the lead stays with them" in step.reason


@pytest.mark.parametrize("kind", ["rep", "pool", "queue"])
def test_escalate_to_a_rep_pool_or_queue_moves_the_lead(kind: str) -> None:
    policy = SlaPolicy(minutes=5, on_breach="escalate", escalate_to=Target(kind, "x"))  # type: ignore[arg-type]
    step = breach_step(breach(policy))
    assert (step.kind, step.target) == ("move", Target(kind, "x"))  # type: ignore[arg-type]


def test_nobody_eligible_in_the_pool_escalates() -> None:
    step = breach_step(breach(POOL_SLA, hop=0, nobody_eligible=True))
    assert (step.kind, step.target) == ("move", Target("rep", "boss@x.io"))
    assert "Not re-assigned: nobody else eligible in pool sales" in [s.message for s in step.trace]


def test_an_unavailable_escalation_target_falls_back_to_the_manager() -> None:
    step = breach_step(breach(POOL_SLA, hop=2, move_failed="no Salesforce user boss@x.io"))
    assert (step.kind, step.notify_manager) == ("manager", True)
    assert "Not escalated to rep boss@x.io: no Salesforce user boss@x.io" in [
        s.message for s in step.trace
    ]


def test_a_lead_without_a_pool_is_never_reassigned() -> None:
    step = breach_step(breach(SlaPolicy(minutes=5, on_breach="reassign"), pool=None))
    assert step.kind == "manager"
    assert "Not re-assigned: no pool to re-assign within" in [s.message for s in step.trace]


def test_the_trace_says_where_the_sla_comes_from_and_what_was_missed() -> None:
    step = breach_step(replace(breach(POOL_SLA), choice=SlaChoice(POOL_SLA, "rule 'Fast'")))
    lines = [(s.kind, s.message) for s in step.trace]
    assert lines[0] == (
        "sla",
        "SLA 10 min from rule 'Fast'; on a miss: re-assign within the pool up to 2 time(s), "
        "then escalate to rep boss@x.io",
    )
    assert lines[1] == (
        "sla",
        "Not touched by Sarah Johnson by 2026-11-23 14:59 UTC; SLA moves so far: 0 of 2",
    )
    assert lines[-1] == ("decision", step.reason)
    assert step.trace[-1].data["step"] == "reassign"


policies = st.builds(
    SlaPolicy,
    minutes=st.integers(1, 600),
    max_hops=st.integers(0, 4),
    on_breach=st.sampled_from(["reassign", "remind", "escalate"]),
    escalate_to=st.one_of(
        st.none(),
        st.just(Target("manager")),
        st.builds(Target, st.sampled_from(["rep", "pool", "queue"]), st.just("t")),
    ),
)


@given(
    policies,
    st.integers(0, 6),
    st.integers(0, 6),
    st.sampled_from([None, "sales"]),
    st.sampled_from([None, "Maria"]),
    st.booleans(),
)
def test_every_breach_gets_one_explained_step(
    policy: SlaPolicy,
    hop: int,
    reminders: int,
    pool: str | None,
    manager: str | None,
    nobody: bool,
) -> None:
    b = breach(policy, hop=hop, reminders=reminders, pool=pool, manager=manager,
               nobody_eligible=nobody)  # fmt: skip
    step = breach_step(b)
    assert step.reason and step.trace[-1].message == step.reason
    assert step.kind != "reassign" or (pool is not None and not nobody)
    assert (step.kind in ("reassign", "move")) == (step.target is not None)
    assert (step.kind == "remind") == (step.due_at is not None)
    assert step.notify_manager == (step.kind == "manager" and manager is not None)
    if step.due_at is not None:
        assert step.due_at > NOW


def test_the_miss_says_the_count_the_ladder_climbs_by() -> None:
    remind = SlaPolicy(minutes=30, on_breach="remind", max_hops=3)
    escalate = SlaPolicy(minutes=30, on_breach="escalate")
    assert (
        breach_step(breach(remind, reminders=2, hop=0))
        .trace[1]
        .message.endswith("; reminders so far: 2 of 3")
    )
    assert (
        breach_step(breach(POOL_SLA, hop=1, reminders=5))
        .trace[1]
        .message.endswith("; SLA moves so far: 1 of 2")
    )
    assert (
        breach_step(breach(escalate))
        .trace[1]
        .message.endswith("; the policy escalates at the first miss")
    )


def test_a_note_keeps_the_lead_with_its_owner_and_says_why() -> None:
    b = breach(SlaPolicy(minutes=30, on_breach="remind", max_hops=2))
    step = breach_step(b)
    note = sla_decision(b, step)
    assert (note.lead_id, note.action, note.owner_id, note.rep_key) == (
        "00QA", "assign", "005SARAH", "sarah@x.io",
    )  # fmt: skip
    assert (note.pool, note.rule, note.method) == ("sales", "default", "sla")
    assert (note.reason, note.trace) == (step.reason, step.trace)


PICK = Decision("00QA", "assign", "005BEN", "ben@x.io", "sales", "Inbound", "round_robin",
                "Ben is next in sales", (TraceStep("pick", "Ben is next"),))  # fmt: skip


def test_a_reassignment_explains_the_miss_before_the_pick_and_keeps_the_rule() -> None:
    b = breach(POOL_SLA, hop=0)
    step = breach_step(b)
    moved = sla_decision(b, step, pick=PICK)
    assert (moved.owner_id, moved.rep_key, moved.method) == ("005BEN", "ben@x.io", "round_robin")
    assert moved.rule == "default"  # the lead's rule: its SLA goes on
    assert moved.reason == f"{step.reason}; Ben is next in sales"
    assert moved.trace == (*step.trace, *PICK.trace)


def test_an_escalation_to_a_pool_takes_the_picks_rule() -> None:
    policy = SlaPolicy(minutes=5, on_breach="escalate", escalate_to=Target("pool", "sales"))
    b = breach(policy)
    moved = sla_decision(b, breach_step(b), pick=PICK)
    assert moved.rule == "Inbound" and moved.trace[-1] == PICK.trace[-1]


def test_an_escalation_to_a_queue_names_the_owner_it_was_given_to() -> None:
    policy = SlaPolicy(minutes=5, on_breach="escalate", escalate_to=Target("queue", "Overflow"))
    b = breach(policy)
    step = breach_step(b)
    moved = sla_decision(b, step, owner_id="00GQUEUE")
    assert (moved.owner_id, moved.rep_key, moved.rule, moved.method) == (
        "00GQUEUE", None, "sla", "escalate",
    )  # fmt: skip
    assert moved.reason == step.reason and moved.trace[: len(step.trace)] == step.trace
    assert moved.trace[-1].message == "queue Overflow is Salesforce owner 00GQUEUE"


@given(
    policies,
    st.integers(0, 6),
    st.integers(0, 6),
    st.sampled_from([None, "sales"]),
    st.sampled_from([None, "Maria"]),
    st.booleans(),
    st.sampled_from([None, "no queue t in Salesforce"]),
)
def test_every_sla_decision_is_explained_by_its_trace(
    policy: SlaPolicy,
    hop: int,
    reminders: int,
    pool: str | None,
    manager: str | None,
    nobody: bool,
    failed: str | None,
) -> None:
    """Whatever the facts: the decision's trace starts with the policy and the miss, says
    every target that was tried and failed, and its decision step is the reason."""
    b = breach(policy, hop=hop, reminders=reminders, pool=pool, manager=manager,
               nobody_eligible=nobody, move_failed=failed)  # fmt: skip
    step = breach_step(b)
    if step.kind in ("remind", "manager"):
        decision = sla_decision(b, step)
        assert decision.owner_id == b.owner_id
    elif step.target is not None and step.target.kind == "pool":
        decision = sla_decision(b, step, pick=PICK)
    else:
        decision = sla_decision(b, step, owner_id="00GX")
    assert decision.lead_id == "00QA" and decision.action == "assign"
    assert decision.reason.startswith(step.reason)
    policy_step, miss = decision.trace[:2]
    assert policy_step.kind == miss.kind == "sla"
    assert "pool sales" in policy_step.message and "Not touched by Sarah Johnson" in miss.message
    assert ("reminders so far" in miss.message) == (
        policy.on_breach == "remind" and policy.max_hops > 0
    )
    fallbacks = " | ".join(s.message for s in decision.trace if s.kind == "fallback")
    if failed is not None and step.kind == "manager":  # the escalation target was tried
        assert f": {failed}" in fallbacks
    if policy.on_breach == "reassign" and hop < policy.max_hops and (nobody or pool is None):
        assert "Not re-assigned: " in fallbacks  # the pool was tried
    assert step.trace[-1] == TraceStep("decision", step.reason, step.trace[-1].data)
