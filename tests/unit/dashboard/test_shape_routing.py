"""The routing editor's shaping: the diff in plain words, the form edits, the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard.shape import routing_edits as edits
from dashboard.shape.routing_diff import diff_texts, diff_words, value
from dashboard.shape.routing_editor_rows import history_rows, rule_rows
from worker.store.config_versions_repo import ConfigVersion

DEMO = Path(__file__).resolve().parents[3] / "config" / "routing.yaml"
SARAH = "sarah.johnson@acme-sales.example"
EMILY = "emily.davis@acme-sales.example"


@pytest.fixture(scope="module")
def demo() -> dict:  # type: ignore[type-arg]
    return edits.load(DEMO.read_text())


def test_a_per_pool_weight_change_reads_as_one_sentence(demo) -> None:  # type: ignore[no-untyped-def]
    weighted = edits.set_member_terms("emea", "anna.schmidt@acme-sales.example", 2).apply(demo)
    assert diff_words(demo, weighted) == ["Pool emea: Anna Schmidt's weight default → 2"]
    again = edits.set_member_terms("emea", "anna.schmidt@acme-sales.example", 1.5).apply(weighted)
    assert diff_words(weighted, again) == ["Pool emea: Anna Schmidt's weight 2 → 1.5"]
    capped = edits.set_member_terms("enterprise", SARAH, None, per_day=12).apply(demo)
    assert diff_words(demo, capped) == ["Pool enterprise: Sarah Johnson's caps per_day 10 → 12"]


def test_moving_a_rep_reads_as_removed_here_added_there(demo) -> None:  # type: ignore[no-untyped-def]
    moved = edits.move_member(EMILY, "na-east", "na-west").apply(demo)
    assert diff_words(demo, moved) == [
        "Pool na-east: Emily Davis removed",
        "Pool na-west: Emily Davis added",
    ]
    with pytest.raises(edits.EditError, match="not in pool"):
        edits.move_member(EMILY, "na-west", "emea").apply(demo)
    with pytest.raises(edits.EditError):
        edits.move_member(EMILY, "na-east", "na-east")


def test_rules_added_removed_moved_and_changed(demo) -> None:  # type: ignore[no-untyped-def]
    added = edits.add_rule(
        "Germany to DACH", [("Country", "in", "DE, AT"), ("Industry__c", "equals", "Banking")],
        "pool", "dach",
    ).apply(demo)  # fmt: skip
    rules = added["rules"]
    assert rules[-2] == {
        "name": "Germany to DACH",
        "when": [
            {"field": "Country", "in": ["DE", "AT"]},
            {"field": "Industry__c", "equals": "Banking"},
        ],
        "action": {"pool": "dach"},
    }
    assert diff_words(demo, added) == ['Rule "Germany to DACH" added (position 7)']
    swapped = dict(demo, rules=[demo["rules"][1], demo["rules"][0], *demo["rules"][2:]])
    assert (
        diff_words(demo, swapped)[0]
        == 'Rule "Free mail without country" moved from position 2 to 1'
    )
    changed = dict(demo, rules=[{**demo["rules"][0], "action": "hold"}, *demo["rules"][1:]])
    assert diff_words(demo, changed) == ['Rule "Junk": action stop → hold']
    assert diff_words(demo, edits.remove_rule("Junk").apply(demo)) == ['Rule "Junk" removed']
    with pytest.raises(edits.EditError, match="exists already"):
        edits.add_rule("Junk", [], "stop").apply(demo)


def test_pool_settings_territories_and_top_level_keys_in_words(demo) -> None:  # type: ignore[no-untyped-def]
    done = edits.set_pool(
        "na-west", method="round_robin", catch_up="capped", capped=3, fallback=["emea", "hold"]
    ).apply(demo)
    assert diff_words(demo, done) == [
        "Pool na-west: fallback [{pool: sdr-24x7}] → [{pool: emea}, hold]",
        "Pool na-west: method (not set) → round_robin",
        "Pool na-west: catch_up (not set) → {capped: 3}",
    ]
    other = dict(demo, retention_days=30, territories=demo["territories"][1:])
    assert diff_words(demo, other) == [
        "Setting: retention_days 90 → 30",
        "Territory na-west removed",
    ]
    assert diff_texts(DEMO.read_text(), edits.dump(demo)) == []  # comments are no change


def test_values_are_one_short_line() -> None:
    assert value(None) == "(not set)" and value(True) == "true" and value(1.5) == "1.5"
    assert value({"a": [1, 2]}) == "{a: [1, 2]}"
    assert len(value("x" * 500)) == 90 and value("a\nb") == "a b"


def test_condition_values_typed_in_a_form() -> None:
    assert edits.parse_value("in", "US, CA,") == ["US", "CA"]
    assert edits.parse_value("gte", "1000") == 1000
    assert edits.parse_value("between", "1, 2.5") == [1, 2.5]
    assert edits.parse_value("is_blank", "") is True
    with pytest.raises(edits.EditError, match="two values"):
        edits.parse_value("between", "1")
    with pytest.raises(edits.EditError, match="required"):
        edits.parse_value("equals", " ")


def test_messages_for_the_keys_an_edit_touched() -> None:
    from worker.routing_config.problems import Problem

    problems = [Problem("pools.emea.members[0].weight", "must be > 0"), Problem("rules[1]", "x")]
    assert edits.messages_for(problems, ["pools.emea"]) == [
        "pools.emea.members[0].weight: must be > 0"
    ]
    assert len(edits.messages_for(problems, ["territories"])) == 2  # never hidden


def test_tables(demo) -> None:  # type: ignore[no-untyped-def]
    rows = rule_rows(demo)
    assert rows[3] == {"#": 4, "rule": "Enterprise", "when": "[{field: NumberOfEmployees, gte: 1000}]",
                       "action": "pool enterprise"}  # fmt: skip
    assert rows[-1]["when"] == "(everything)"
    at = datetime(2026, 12, 6, 23, 5, 59, tzinfo=UTC)
    version = ConfigVersion(3, "published", "x", "rita", at, "**bold**", 1)
    assert history_rows([version]) == [
        {"version": 3, "status": "published", "published at (UTC)": "2026-12-06 23:05",
         "by": "rita", "message": "**bold**", "from": "1"}
    ]  # fmt: skip
    assert edits.member_rows(demo, "enterprise")[0] == {
        "rep": SARAH, "name": "Sarah Johnson", "weight in pool": None, "cap/day in pool": 10, "cap/hour in pool": None,
    }  # fmt: skip


def test_a_pool_sla_is_set_keeping_what_the_form_does_not_show(demo) -> None:  # type: ignore[no-untyped-def]
    done = edits.set_pool_sla("na-west", minutes=30, on_breach="remind", max_hops=1).apply(demo)
    sla = done["pools"]["na-west"]["sla"]
    assert sla["escalate_to"] == {"rep": "maria.gonzalez@acme-sales.example"}
    assert (sla["minutes"], sla["on_breach"], sla["max_hops"]) == (30, "remind", 1)
    assert "Pool na-west: sla.minutes 10 → 30" in diff_words(demo, done)
    assert "sla" not in edits.set_pool_sla("na-west", minutes=None).apply(demo)["pools"]["na-west"]
    assert edits.sla_of(done["pools"]["na-west"])["on_breach"] == "remind"
    with pytest.raises(edits.EditError):
        edits.set_pool_sla("na-west", minutes=5, on_breach="panic")


def test_territories_are_added_changed_and_removed(demo) -> None:  # type: ignore[no-untyped-def]
    added = edits.set_territory("benelux", pool="emea", priority=5, countries="BE, NL, LU").apply(
        demo
    )
    assert added["territories"][-1] == {
        "name": "benelux", "pool": "emea", "countries": ["BE", "NL", "LU"], "priority": 5,
    }  # fmt: skip
    assert diff_words(demo, added) == ["Territory benelux added (position 6)"]
    changed = edits.set_territory("dach", pool="emea", priority=10, countries="DE, AT").apply(demo)
    assert diff_words(demo, changed) == [
        "Territory dach: pool dach → emea",
        "Territory dach: countries [DE, AT, CH] → [DE, AT]",
    ]
    assert edits.territory_rows(changed)[2]["countries"] == "DE, AT"
    assert diff_words(demo, edits.remove_territory("dach").apply(demo)) == [
        "Territory dach removed"
    ]
    with pytest.raises(edits.EditError):
        edits.set_territory(" ", pool="emea")
