"""Loading the routing config: every mistake reported at once with file, line and key
path; overrides from the dashboard; dumping the effective config."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.sandbox.roster import ROSTER
from worker.routing_config import (
    ConfigError,
    apply_overrides,
    check_text,
    dump_config,
    load_config,
    parse_config,
    validate_rep_override,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "routing.yaml"

MINIMAL = """\
reps:
  - {email: ann@x.io, timezone: Europe/Berlin, weight: 2}
  - {email: ben@x.io}
pools:
  main:
    members: [ann@x.io, ben@x.io]
rules:
  - {name: default, action: {pool: main}}
"""


def _errors(text: str) -> list[str]:
    return [str(p) for p in check_text(text, "r.yaml").errors]


def test_example_config_loads_and_routes_by_roster_email() -> None:
    cfg = load_config(EXAMPLE)
    people = {p.email for p in ROSTER if p.role != "integration"}
    assert set(cfg.reps) == people
    members = {m.rep for pool in cfg.pools.values() for m in pool.members}
    managers = {p.email for p in ROSTER if p.role == "manager"}
    assert not members & managers
    assert {p.email for p in ROSTER if not p.active} <= members
    assert cfg.intake.queues == ("Lead_Intake",)
    assert all(pool.sla is not None and pool.sla.minutes <= 10 for pool in cfg.pools.values())


def test_example_config_has_no_warnings() -> None:
    assert check_text(EXAMPLE.read_text(), str(EXAMPLE)).warnings == []


def test_minimal_config_loads() -> None:
    cfg = parse_config(MINIMAL)
    assert cfg.reps["ann@x.io"].weight == 2.0 and cfg.pools["main"].method == "weighted_round_robin"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("weight: 2}", "weight: 0}", "r.yaml:2 reps[0].weight: must be > 0"),
        ("weight: 2}", "weight: 2, colour: red}", "r.yaml:2 reps[0].colour: unknown key"),
        ("Europe/Berlin", "Europe/Berln", "r.yaml:2 reps[0].timezone: unknown time zone 'Europe/Berln'"),
        ("[ann@x.io, ben@x.io]", "[ann@x.io, bob@x.io]", "r.yaml:6 pools.main.members[1]: unknown rep 'bob@x.io'"),
        ("[ann@x.io, ben@x.io]", "[]", "r.yaml:6 pools.main.members: empty pool"),
        ("{pool: main}", "{pool: mian}", "r.yaml:8 rules[0].action.pool: unknown pool 'mian'"),
        ("weight: 2}", "weight: 2, working_hours: {mon: ['09:00-12:00', '11:00-13:00']}}",
         "r.yaml:2 reps[0].working_hours: overlapping working hours on mon: 09:00-12:00 and 11:00-13:00"),
        ("weight: 2}", "weight: 2, working_hours: {mon: ['17:00-09:00']}}", "block ends before it starts"),
        ("weight: 2}", "weight: 2, holidays: XX}", "unknown holiday calendar 'XX'"),
        ("weight: 2}", "weight: 2, out_of_office: [{from: 2026-12-10, to: 2026-12-01}]}", "out_of_office[0].to: ends before it starts"),
        ("{name: default, action: {pool: main}}",
         "{name: default, action: {pool: main}}\n  - {name: late, when: [{field: Country, equals: DE}], action: hold}",
         "rules[1]: rule 'late' can never match: rule 'default' above matches every lead"),
        ("{name: default, action: {pool: main}}",
         "{name: odd, when: [{field: Country, equals: DE}, {field: Country, equals: FR}], action: hold}\n  - {name: default, action: hold}",
         "rules[0].when: can never match: country cannot equal de and fr at once"),
        ("{name: default, action: {pool: main}}",
         "{name: band, when: [{field: NumberOfEmployees, between: [500, 10]}], action: hold}\n  - {name: default, action: hold}",
         "rules[0].when[0].between: low 500 > high 10: the condition can never match"),
        ("{name: default, action: {pool: main}}", "{name: only, when: [{field: Country, equals: DE}], action: hold}", "no default rule"),
        ("{name: default, action: {pool: main}}",
         "{name: r, when: [{field: Country, equals: Narnia}], action: hold}\n  - {name: default, action: hold}", "unknown country 'Narnia'"),
        ("{name: default, action: {pool: main}}",
         "{name: r, when: [{field: Email, regex: '(('}], action: hold}\n  - {name: default, action: hold}", "invalid regular expression"),
        ("{name: default, action: {pool: main}}", "{name: default, action: {pool: main}, territory: nowhere}", "unknown territory 'nowhere'"),
    ],
)  # fmt: skip
def test_each_mistake_is_reported_with_line_and_key_path(old: str, new: str, message: str) -> None:
    text = MINIMAL.replace(old, new, 1)
    assert new in text
    errors = _errors(text)
    assert any(message in e for e in errors), errors


def test_all_problems_are_reported_at_once() -> None:
    text = MINIMAL.replace("weight: 2}", "weight: -1, timezone: Mars/Base}").replace(
        "ben@x.io]", "zed@x.io]"
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text, "r.yaml")
    messages = str(info.value)
    assert "reps[0].weight: must be > 0" in messages
    assert "reps[0].timezone" in messages and "pools.main.members[1]: unknown rep" in messages
    assert len(info.value.problems) >= 3


def test_territory_overlap_without_priority_is_an_error() -> None:
    text = (
        MINIMAL
        + """\
