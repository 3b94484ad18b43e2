"""Rule conditions, state serialisation, fairness metrics and trace rendering."""

from __future__ import annotations

import json
import math

import pytest
from scipy.stats import chisquare

from tests.unit.routing.builders import NOW, a_config, a_context, a_lead, a_pool, a_rep
from worker.routing import (
    Condition,
    Lead,
    RoutingState,
    StateError,
    chi_square,
    decision_from_json,
    decision_to_json,
    empty_state,
    jain_index,
    max_prefix_deviation,
    pool_fairness,
    render_trace,
    route_batch,
    state_from_json,
    state_to_json,
    trace_to_json,
)
from worker.routing.conditions import compile_condition
from worker.routing.facts import lead_facts


@pytest.mark.parametrize(
    ("cond", "fields", "ok"),
    [
        (Condition("LeadSource", "equals", "web"), {"LeadSource": "Web "}, True),
        (Condition("LeadSource", "not_equals", "Web"), {"LeadSource": None}, True),
        (Condition("Country", "in", ("US", "CA")), {"Country": "United States"}, True),
        (Condition("Country", "not_in", ("US",)), {"Country": "usa"}, False),
        (Condition("Title", "starts_with", ("vp", "chief")), {"Title": "VP Sales"}, True),
        (Condition("Company", "contains", "bank"), {"Company": "First Bank Ltd"}, True),
        (Condition("Email", "regex", r"@(.+\.)?gov$"), {"Email": "a@state.ny.gov"}, True),
        (Condition("NumberOfEmployees", "between", (100, 500)), {"NumberOfEmployees": 500}, True),
        (Condition("NumberOfEmployees", "between", (100, None)), {"NumberOfEmployees": "99"}, False),
        (Condition("AnnualRevenue", "between", (None, 10)), {}, False),
        (Condition("Rating", "is_blank"), {"Rating": "  "}, True),
        (Condition("Rating", "not_blank"), {"Rating": "Hot"}, True),
        (Condition("IsConverted", "equals", True), {"IsConverted": True}, True),
        (Condition("NumberOfEmployees", "equals", 50), {"NumberOfEmployees": 50.0}, True),
        (Condition("State", "in", ("US-CA",)), {"Country": "US", "State": "California"}, True),
        (Condition("$free_mail", "equals", True), {"Email": "x@gmail.com"}, True),
        (Condition("$email_domain", "equals", "acme.com"), {"Email": "x@eu.acme.com"}, True),
    ],
)  # fmt: skip
def test_condition_operators(cond: Condition, fields: dict[str, object], ok: bool) -> None:
    cc = compile_condition(cond)
    facts = lead_facts(Lead("1", fields))
    assert (cc.failure(facts) is None) is ok
    assert (cc.failure(facts) is None) is ok  # the memoised answer is the same


def test_failed_condition_is_explained_with_the_leads_value() -> None:
    cc = compile_condition(Condition("NumberOfEmployees", "between", (1000, None)))
    assert cc.failure(lead_facts(Lead("1", {"NumberOfEmployees": 1200}))) is None
    assert (
        cc.failure(lead_facts(Lead("1", {"NumberOfEmployees": 40})))
        == "NumberOfEmployees 40 in 1,000..∞"
    )


def _routed_state() -> RoutingState:
    cfg = a_config(
        [a_rep("a@x.io", weight=1.5), a_rep("b@x.io")], [a_pool("p", ["a@x.io", "b@x.io"])]
    )
    _, state = route_batch([a_lead(str(i)) for i in range(5)], config=cfg, context=a_context(["a@x.io", "b@x.io"]),
                           state=empty_state(), now=NOW)  # fmt: skip
    return state


def test_state_round_trips_through_stable_versioned_json() -> None:
    state = _routed_state()
    text = state_to_json(state)
    assert json.loads(text)["v"] == 1
    assert state_to_json(state_from_json(text)) == text
    assert state_from_json(text).reps == state.reps


@pytest.mark.parametrize("text", ['{"v": 99}', "not json", '{"v": 1, "reps": {"a": [1]}}'])
def test_unreadable_state_raises_state_error(text: str) -> None:
    with pytest.raises(StateError):
        state_from_json(text)


def test_counters_of_past_local_days_are_pruned() -> None:
    state = _routed_state()
    cfg = a_config([a_rep("a@x.io"), a_rep("b@x.io")], [a_pool("p", ["a@x.io", "b@x.io"])])
    from datetime import timedelta

    _, later = route_batch([a_lead("x")], config=cfg, context=a_context(["a@x.io", "b@x.io"]), state=state,
                           now=NOW + timedelta(days=2))  # fmt: skip
    assert len(later.reps) == 1 and next(iter(later.reps.values())).day == "2026-11-25"


def test_chi_square_p_value_matches_scipy() -> None:
    counts = {"a": 30, "b": 12, "c": 18}
    expected = {"a": 20.0, "b": 20.0, "c": 20.0}
    stat, p = chi_square(counts, expected)
    ref = chisquare([30, 12, 18], [20, 20, 20])
    assert math.isclose(stat, ref.statistic) and math.isclose(p, ref.pvalue, rel_tol=1e-9)


def test_jain_index_is_one_when_fair_and_one_over_n_when_one_rep_takes_all() -> None:
    assert jain_index({"a": 20, "b": 10}, {"a": 2.0, "b": 1.0}) == pytest.approx(1.0)
    assert jain_index({"a": 9, "b": 0, "c": 0}, {"a": 1.0, "b": 1.0, "c": 1.0}) == pytest.approx(
        1 / 3
    )


def test_prefix_deviation_and_eligibility_adjusted_targets() -> None:
    assert max_prefix_deviation(["a", "a", "b"], {"a": 1.0, "b": 1.0}) == pytest.approx(1.0)
    # b was away for the first two decisions: not behind
    f = pool_fairness(
        "p",
        ["a", "a", "b", "a"],
        {"a": 1.0, "b": 1.0},
        [{"a": 1.0}, {"a": 1.0}, {"a": 1.0, "b": 1.0}, {"a": 1.0, "b": 1.0}],
    )
    assert f.max_deviation == pytest.approx(0.0) and f.max_prefix_deviation == pytest.approx(0.5)


def test_decision_json_round_trip_and_plain_language_trace() -> None:
    cfg = a_config(
        [a_rep("a@x.io", enabled=False, disabled_reason="sick"), a_rep("b@x.io")],
        [a_pool("p", ["a@x.io", "b@x.io"])],
    )
    ds, _ = route_batch(
        [a_lead("1")],
        config=cfg,
        context=a_context(["a@x.io", "b@x.io"]),
        state=empty_state(),
        now=NOW,
    )
    d = ds[0]
    again = decision_from_json(decision_to_json(d))
    assert (again.lead_id, again.rep_key, again.reason, again.eligible_weights) == (
        d.lead_id,
        d.rep_key,
        d.reason,
        d.eligible_weights,
    )
    assert render_trace(again.trace) == render_trace(d.trace)
    assert render_trace(d.trace) == [
        "No matching account",
        "Rule 'default' matched (default rule)",
        "A skipped (turned off (sick))",
        "B chosen (weighted round-robin, 0.0 leads behind their share)",
    ]
    json.loads(trace_to_json(d.trace))
