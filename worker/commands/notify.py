"""``leadrouter notify``: the demo sink, test messages, the outbox's state and a manual
delivery run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from worker.commands._common import one_line_errors, settings_or_exit, store_engine
from worker.notify import (
    EventKind,
    LeadInfo,
    NotificationEvent,
    NotifySettings,
    SendError,
    Transports,
    deliver_due,
    outbox_summary,
)
from worker.notify.delivery import send_payload
from worker.notify.enqueue import messages_for
from worker.notify.model import Contact, Role
from worker.notify.templates import build_content
from worker.settings import Settings


@click.group()
def notify() -> None:
    """Notifications: Slack, webhooks and e-mail about assigned, late and held leads."""


@notify.command("test")
@click.option(
    "--channel", "channel_name", required=True, help="Channel name from notifications.channels."
)
@click.option(
    "--to", "to", default=None, help="E-mail recipient (e-mail channels; default: first RevOps)."
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Routing config with a notifications: section (default: LEADROUTER_ROUTING_CONFIG).",
)
@one_line_errors
def test_cmd(channel_name: str, to: str | None, config_path: Path | None) -> None:
    """Send one test message on a channel, now, bypassing the outbox."""
    settings = settings_or_exit()
    notify_settings = _notify_settings(settings, config_path)
    channel = notify_settings.channels.get(channel_name)
    if channel is None:
        known = ", ".join(sorted(notify_settings.channels)) or "none configured"
        raise click.ClickException(f"--channel: no channel named {channel_name!r} ({known})")
    recipient = to or (notify_settings.revops[0] if notify_settings.revops else None)
    if channel.kind == "email" and not recipient:
        raise click.ClickException(
            "--to: needed for an e-mail channel when no revops address is set"
        )
    now = datetime.now(UTC)
    event = NotificationEvent(
        kind=EventKind.LEAD_ASSIGNED,
        source=f"test:{now.isoformat()}",
        lead=LeadInfo(id="00Q000000000000AAA", name="Test Lead", company="leadrouter"),
        reason="This is a test message from `leadrouter notify test`.",
        owner=Contact(email=recipient, name="you"),
    )
    people: list[tuple[Role, Contact]] = [("owner", Contact(email=recipient, name="you"))]
    (message,) = messages_for(channel, event, build_content(event), people)
    sender = Transports(notify_settings.smtp, timeout=notify_settings.delivery.timeout_seconds)
    try:
        send_payload(
            channel, message.payload, delivery_id=message.dedup_key, sender=sender, now=now
        )
    except SendError as exc:
        raise click.ClickException(f"{channel_name}: {exc}") from None
    finally:
        sender.close()
    click.echo(f"sent a test message via {channel_name} ({channel.kind})")


@notify.command("status")
@one_line_errors
def status_cmd() -> None:
    """Show the outbox: messages by channel and status, and the latest failures."""
    settings = settings_or_exit()
    engine = store_engine(settings.database_url)
    summary = outbox_summary(engine)
    rows = [("total", summary["totals"]), *sorted(summary["channels"].items())]
    width = max(len(name) for name, _ in rows)
    for name, counts in rows:
        click.echo(f"{name:<{width}}  " + "  ".join(f"{k} {v}" for k, v in counts.items()))
    for err in summary["errors"]:
        click.echo(
            f"error    {err['channel']} {err['event']} ({err['status']}, attempt {err['attempts']}): {err['error']}"
        )


@notify.command("deliver")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Routing config with a notifications: section (default: LEADROUTER_ROUTING_CONFIG).",
)
@one_line_errors
def deliver_cmd(config_path: Path | None) -> None:
    """Send what is due in the outbox now (the worker does this on its own schedule)."""
    settings = settings_or_exit()
    notify_settings = _notify_settings(settings, config_path)
    engine = store_engine(settings.database_url)
    report = deliver_due(engine, settings=notify_settings)
    if report.error:
        raise click.ClickException(report.error)
    click.echo(
        f"sent {report.sent}, retry later {report.retried}, dead {report.dead}, "
        f"deferred by rate limit {report.deferred}"
    )


def _notify_settings(settings: Settings, config_path: Path | None) -> NotifySettings:
    from worker.config_source import load_config_file
    from worker.routing_config import ConfigError

    path = config_path or settings.routing_config
    try:
        loaded = load_config_file(path, settings=settings).notify
    except ConfigError as exc:
        raise click.ClickException(str(exc).splitlines()[0]) from None
    if not loaded.enabled:
        raise click.ClickException(f"{path}: notifications are disabled or not configured")
    return loaded
