"""Times in notifications are the recipient's: the rep's time zone from the routing
config, the team's (intake business hours) otherwise, with the UTC time in small print."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from worker.config_source import check_config_file
from worker.notify import enqueue
from worker.notify.model import Contact, EventKind, LeadInfo, NotificationEvent, NotifySettings
from worker.notify.outbox import NewMessage
from worker.notify.recipients import lookup
from worker.notify.templates import build_content, in_zone, render_html, render_slack, render_text

ROOT = Path(__file__).resolve().parents[3]
DUE = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)  # 09:05 in New York (EST), 15:05 in Berlin
NY_REP = "maria.gonzalez@acme-sales.example"  # America/New_York in config/routing.yaml
BERLIN_REP = "thomas.muller@acme-sales.example"  # Europe/Berlin


def assigned(owner: Contact | None) -> NotificationEvent:
    return NotificationEvent(
        kind=EventKind.LEAD_ASSIGNED,
        source="decision:1",
        lead=LeadInfo(id="00Q1", name="Ada", company="Engines"),
        reason="round robin",
        owner=owner,
        due_at=DUE,
    )


def test_a_rep_in_new_york_reads_new_york_time_with_utc_in_small_print() -> None:
    content = build_content(assigned(Contact(email=NY_REP)), "America/New_York")
    _subject, text = render_text(content)
    assert "Please respond by 2026-11-23 09:05 EST (14:05 UTC)." in text
    assert "Please respond by 2026-11-23 09:05 EST <small>(14:05 UTC)</small>." in render_html(
        content
    )
    assert "2026-11-23 09:05 EST _(14:05 UTC)_." in json.dumps(render_slack(content))


def test_utc_itself_has_no_small_print_and_a_day_boundary_shows_the_utc_date() -> None:
    _s, text = render_text(build_content(assigned(None)))
    assert "Please respond by 2026-11-23 14:05 UTC." in text
    late = NotificationEvent(
        EventKind.LEAD_ASSIGNED, "d:2", due_at=datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    )
    _s, text = render_text(in_zone(build_content(late), "America/New_York"))
    assert "Please respond by 2026-11-23 21:00 EST (2026-11-24 02:00 UTC)." in text


@pytest.fixture
def notify(tmp_path: Path) -> NotifySettings:
    config = tmp_path / "routing.yaml"
    config.write_text(
        (ROOT / "config" / "routing.yaml").read_text()
        + "\nnotifications:\n"
        + "  channels: {email: {type: email}, hook: {type: webhook, url: https://h.example/x, secret_env: HOOK_KEY}}\n"
        + "  events: {lead_assigned: {notify: [owner, manager], channels: [email, hook]}}\n"
        + f"  people: {{{BERLIN_REP}: {{manager: ops@acme.example}}}}\n"
    )
    loaded, errors, _warnings = check_config_file(config, environ={"HOOK_KEY": "k" * 32})
    assert loaded is not None, errors
    return loaded.notify


def test_the_config_gives_each_rep_their_zone_and_everyone_else_the_teams(
    notify: NotifySettings,
) -> None:
    assert notify.timezone == "America/New_York"  # intake.business_hours.timezone
    contact = lookup(NY_REP, notify, None)
    assert contact is not None and contact.timezone == "America/New_York"
    contact = lookup(BERLIN_REP, notify, None)
    assert contact is not None and contact.timezone == "Europe/Berlin"
    stranger = lookup("ops@acme.example", notify, None)
    assert stranger is not None and stranger.timezone is None


def queued(
    monkeypatch: pytest.MonkeyPatch, notify: NotifySettings, event: NotificationEvent
) -> dict[str, Any]:
    """What enqueue_event would write to the outbox: payloads by recipient."""
    captured: list[NewMessage] = []

    def insert(_session: object, messages: list[NewMessage], _now: datetime) -> int:
        captured.extend(messages)
        return len(messages)

    monkeypatch.setattr(enqueue, "insert_messages", insert)
    enqueue.enqueue_event(None, event, settings=notify, now=DUE)  # type: ignore[arg-type]
    return {m.recipient: json.loads(m.payload) for m in captured}


def test_each_email_is_in_its_recipients_zone_and_the_webhook_in_the_owners(
    monkeypatch: pytest.MonkeyPatch, notify: NotifySettings
) -> None:
    owner = lookup(BERLIN_REP, notify, None)
    manager = lookup("ops@acme.example", notify, None)
    event = replace(assigned(owner), manager=manager)
    payloads = queued(monkeypatch, notify, event)
    assert "Please respond by 2026-11-23 15:05 CET (14:05 UTC)." in payloads[BERLIN_REP]["text"]
    # the manager is no rep of the config: the team's zone
    assert "respond by 2026-11-23 09:05 EST (14:05 UTC)." in payloads["ops@acme.example"]["text"]
    hook = payloads["channel"]
    assert "15:05 CET (14:05 UTC)" in hook["text"] and hook["due_at"] == DUE.isoformat()


def test_a_new_york_rep_gets_new_york_time_end_to_end(
    monkeypatch: pytest.MonkeyPatch, notify: NotifySettings
) -> None:
    payloads = queued(monkeypatch, notify, assigned(lookup(NY_REP, notify, None)))
    assert "Please respond by 2026-11-23 09:05 EST (14:05 UTC)." in payloads[NY_REP]["text"]
    assert "<small>(14:05 UTC)</small>" in payloads[NY_REP]["html"]


def test_a_people_entry_may_set_a_zone_and_a_bad_one_names_the_key(tmp_path: Path) -> None:
    from worker.notify.config import NotifyConfigError, parse_notify_section

    section = {"people": {"ops@acme.example": {"timezone": "Asia/Tokyo"}}}
    assert parse_notify_section(section).people["ops@acme.example"].timezone == "Asia/Tokyo"
    with pytest.raises(NotifyConfigError, match=r"people\.ops@acme\.example\.timezone: unknown"):
        parse_notify_section({"people": {"ops@acme.example": {"timezone": "Mars/Olympus"}}})
