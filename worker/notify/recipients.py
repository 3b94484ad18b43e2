"""Who is who: turn a journal decision into contacts, and an event's roles into people.

A decision knows its owner's e-mail (``rep_key``) and Salesforce Ids. The caller may pass
a ``directory`` (Salesforce User Id or e-mail -> :class:`Contact`, built from the User
records it already has); the config's ``notifications.people`` adds or overrides Slack
handles, e-mail addresses and managers, keyed by the rep's e-mail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from worker.notify.model import Contact, NotificationEvent, NotifySettings, Role
from worker.store.models.journal import JournalRow

Directory = Mapping[str, Contact]


def lookup(
    key: str | None, settings: NotifySettings, directory: Directory | None, name: str | None = None
) -> Contact | None:
    """The contact for a User Id or e-mail, with config overrides applied."""
    if not key:
        return None
    found = (directory or {}).get(key) or (directory or {}).get(key.lower())
    email = found.email if found and found.email else key if "@" in key else None
    email = email.lower() if email else None
    override = settings.people.get(email) if email else None
    if found is None and override is None and email is None:
        return None
    contact = found or Contact(email=email)
    if override is not None:
        contact = Contact(
            email=override.email or contact.email,
            name=override.name or contact.name,
            slack=override.slack or contact.slack,
            manager=override.manager or contact.manager,
            timezone=override.timezone or contact.timezone,
        )
    if name and not contact.name:
        contact = replace(contact, name=name)
    if not contact.timezone and contact.email in settings.rep_timezones:
        contact = replace(contact, timezone=settings.rep_timezones[contact.email])
    return contact


def decision_contacts(
    decision: JournalRow, settings: NotifySettings, directory: Directory | None
) -> tuple[Contact | None, Contact | None, Contact | None]:
    """(owner, previous owner, manager) of a decision. The manager is the previous owner's
    (the one who missed the response time), else the new owner's."""
    owner = lookup(decision.rep_key or decision.owner_id, settings, directory, decision.owner_name)
    if owner is None and decision.owner_id:
        owner = lookup(decision.owner_id, settings, directory, decision.owner_name)
    previous = lookup(decision.previous_owner_id, settings, directory)
    manager_key = (previous.manager if previous else None) or (owner.manager if owner else None)
    manager = lookup(manager_key, settings, directory)
    return owner, previous, manager


def manager_of(
    owner: str | None, settings: NotifySettings, directory: Directory | None
) -> Contact | None:
    """The manager of ``owner`` (a User Id or e-mail): Salesforce's ``User.Manager``, or
    ``notifications.people.<owner>.manager``; None when neither names one."""
    contact = lookup(owner, settings, directory)
    return lookup(contact.manager, settings, directory) if contact and contact.manager else None


def people_for(
    event: NotificationEvent, roles: tuple[Role, ...], settings: NotifySettings
) -> list[tuple[Role, Contact]]:
    """The people an event goes to, in role order, each person once."""
    out: list[tuple[Role, Contact]] = []
    seen: set[str] = set()
    for role in roles:
        for contact in _role(event, role, settings):
            ident = (contact.email or contact.slack or contact.name or "").lower()
            if ident and ident not in seen:
                seen.add(ident)
                out.append((role, contact))
    return out


def _role(event: NotificationEvent, role: Role, settings: NotifySettings) -> list[Contact]:
    if role == "revops":
        return [c for e in settings.revops if (c := lookup(e, settings, None)) is not None]
    contact = {
        "owner": event.owner,
        "previous_owner": event.previous_owner,
        "manager": event.manager,
    }[role]
    return [contact] if contact is not None else []
