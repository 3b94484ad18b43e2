"""Notifications: tell the rep the moment a lead is theirs, remind before the
response time runs out, tell RevOps about held leads and a spent API allocation.

Public API (the worker calls these; everything else is internal)::

    settings = load_notify_settings(Path("config/routing.yaml"), settings=app_settings)
    # in the transaction that marks a decision applied or held:
    enqueue_for_decision(session, decision, settings=settings, directory=users)
    # on the SLA sweep (the reminders due first: subscribed, their leads are read):
    sla_reminders_due(session, settings=settings, now=now, directory=users)
    enqueue_sla_reminders(session, settings=settings, now=now, directory=users)
    # RevOps events:
    enqueue_event(session, NotificationEvent(EventKind.API_ALLOCATION, source="api:2026-11-23",
                  reason="...", facts={"used": "14500", "max": "15000"}), settings=settings)
    # the scheduled job (never raises):
    deliver_due(engine, settings=settings, now=now)
    # the dashboard:
    outbox_summary(engine)
"""

from worker.notify.config import NotifyConfigError, load_notify_settings, parse_notify_section
from worker.notify.delivery import DeliveryReport, deliver_due
from worker.notify.enqueue import (
    enqueue_event,
    enqueue_for_decision,
    enqueue_sla_reminders,
    event_for_decision,
    lead_link,
    sla_reminders_due,
)
from worker.notify.model import (
    Channel,
    Contact,
    EventKind,
    LeadInfo,
    NotificationEvent,
    NotifySettings,
)
from worker.notify.summary import outbox_summary
from worker.notify.transports import SendError, Transports

__all__ = [
    "Channel",
    "Contact",
    "DeliveryReport",
    "EventKind",
    "LeadInfo",
    "NotificationEvent",
    "NotifyConfigError",
    "NotifySettings",
    "SendError",
    "Transports",
    "deliver_due",
    "enqueue_event",
    "enqueue_for_decision",
    "enqueue_sla_reminders",
    "event_for_decision",
    "lead_link",
    "load_notify_settings",
    "outbox_summary",
    "parse_notify_section",
    "sla_reminders_due",
]
