"""The generated rule-chain function agrees with the plain loop on every lead."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from worker.routing import Condition, Lead
from worker.routing.conditions import compile_condition, fast_rule, scan_rules
from worker.routing.facts import lead_facts
from worker.routing.rulechain import build_scan

VALUES = st.one_of(
    st.none(),
    st.sampled_from(["DE", "us", "Web", "Hot", "", "acme bank", "VP Sales"]),
    st.integers(0, 5000),
)
CONDITIONS = st.one_of(
    st.builds(Condition, st.sampled_from(["LeadSource", "Rating", "Company"]), st.sampled_from(["equals", "not_equals", "contains", "starts_with"]), st.sampled_from(["web", "hot", "bank", "vp"])),
    st.builds(Condition, st.just("Country"), st.sampled_from(["in", "not_in"]), st.sampled_from([("DE",), ("US", "DE")])),
    st.builds(Condition, st.just("NumberOfEmployees"), st.just("between"), st.sampled_from([(10, None), (None, 100), (50, 500)])),
    st.builds(Condition, st.sampled_from(["Rating", "Title"]), st.sampled_from(["is_blank", "not_blank"])),
    st.builds(Condition, st.just("$free_mail"), st.just("equals"), st.just(True)),
)  # fmt: skip
RULES = st.lists(
    st.tuples(st.lists(CONDITIONS, max_size=3), st.sampled_from(["all", "any"])),
    min_size=1,
    max_size=8,
)
LEADS = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "LeadSource": VALUES,
            "Rating": VALUES,
            "Company": VALUES,
            "Country": VALUES,
            "NumberOfEmployees": VALUES,
            "Title": VALUES,
            "Email": st.sampled_from(["a@gmail.com", "b@acme.com", None]),
        },
    ),  # fmt: skip
    min_size=1,
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(rules=RULES, leads=LEADS, start=st.integers(0, 3))
def test_generated_chain_matches_the_loop(
    rules: list[tuple[list[Condition], str]], leads: list[dict[str, object]], start: int
) -> None:
    fast = tuple(
        fast_rule(f"r{i}", mode, tuple(map(compile_condition, conds)))
        for i, (conds, mode) in enumerate(rules)
    )
    scan = build_scan(fast)
    for fields in leads:
        facts = lead_facts(Lead("1", fields))
        expected: list[tuple[str, str]] = []
        got: list[tuple[str, str]] = []
        assert scan(facts, start, got) == scan_rules(fast, start, facts, expected)
        assert got == expected


def test_unhashable_field_values_fall_back_to_the_loop() -> None:
    fast = (fast_rule("r", "all", (compile_condition(Condition("Tags__c", "contains", "x")),)),)
    got: list[tuple[str, str]] = []
    assert build_scan(fast)(lead_facts(Lead("1", {"Tags__c": ["x", "y"]})), 0, got) == 0
