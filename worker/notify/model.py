"""Values the notification module works with: channels, routing of events, people and the
events themselves. Frozen dataclasses; secrets are ``SecretStr`` so a stray ``repr`` or log
line never shows a webhook URL, an HMAC secret or an SMTP password."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

ChannelKind = Literal["slack", "webhook", "email"]
Role = Literal["owner", "previous_owner", "manager", "revops"]
ROLES: tuple[Role, ...] = ("owner", "previous_owner", "manager", "revops")


class EventKind(StrEnum):
    LEAD_ASSIGNED = "lead_assigned"  # to the new owner
    SLA_REMINDER = "sla_reminder"  # SLA about to breach: to the owner
    SLA_REASSIGNED = "sla_reassigned"  # previous owner, new owner, manager
    SLA_MISSED = "sla_missed"  # SLA breached, the lead stays: remind the owner
    SLA_ESCALATED = "sla_escalated"  # SLA breached, the lead stays: tell the owner's manager
    LEAD_HELD = "lead_held"  # nobody eligible: RevOps
    API_ALLOCATION = "api_allocation"  # worker stopped writing: RevOps


@dataclass(frozen=True)
class Channel:
    """Where messages go. ``url`` is a secret for Slack (the URL is the credential)."""

    name: str
    kind: ChannelKind
    url: SecretStr | None = None
    secret: SecretStr | None = None  # webhook HMAC key
    rate_per_minute: int = 60


@dataclass(frozen=True)
class EventRoute:
    """Who hears about an event (roles) and through which channels."""

    roles: tuple[Role, ...]
    channels: tuple[str, ...]


@dataclass(frozen=True)
class Contact:
    """A person we can notify. ``slack`` is a Slack member id (``U0123ABC``) or handle."""

    email: str | None = None
    name: str | None = None
    slack: str | None = None
    manager: str | None = None  # the manager's e-mail
    timezone: str | None = None  # IANA; times in messages to this person are shown in it


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None = None
    port: int = 587
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = True
    tls: bool = False
    sender: str = "leadrouter@localhost"
    ca_bundle: Path | None = None
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 8
    backoff_seconds: float = 30.0
    max_backoff_seconds: float = 3600.0
    lease_seconds: float = 120.0
    timeout_seconds: float = 10.0
    batch_size: int = 50


@dataclass(frozen=True)
class NotifySettings:
    enabled: bool = True
    salesforce_url: str | None = None  # for lead links; else the caller's lead_url
    dashboard_url: str | None = None  # for links to a lead's "why" page
    reminder_at: float = 0.7  # fraction of the SLA window
    channels: dict[str, Channel] = field(default_factory=dict)
    events: dict[EventKind, EventRoute] = field(default_factory=dict)
    pools: dict[str, dict[EventKind, EventRoute]] = field(default_factory=dict)
    revops: tuple[str, ...] = ()
    people: dict[str, Contact] = field(default_factory=dict)  # keyed by lower-case e-mail
    # times in messages: the recipient's zone (reps' from the routing config, by
    # lower-case e-mail), else the team's (the intake business hours' zone), else UTC
    timezone: str = "UTC"
    rep_timezones: dict[str, str] = field(default_factory=dict)
    delivery: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)

    def route_for(self, event: EventKind, pool: str | None) -> EventRoute | None:
        """The pool's own route for ``event`` if it has one, else the default. An SLA
        miss that keeps the lead borrows the channels of the older events when it has no
        route of its own: ``sla_missed`` those of ``sla_reminder`` (to the owner),
        ``sla_escalated`` those of ``sla_reassigned`` (to the manager)."""
        if pool is not None and event in self.pools.get(pool, {}):
            return self.pools[pool][event]
        if event in self.events:
            return self.events[event]
        borrowed = _BORROWED.get(event)
        if borrowed is None:
            return None
        route = self.route_for(borrowed[0], pool)
        return EventRoute(borrowed[1], route.channels) if route else None


_BORROWED: dict[EventKind, tuple[EventKind, tuple[Role, ...]]] = {
    EventKind.SLA_MISSED: (EventKind.SLA_REMINDER, ("owner",)),
    EventKind.SLA_ESCALATED: (EventKind.SLA_REASSIGNED, ("manager",)),
}


@dataclass(frozen=True)
class LeadInfo:
    id: str
    name: str | None = None
    company: str | None = None
    url: str | None = None
    why_url: str | None = None  # the dashboard's page saying why the lead went there


@dataclass(frozen=True)
class NotificationEvent:
    """Something worth telling people. ``source`` makes the dedup key: the same source +
    kind is enqueued once per channel and recipient, however often it is reported."""

    kind: EventKind
    source: str  # e.g. "decision:42", "api:2026-11-23"
    lead: LeadInfo | None = None
    pool: str | None = None
    reason: str = ""
    owner: Contact | None = None
    previous_owner: Contact | None = None
    manager: Contact | None = None
    decision_id: int | None = None
    due_at: datetime | None = None
    facts: dict[str, str] = field(default_factory=dict)  # e.g. {"used": "14500"}
    occurred_at: datetime | None = None
