"""The ``notifications:`` section loader: the example loads, bad keys are named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from worker.notify import NotifyConfigError, load_notify_settings, parse_notify_section
from worker.notify.model import EventKind
from worker.settings import load_settings

EXAMPLE = Path(__file__).parents[3] / "config" / "notifications.example.yaml"
ENV = {
    "LEADROUTER_SLACK_SALES_URL": "https://hooks.slack.com/services/T0/B0/secret-sales",
    "LEADROUTER_SLACK_REVOPS_URL": "https://hooks.slack.com/services/T0/B1/secret-revops",
    "LEADROUTER_WEBHOOK_SECRET": "s3cret",
}


def _section(**overrides: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "channels": {"ops": {"type": "webhook", "url": "https://x.example/h", "secret_env": "S"}},
        "events": {"lead_held": {"notify": ["revops"], "channels": ["ops"]}},
        "revops": ["RevOps@Acme.example"],
    }
    section.update(overrides)
    return section


def test_example_file_loads_with_its_secrets_from_the_environment() -> None:
    settings = load_notify_settings(EXAMPLE, environ=ENV)

    assert settings.enabled
    assert settings.channels["sales-slack"].url is not None
    assert (
        settings.channels["sales-slack"].url.get_secret_value() == ENV["LEADROUTER_SLACK_SALES_URL"]
    )
    assert "secret-sales" not in repr(settings)
    assert settings.route_for(EventKind.LEAD_ASSIGNED, "enterprise-na").roles == (
        "owner",
        "manager",
    )
    assert settings.route_for(EventKind.LEAD_ASSIGNED, "smb").roles == ("owner",)
    assert settings.reminder_at == 0.7


def test_file_without_a_notifications_section_disables_notifications(tmp_path: Path) -> None:
    path = tmp_path / "routing.yaml"
    path.write_text("pools: {}\n")

    assert not load_notify_settings(path).enabled


def test_plain_http_url_is_refused_with_the_key_path_and_without_echoing_it() -> None:
    section = _section(
        channels={"sales": {"type": "slack", "url": "http://hooks.slack.com/T/B/tok"}}
    )

    with pytest.raises(NotifyConfigError) as err:
        parse_notify_section(section, environ={"S": "x"})

    assert str(err.value) == (
        "notifications.channels.sales.url: must be https "
        "(plain http only to localhost, and only with allow_local_http: true)"
    )


def _slack(url: str, **extra: Any) -> dict[str, Any]:
    return _section(
        channels={"sales": {"type": "slack", "url": url}},
        events={"lead_held": {"notify": ["revops"], "channels": ["sales"]}},
        **extra,
    )


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://localhost@evil.example/hook", "must not have a user name or password"),
        ("https://localhost@evil.example/hook", "must not have a user name or password"),
        ("http://127.0.0.1@evil.example/hook", "must not have a user name or password"),
        ("https://user:pw@hooks.example.com/x", "must not have a user name or password"),
        ("http://127.0.0.1.evil.example/", "must be https"),
        ("http://localhost.evil.example/hook", "must be https"),
        ("http://[::1].evil.example/", "not a valid http(s) URL"),
        ("http://evil.example/#http://127.0.0.1", "must be https"),
        ("ftp://127.0.0.1/x", "not a valid http(s) URL"),
        ("https://", "not a valid http(s) URL"),
    ],
)
def test_look_alike_and_userinfo_urls_are_refused_even_with_local_http_allowed(
    url: str, why: str
) -> None:
    with pytest.raises(NotifyConfigError) as err:
        parse_notify_section(_slack(url, allow_local_http=True), environ={"S": "x"})

    assert str(err.value).startswith(f"notifications.channels.sales.url: {why}")
    assert "evil" not in str(err.value)  # the URL (a credential) is never echoed


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8025/hook", "http://localhost:9/x", "http://[::1]:80/x"]
)
def test_plain_http_to_loopback_needs_the_explicit_setting(url: str) -> None:
    with pytest.raises(NotifyConfigError, match="url: must be https"):
        parse_notify_section(_slack(url), environ={"S": "x"})

    allowed = parse_notify_section(_slack(url, allow_local_http=True), environ={"S": "x"})

    assert allowed.channels["sales"].url is not None


def test_the_url_sent_to_is_the_parsed_one() -> None:
    settings = parse_notify_section(
        _slack("http://127.1:8025/hook", allow_local_http=True), environ={"S": "x"}
    )

    assert settings.channels["sales"].url is not None
    assert settings.channels["sales"].url.get_secret_value() == "http://127.0.0.1:8025/hook"


def test_allow_local_http_must_be_a_boolean() -> None:
    with pytest.raises(NotifyConfigError, match="notifications.allow_local_http: must be true"):
        parse_notify_section(_section(allow_local_http="yes"), environ={"S": "x"})


def test_missing_secret_variable_is_named() -> None:
    with pytest.raises(
        NotifyConfigError, match=r"notifications.channels.ops.secret_env: variable S is not set"
    ):
        parse_notify_section(_section(), environ={})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"events": {"lead_lost": {}}}, "notifications.events.lead_lost: unknown event"),
        ({"events": {"lead_held": {"channels": ["nope"]}}}, "no channel named 'nope'"),
        ({"events": {"lead_held": {"notify": ["boss"]}}}, "unknown role 'boss'"),
        ({"reminder_at": 1.5}, "notifications.reminder_at: must be between 0 and 1"),
        ({"revops": ["not-an-address"]}, "notifications.revops: 'not-an-address' is not an e-mail"),
        (
            {"delivery": {"max_attempts": 0}},
            "notifications.delivery.max_attempts: must be positive",
        ),
        ({"colour": "red"}, "notifications.colour: unknown key"),
    ],
)
def test_invalid_section_names_the_key(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(NotifyConfigError, match=message):
        parse_notify_section(_section(**overrides), environ={"S": "x"})


def test_smtp_credentials_come_from_settings_and_stay_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEADROUTER_SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv("LEADROUTER_SMTP_PASSWORD", "hunter2")
    monkeypatch.setenv("LEADROUTER_SMTP_TLS", "true")

    settings = parse_notify_section(_section(), settings=load_settings(), environ={"S": "x"})

    assert settings.smtp.host == "smtp.example.com" and settings.smtp.tls
    assert (
        settings.smtp.password is not None
        and settings.smtp.password.get_secret_value() == "hunter2"
    )
    assert "hunter2" not in repr(settings)
    assert settings.revops == ("revops@acme.example",)


def test_sla_misses_that_keep_the_lead_borrow_the_older_events_channels() -> None:
    settings = parse_notify_section(
        {
            "channels": {"mail": {"type": "email"}},
            "events": {
                "sla_reminder": {"notify": ["owner"], "channels": ["mail"]},
                "sla_reassigned": {"notify": ["previous_owner", "owner"], "channels": ["mail"]},
            },
        }
    )
    missed = settings.route_for(EventKind.SLA_MISSED, None)
    escalated = settings.route_for(EventKind.SLA_ESCALATED, "emea")
    assert missed is not None and (missed.roles, missed.channels) == (("owner",), ("mail",))
    assert escalated is not None
    assert (escalated.roles, escalated.channels) == (("manager",), ("mail",))
    own = parse_notify_section(
        {
            "channels": {"mail": {"type": "email"}},
            "events": {"sla_escalated": {"notify": ["manager", "revops"], "channels": ["mail"]}},
        }
    )
    route = own.route_for(EventKind.SLA_ESCALATED, None)
    assert route is not None and route.roles == ("manager", "revops")
    assert own.route_for(EventKind.SLA_MISSED, None) is None  # nothing to borrow from
