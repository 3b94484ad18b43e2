"""The SLA keys of the routing config: the default block, a rule's and a pool's SLA, the
breach action and the escalation to the owner's manager."""

from __future__ import annotations

import pytest

from worker.routing.config_model import DEFAULT_SLA
from worker.routing.model import Target
from worker.routing_config import check_text, dump_config, parse_config

BASE = """\
sla: {minutes: 45, working_hours_only: true}
reps:
  - {email: ann@x.io}
  - {email: boss@x.io}
pools:
  main:
    members: [ann@x.io]
    sla: {minutes: 10, escalate_to: {rep: boss@x.io}}
rules:
  - name: partners
    when: [{field: LeadSource, equals: Partner}]
    action: account_owner
    sla: {minutes: 30}
  - name: fast
    when: [{field: Rating, equals: Hot}]
    action: {pool: main}
    sla: {minutes: 5, on_breach: remind, max_hops: 1, escalate_to: manager}
  - {name: default, action: {pool: main}}
"""


def _problems(text: str) -> tuple[list[str], list[str]]:
    result = check_text(text, "r.yaml")
    return [str(p) for p in result.errors], [str(p) for p in result.warnings]


def test_the_default_a_rules_and_a_pools_sla_are_read_with_their_breach_action() -> None:
    cfg = parse_config(BASE)
    assert (cfg.sla.minutes, cfg.sla.working_hours_only, cfg.sla.on_breach) == (
        45,
        True,
        "escalate",
    )
    partners, fast, default = cfg.rules
    assert partners.sla is not None and partners.sla.on_breach == "escalate"  # account owner
    assert fast.sla is not None
    assert (fast.sla.on_breach, fast.sla.max_hops, fast.sla.escalate_to) == (
        "remind", 1, Target("manager"),
    )  # fmt: skip
    assert default.sla is None
    pool = cfg.pools["main"].sla
    assert pool is not None and pool.on_breach == "reassign"  # today's behaviour


def test_without_a_default_block_the_built_in_default_applies() -> None:
    cfg = parse_config(BASE.replace("sla: {minutes: 45, working_hours_only: true}\n", ""))
    assert cfg.sla == DEFAULT_SLA


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("on_breach: remind", "on_breach: nag",
         "r.yaml:17 rules[1].sla.on_breach: must be one of reassign, remind, escalate, got 'nag'"),
        ("escalate_to: manager}", "escalate_to: boss}",
         "r.yaml:17 rules[1].sla.escalate_to: must be one of: {rep: NAME}, {pool: NAME}, "
         "{queue: NAME}, manager, got 'boss'"),
        ("escalate_to: manager}", "escalate_to: {rep: nobody@x.io}}",
         "r.yaml:17 rules[1].sla.escalate_to: unknown rep 'nobody@x.io' (not in reps)"),
        ("sla: {minutes: 30}", "sla: {minutes: 30, on_breach: reassign}",
         "r.yaml:13 rules[0].sla.on_breach: reassign needs a pool, and a lead routed to its "
         "account owner has none: use remind or escalate"),
        ("{name: default, action: {pool: main}}", "{name: default, action: hold, sla: {minutes: 5}}",
         "r.yaml:18 rules[2].sla: a rule with action hold assigns nobody: there is no SLA to keep"),
        ("sla: {minutes: 45, working_hours_only: true}", "sla: {minutes: 0}",
         "r.yaml:1 sla.minutes: must be > 0"),
        ("sla: {minutes: 45, working_hours_only: true}", "sla: {escalate_to: {pool: nope}}",
         "r.yaml:1 sla.minutes: is required"),
        ("sla: {minutes: 45, working_hours_only: true}",
         "sla: {minutes: 45, escalate_to: {pool: nope}}",
         "r.yaml:1 sla.escalate_to: unknown pool 'nope'"),
    ],
)  # fmt: skip
def test_sla_mistakes_name_the_yaml_path_and_line(old: str, new: str, message: str) -> None:
    assert old in BASE
    errors, _ = _problems(BASE.replace(old, new))
    assert message in errors


def test_steps_that_only_notify_warn_when_notifications_are_off() -> None:
    errors, warnings = _problems(BASE)
    assert errors == []
    assert any(w.startswith("r.yaml:17 rules[1].sla.escalate_to: manager is only told by a "
                            "notification, and notifications are off") for w in warnings)  # fmt: skip
    assert any(
        w.startswith("r.yaml:17 rules[1].sla.on_breach: remind only sends") for w in warnings
    )
    unrouted = BASE + "notifications:\n  channels: {mail: {type: email}}\n"
    warnings = _problems(unrouted)[1]
    assert len(warnings) == 2
    assert "notifications.events routes neither sla_escalated nor sla_reassigned" in warnings[0]
    routed = unrouted + (
        "  events:\n"
        "    sla_reminder: {notify: [owner], channels: [mail]}\n"
        "    sla_escalated: {notify: [manager], channels: [mail]}\n"
    )
    assert _problems(routed) == ([], [])
    off = routed + "  enabled: false\n"
    assert len(_problems(off)[1]) == 2


def test_an_implicit_escalation_to_the_manager_does_not_warn() -> None:
    text = BASE.replace(", escalate_to: manager", "").replace("on_breach: remind, ", "")
    assert _problems(text) == ([], [])


def test_a_rep_only_used_as_an_sla_escalation_target_is_not_unused() -> None:
    text = BASE.replace("escalate_to: {rep: boss@x.io}", "max_hops: 1")
    _, warnings = _problems(text)
    assert any("boss@x.io is in no pool" in w for w in warnings)
    text = text.replace("sla: {minutes: 30}", "sla: {minutes: 30, escalate_to: {rep: boss@x.io}}")
    assert not any("boss@x.io is in no pool" in w for w in _problems(text)[1])


def test_the_dump_keeps_every_sla_and_loads_back_unchanged() -> None:
    cfg = parse_config(BASE)
    text = dump_config(cfg)
    again = parse_config(text)
    assert dump_config(again) == text
    assert again.sla == cfg.sla
    assert [r.sla for r in again.rules] == [r.sla for r in cfg.rules]
    assert again.pools["main"].sla == cfg.pools["main"].sla