territories:
  - {name: us, pool: main, countries: [USA]}
  - {name: west, pool: main, countries: [US], states: [California]}
  - {name: de, pool: main, countries: [Germany]}
"""
    )
    errors = _errors(text)
    assert any("territories[1].priority: territory 'west' overlaps 'us'" in e for e in errors), (
        errors
    )
    assert not any("'de'" in e for e in errors)
    assert (
        _errors(text.replace("states: [California]}", "states: [California], priority: 5}")) == []
    )


def test_yaml_syntax_and_duplicate_keys_are_reported_with_lines() -> None:
    assert any("r.yaml:3" in e and "not valid YAML" in e for e in _errors("reps:\n  - [unclosed\n"))
    assert any("duplicate key" in e for e in _errors(MINIMAL + "rules: []\n"))


def test_a_bare_no_for_norway_gets_a_hint() -> None:
    text = MINIMAL + "territories:\n  - {name: n, pool: main, countries: [NO]}\n"
    assert any('write "NO" in quotes' in e for e in _errors(text))


def test_overrides_apply_with_the_same_rules_as_the_file() -> None:
    cfg = parse_config(MINIMAL)
    new = apply_overrides(
        cfg,
        {
            "ANN@x.io": {
                "weight": 0.5,
                "enabled": False,
                "disabled_reason": "holiday",
                "caps": {"per_day": 5},
            }
        },
    )
    rep = new.reps["ann@x.io"]
    assert (rep.weight, rep.enabled, rep.disabled_reason, rep.caps.per_day) == (
        0.5,
        False,
        "holiday",
        5,
    )
    assert cfg.reps["ann@x.io"].weight == 2.0  # the original is untouched
    with pytest.raises(ConfigError, match="weight: must be > 0"):
        apply_overrides(cfg, {"ann@x.io": {"weight": 0}})


def test_validate_rep_override_returns_messages_for_the_dashboard() -> None:
    cfg = parse_config(MINIMAL)
    assert (
        validate_rep_override(cfg, "ben@x.io", {"timezone": "Asia/Tokyo", "tags": ["lang:ja"]})
        == []
    )
    problems = validate_rep_override(cfg, "ben@x.io", {"timezone": "Tokyo", "colour": "red"})
    assert any(p.startswith("ben@x.io.colour: unknown key") for p in problems)
    assert any("unknown time zone 'Tokyo'" in p for p in problems)
    assert validate_rep_override(cfg, "nobody@x.io", {}) == [
        "nobody@x.io: unknown rep (not in the routing config)"
    ]


def test_dumped_effective_config_loads_back_unchanged(tmp_path: Path) -> None:
    cfg = apply_overrides(load_config(EXAMPLE), {"ben.carter@acme-sales.example": {"weight": 0.25}})
    text = dump_config(cfg)
    again = parse_config(text, "dump.yaml")
    assert dump_config(again) == text
    assert again.reps["ben.carter@acme-sales.example"].weight == 0.25
    assert (
        again.rules == cfg.rules
        and again.territories == cfg.territories
        and again.pools == cfg.pools
    )


def test_account_owner_rule_without_matching_can_never_match() -> None:
    text = (
        MINIMAL.replace(
            "  - {name: default",
            "  - {name: owners, action: account_owner}\n  - {name: default",
        )
        + "account_matching: {enabled: false}\n"
    )
    assert any(
        "rules[0].action: can never match: account_matching.enabled is false" in e
        for e in _errors(text)
    )


def test_unused_pool_is_a_warning_not_an_error() -> None:
    text = MINIMAL.replace("rules:", "  spare:\n    members: [ben@x.io]\nrules:")
    result = check_text(text, "r.yaml")
    assert result.errors == []
    assert [str(w) for w in result.warnings] == [
        "r.yaml:7 pools.spare: no rule, territory or fallback leads here: never used"
    ]


def test_conditional_writes_are_on_unless_opted_out_with_a_warning() -> None:
    assert parse_config(MINIMAL).writeback.conditional is True
    assert check_text(MINIMAL, "r.yaml").warnings == []
    on = check_text(MINIMAL + "writeback: {conditional: true}\n", "r.yaml")
    assert on.config is not None and on.config.writeback.conditional is True
    assert on.warnings == []
    off = check_text(MINIMAL + "writeback: {conditional: false}\n", "r.yaml")
    assert off.config is not None and off.config.writeback.conditional is False
    (warning,) = [str(w) for w in off.warnings]
    assert "writeback.conditional" in warning and "overwritten" in warning
    errors = _errors(MINIMAL + "writeback: {conditional: sometimes}\n")
    assert any("writeback.conditional: must be true or false" in e for e in errors), errors
    # `config show` keeps the choice: the opt-out's dump loads back as the opt-out
    assert parse_config(dump_config(off.config), "dump.yaml").writeback.conditional is False
