"""The journal carries each decision's eligible weights, and the dashboard's fairness
audit reads exactly those (not the configured weights)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import orjson
from sqlalchemy import create_engine

from tests.unit.jobs.conftest import MANAGER, REPS, uid
from tests.unit.jobs.fakes import T0, FakeGateway
from worker.jobs.deps import Deps
from worker.jobs.directory import Directory
from worker.jobs.intake import run_cycle
from worker.jobs.records import trace_json
from worker.routing.explain import trace_to_json
from worker.routing.model import Decision, Pool, PoolMember, Rep, RoutingConfig, Rule, TraceStep
from worker.sfdc.mapping import UserRow
from worker.store.db import upgrade
from worker.store.queries import fairness

ANN, BOB, CAT = REPS


def test_fairness_audit_uses_the_weights_of_reps_eligible_at_decision_time(
    sqlite_url: str,
) -> None:
    upgrade(sqlite_url)
    users = [UserRow(uid(k), k, k, k.split("@")[0].title(), k != CAT) for k in (*REPS, MANAGER)]
    org = FakeGateway(users=users)  # cat's user is inactive: never eligible
    members = (PoolMember(ANN, weight=1), PoolMember(BOB, weight=3), PoolMember(CAT, weight=2))
    config = RoutingConfig(
        reps={k: Rep(key=k, name=k.split("@")[0].title()) for k in REPS},
        pools={"sales": Pool("sales", members)},
        rules=(Rule("default", "pool", pool="sales"),),
    )
    engine = create_engine(sqlite_url)
    deps = Deps(engine=engine, gateway=org, directory=Directory(org),
                config=lambda _s: config, worker_id="t", now=lambda: org.clock,
                **org.clock_ports())  # fmt: skip
    for i in range(8):
        org.add_lead(f"00Q{i:015d}")
    assert run_cycle(deps).applied == 8

    decisions, missing, _, _ = fairness.load_pool_decisions(
        engine, "sales", T0 - timedelta(days=1), T0 + timedelta(days=1)
    )

    assert missing == 0 and len(decisions) == 8
    assert {tuple(sorted(d.eligible.items())) for d in decisions} == {((ANN, 1.0), (BOB, 3.0))}


def test_journaled_trace_text_is_the_routing_cores_plus_the_eligibility_step() -> None:
    # floats as the routing core makes them: rounded to 4 decimals where they are made
    data = {"before": {"ann": 0.1235, "bob": 2}, "path": ("a", 1.0001, [True, None]),
            "note": "ünïcode", "nested": [{"x": -0.3333}], "skip": "cap 5/day"}  # fmt: skip
    trace = (TraceStep("state", "credits", data), TraceStep("pick", "Ann chosen", {"rep": ANN}))
    plain = Decision("00QA", "assign", "005A", ANN, "sales", "r", "round_robin", "why",
                            trace)  # fmt: skip
    weighted = replace(plain, eligible_weights={BOB: 3, ANN: 1.5})

    assert trace_json(plain) == trace_to_json(trace)
    eligibility = TraceStep(
        "eligibility",
        f"Eligible at decision time: {ANN} (1.5), {BOB} (3)",
        {"eligible_weights": {ANN: 1.5, BOB: 3.0}},
    )
    assert trace_json(weighted) == trace_to_json((*trace, eligibility))


def test_a_trace_orjson_cannot_encode_is_journaled_by_the_general_path() -> None:
    odd = TraceStep("state", "credits", {"big": 2**70, "x": 1 / 3, "ids": {1: "a", 2: "b"}})
    plain = Decision("00QA", "assign", "005A", ANN, "sales", "r", "round_robin", "why",
                            (odd,))  # fmt: skip

    assert trace_json(plain) == trace_to_json((odd,))
    assert '"x":0.3333' in trace_json(plain)  # the general path still rounds


def test_the_cap_regex_reads_traces_journaled_with_and_without_spaces() -> None:
    step = {"rep": ANN, "skip": "open-lead cap 5/5"}
    for text in (json.dumps([{"data": step}]), orjson.dumps([{"data": step}]).decode()):
        assert fairness._fast_facts(text + '{"eligible_weights": {}}')[1] == (ANN,)
