"""``intake.mode`` and ``intake.subscribe`` in the routing config (``config check``)."""

from __future__ import annotations

import pytest

from worker.routing.model import Subscribe
from worker.routing_config import check_text, dump_config, parse_config

BASE = """\
reps:
  - {email: ann@x.io}
pools:
  main:
    members: [ann@x.io]
rules:
  - {name: default, action: {pool: main}}
"""


def test_poll_is_the_default() -> None:
    intake = parse_config(BASE).intake
    assert intake.mode == "poll" and intake.subscribe == Subscribe()


def test_subscribe_with_its_settings_survives_a_dump() -> None:
    text = (
        BASE
        + """\
intake:
  queues: [Lead_Intake]
  mode: subscribe
  subscribe: {channel: /data/Lead_Routing__chn, window_seconds: 0.5, max_batch: 50, sweep_seconds: 600}
"""
    )
    intake = parse_config(text).intake
    assert intake.mode == "subscribe"
    assert intake.subscribe == Subscribe("/data/Lead_Routing__chn", 0.5, 50, 600.0)
    assert parse_config(dump_config(parse_config(text))).intake == intake


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("mode: push", "intake.mode: must be one of poll, subscribe, got 'push'"),
        ("subscribe: {channel: /event/Foo__e}", "intake.subscribe.channel: must be a change event channel"),
        ("subscribe: {window_seconds: 30}", "intake.subscribe.window_seconds: must be <= 10"),
        ("subscribe: {window_seconds: -1}", "intake.subscribe.window_seconds: must be >= 0"),
        ("subscribe: {max_batch: 0}", "intake.subscribe.max_batch: must be > 0"),
        ("subscribe: {max_batch: 5000}", "intake.subscribe.max_batch: must be <= 2000"),
        ("subscribe: {sweep_seconds: 1}", "intake.subscribe.sweep_seconds: must be >= 5"),
        ("subscribe: {windw_seconds: 1}", "windw_seconds"),
    ],
)  # fmt: skip
def test_mistakes_are_named_by_their_field(section: str, message: str) -> None:
    errors = [str(p) for p in check_text(BASE + f"intake:\n  {section}\n", "r.yaml").errors]
    assert any(message in e for e in errors), errors


def test_the_setting_that_overrides_the_mode_is_checked() -> None:
    from worker.settings import SettingsError, load_settings

    assert load_settings(intake_mode="subscribe").intake_mode == "subscribe"
    assert load_settings().intake_mode is None  # the routing config decides
    with pytest.raises(SettingsError, match="LEADROUTER_INTAKE_MODE"):
        load_settings(intake_mode="push")


def test_the_org_id_comes_from_the_identity_url() -> None:
    from worker.sfdc.auth import identity_org

    url = "https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA"
    assert identity_org(url) == "00D000000000001AAA"
    assert identity_org("https://login.salesforce.com/id/nope/005000000000001AAA") is None
    assert identity_org(None) is None
