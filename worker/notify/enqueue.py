"""Turn decisions and events into outbox rows, inside the caller's transaction.

Call :func:`enqueue_for_decision` in the same transaction that marks a decision
``applied`` (or ``held``): the messages then exist if and only if the decision does, and
a write that failed never notifies anyone. Rows are rendered now (the delivery job needs
no config but the channel addresses) and deduplicated on
``<source>:<event>:<channel>:<recipient>``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists
from sqlmodel import Session, select

from worker.notify import bursts, templates
from worker.notify.model import (
    Channel,
    Contact,
    EventKind,
    LeadInfo,
    NotificationEvent,
    NotifySettings,
    Role,
)
from worker.notify.outbox import NewMessage, insert_messages, utc
from worker.notify.recipients import Directory, decision_contacts, people_for
from worker.store.models.journal import DecisionKind, DecisionStatus, JournalRow
from worker.store.models.outbox import OutboxMessage

log = logging.getLogger(__name__)
D: Any = JournalRow
OB: Any = OutboxMessage


def lead_link(instance_url: str | None, lead_id: str) -> str | None:
    """The Lightning record page of a lead."""
    if not instance_url:
        return None
    return f"{instance_url.rstrip('/')}/lightning/r/Lead/{lead_id}/view"


def why_link(dashboard_url: str | None, lead_id: str) -> str | None:
    """The dashboard's "why" page of a lead (``LEADROUTER_DASHBOARD_URL``)."""
    if not dashboard_url or not lead_id.isalnum():
        return None
    return f"{dashboard_url.rstrip('/')}/lead?lead={lead_id}"


def event_for_decision(
    decision: JournalRow,
    *,
    settings: NotifySettings,
    instance_url: str | None = None,
    directory: Directory | None = None,
    kind: EventKind | None = None,
) -> NotificationEvent | None:
    """The event a decision announces (None for pending, failed or skipped decisions)."""
    if kind is None:
        kind = _kind_of(decision)
    if kind is None:
        return None
    owner, previous, manager = decision_contacts(decision, settings, directory)
    lead = LeadInfo(
        id=decision.lead_id,
        name=decision.lead_name,
        company=decision.lead_company,
        url=lead_link(instance_url or settings.salesforce_url, decision.lead_id),
        why_url=why_link(settings.dashboard_url, decision.lead_id),
    )
    return NotificationEvent(
        kind=kind,
        source=_source(decision, kind),
        lead=lead,
        pool=decision.pool,
        reason=bursts.held_burst_reason(decision)
        if kind == EventKind.LEAD_HELD
        else decision.reason,
        owner=owner if decision.status != DecisionStatus.HELD else None,
        previous_owner=previous,
        manager=manager,
        decision_id=decision.id,
        due_at=utc(decision.sla_due_at),
        occurred_at=utc(decision.applied_at or decision.decided_at),
    )


def enqueue_for_decision(
    session: Session,
    decision: JournalRow,
    *,
    settings: NotifySettings,
    instance_url: str | None = None,
    directory: Directory | None = None,
    now: datetime | None = None,
) -> int:
    """Queue the messages announcing ``decision`` (applied or held); returns how many
    rows were new. ``decision.id`` must be set (flush first)."""
    if decision.id is None:
        raise ValueError("enqueue_for_decision needs a flushed decision (id is None)")
    count = 0
    for kind in _kinds_of(decision):
        if kind == EventKind.LEAD_HELD and not bursts.opens_held_burst(session, decision):
            continue  # one alert per burst of held leads (worker.notify.bursts)
        event = event_for_decision(
            decision, settings=settings, instance_url=instance_url, directory=directory, kind=kind
        )
        if event is not None:
            count += enqueue_event(session, event, settings=settings, now=now)
    return count


def enqueue_event(
    session: Session,
    event: NotificationEvent,
    *,
    settings: NotifySettings,
    now: datetime | None = None,
) -> int:
    """Queue ``event`` on the channels its route names; returns how many rows were new."""
    if not settings.enabled:
        return 0
    route = settings.route_for(event.kind, event.pool)
    if route is None or not route.channels:
        return 0
    people = people_for(event, route.roles, settings)
    content = templates.build_content(event, settings.timezone)
    messages: list[NewMessage] = []
    for name in route.channels:
        messages += messages_for(settings.channels[name], event, content, people)
    count = insert_messages(session, messages, (now or datetime.now(UTC)).astimezone(UTC))
    log.info("notify: queued %d message(s) for %s", count, event.kind.value)
    return count


def enqueue_sla_reminders(
    session: Session,
    *,
    settings: NotifySettings,
    now: datetime,
    instance_url: str | None = None,
    directory: Directory | None = None,
) -> int:
    """Queue a reminder for every open SLA past ``reminder_at`` of its window and not yet
    breached. Safe to call on every SLA sweep: each decision is reminded once."""
    due = sla_reminders_due(
        session, settings=settings, now=now, instance_url=instance_url, directory=directory
    )
    return sum(enqueue_event(session, event, settings=settings, now=now) for _, event in due)


def sla_reminders_due(
    session: Session,
    *,
    settings: NotifySettings,
    now: datetime,
    instance_url: str | None = None,
    directory: Directory | None = None,
) -> list[tuple[JournalRow, NotificationEvent]]:
    """The reminders :func:`enqueue_sla_reminders` would queue at ``now``, with their
    decisions: open SLAs past ``reminder_at`` of their window, not yet breached nor
    reminded, whose reminder has somewhere to go (a route with a channel, and someone to
    e-mail on an e-mail channel). One that has nowhere to go is not due: the subscribed
    SLA sweep reads a lead whose reminder is due, and would read it on every sweep."""
    if not settings.enabled:
        return []
    now = now.astimezone(UTC)
    reminded = exists().where(OB.decision_id == D.id, OB.event == EventKind.SLA_REMINDER.value)
    open_sla = and_(
        D.status == DecisionStatus.APPLIED,
        D.sla_state == "open",
        D.sla_due_at > now,
        ~reminded,
    )
    out: list[tuple[JournalRow, NotificationEvent]] = []
    for decision in session.exec(select(JournalRow).where(open_sla)).all():
        start = utc(decision.applied_at or decision.decided_at)
        due = utc(decision.sla_due_at)
        if start is None or due is None:
            continue
        if now < reminder_window_start(start, due, settings.reminder_at):
            continue
        event = event_for_decision(
            decision,
            settings=settings,
            instance_url=instance_url,
            directory=directory,
            kind=EventKind.SLA_REMINDER,
        )
        if event is not None and _goes_somewhere(event, settings):
            out.append((decision, event))
    return out


def _goes_somewhere(event: NotificationEvent, settings: NotifySettings) -> bool:
    """Whether :func:`enqueue_event` would queue a message for ``event`` (as
    :func:`messages_for` builds them: an e-mail per person with an address, one message
    per other channel)."""
    route = settings.route_for(event.kind, event.pool)
    if route is None or not route.channels:
        return False
    mailable = any(c.email for _, c in people_for(event, route.roles, settings))
    return any(settings.channels[n].kind != "email" or mailable for n in route.channels)


def _source(decision: JournalRow, kind: EventKind) -> str:
    """Dedup source: the decision; for held leads, the burst it opens (held leads get a
    new decision on every retry cycle: see :mod:`worker.notify.bursts`)."""
    if kind == EventKind.LEAD_HELD:
        return bursts.held_burst_source(decision)
    return f"decision:{decision.id}"


def _kind_of(decision: JournalRow) -> EventKind | None:
    kinds = _kinds_of(decision)
    return kinds[-1] if kinds else None


def _kinds_of(decision: JournalRow) -> tuple[EventKind, ...]:
    """The events a decision announces: a manager escalation also reminds the owner."""
    if decision.status == DecisionStatus.HELD:
        return (EventKind.LEAD_HELD,)
    if decision.status != DecisionStatus.APPLIED:
        return ()  # pending, failed, skipped: nothing happened in Salesforce
    if decision.kind == DecisionKind.ROUTE:
        return (EventKind.LEAD_ASSIGNED,)
    if decision.kind == DecisionKind.SLA_REMIND:
        return (EventKind.SLA_MISSED,)
    if decision.kind == DecisionKind.ESCALATE_MANAGER:
        return (EventKind.SLA_MISSED, EventKind.SLA_ESCALATED)
    return (EventKind.SLA_REASSIGNED,)


def messages_for(
    channel: Channel,
    event: NotificationEvent,
    content: templates.Content,
    people: list[tuple[Role, Contact]],
) -> list[NewMessage]:
    """The outbox rows for ``event`` on ``channel``: an e-mail per person, with times in
    that person's time zone; one message for a Slack or webhook channel, with times in the
    zone of the first person it is about who has one (the owner), else ``content``'s."""
    key = f"{event.source}:{event.kind.value}:{channel.name}"
    if channel.kind == "email":
        return [
            _email_message(key, event, templates.in_zone(content, c.timezone), c.email, channel)
            for _, c in people
            if c.email
        ]
    content = templates.in_zone(content, next((c.timezone for _, c in people if c.timezone), None))
    if channel.kind == "slack":
        mentions = tuple(c.slack for _, c in people if c.slack)
        body: dict[str, Any] = templates.render_slack(content, mentions)
    else:
        body = _webhook_body(event, content, people)
    return [
        NewMessage(
            f"{key}:channel",
            event.kind.value,
            channel.name,
            "channel",
            json.dumps(body),
            event.decision_id,
        )
    ]


def _email_message(
    key: str, event: NotificationEvent, content: templates.Content, to: str, channel: Channel
) -> NewMessage:
    subject, text = templates.render_text(content)
    html = templates.render_html(content)
    return NewMessage(
        f"{key}:{to}",
        event.kind.value,
        channel.name,
        to,
        json.dumps({"to": to, "subject": subject, "text": text, "html": html}),
        event.decision_id,
    )


def _webhook_body(
    event: NotificationEvent, content: templates.Content, people: list[tuple[Role, Contact]]
) -> dict[str, Any]:
    subject, text = templates.render_text(content)
    lead = event.lead
    return {
        "event": event.kind.value,
        "source": event.source,
        "summary": subject,
        "text": text,
        "reason": event.reason,
        "pool": event.pool,
        "lead": {"id": lead.id, "name": lead.name, "company": lead.company, "url": lead.url}
        if lead
        else None,
        "due_at": event.due_at.isoformat() if event.due_at else None,
        "occurred_at": event.occurred_at.isoformat() if event.occurred_at else None,
        "recipients": [
            {"role": role, "email": c.email, "name": c.name, "slack": c.slack} for role, c in people
        ],
        "facts": dict(event.facts),
    }


def reminder_window_start(applied_at: datetime, due_at: datetime, fraction: float) -> datetime:
    """When the reminder for an SLA window [applied_at, due_at] becomes due."""
    return applied_at + timedelta(seconds=(due_at - applied_at).total_seconds() * fraction)
