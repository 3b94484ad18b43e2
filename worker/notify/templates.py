"""Message templates: one plain sentence per event, a "why" line, a link to the lead.

Templates are ``str.format`` patterns whose values are untrusted lead data; each output
format escapes the values for itself before formatting: Slack mrkdwn (``& < >``), HTML
(``html.escape``), plain text (control characters and line breaks flattened, so a lead
name cannot forge extra lines or mail headers). The generic webhook gets structured JSON.

Times are shown in the recipient's time zone (the rep's, from the routing config; the
team's, the intake business hours' zone, otherwise) with the UTC time in small print:
``{due_utc}`` is that small print, wrapped per format (``<small>`` in HTML, italics in
Slack, parentheses in plain text), and empty when the zone is UTC itself.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from worker.notify.model import Contact, EventKind, NotificationEvent

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")

TITLES: dict[EventKind, str] = {
    EventKind.LEAD_ASSIGNED: "New lead for {owner}: {lead} ({company})",
    EventKind.SLA_REMINDER: "Reminder: {lead} ({company}) needs a first touch by {due}",
    EventKind.SLA_REASSIGNED: "{lead} ({company}) moved from {previous} to {owner}: "
    "response time missed",
    EventKind.SLA_MISSED: "Response time missed: {lead} ({company}) still needs a first touch",
    EventKind.SLA_ESCALATED: "{owner} missed the response time for {lead} ({company})",
    EventKind.LEAD_HELD: "Lead held, nobody eligible: {lead} ({company})",
    EventKind.API_ALLOCATION: "Routing writes paused: Salesforce API allocation nearly spent",
}


@dataclass(frozen=True)
class Content:
    """A message before formatting: patterns plus the untrusted values they refer to."""

    title: str
    lines: tuple[str, ...]
    values: dict[str, str]
    link: str | None
    why: str | None = None  # the dashboard's "why" page of the lead
    due_at: datetime | None = None
    zone: str = "UTC"  # the time zone ``due`` is shown in


def build_content(event: NotificationEvent, zone: str = "UTC") -> Content:
    """The message for ``event``, times shown in ``zone`` (see :func:`in_zone`)."""
    lead = event.lead
    values = {
        "lead": (lead.name if lead and lead.name else "a lead") or "a lead",
        "company": (lead.company if lead and lead.company else "no company"),
        "owner": _who(event.owner),
        "previous": _who(event.previous_owner),
        "reason": event.reason or "no reason recorded",
        "pool": event.pool or "no pool",
        **_when(event.due_at, zone),
        **{f"fact_{k}": v for k, v in event.facts.items()},
    }
    lines = ["Why: {reason}"]
    if event.kind == EventKind.LEAD_ASSIGNED and event.due_at is not None:
        lines.append("Please respond by {due}{due_utc}.")
    if event.kind in (EventKind.SLA_REMINDER, EventKind.SLA_MISSED, EventKind.SLA_ESCALATED):
        lines.insert(0, "Owner: {owner}")
    if event.kind == EventKind.SLA_MISSED and event.due_at is not None:
        lines.append("Please respond by {due}{due_utc}.")
    if event.kind == EventKind.SLA_ESCALATED:
        lines.append("The lead stays with {owner}.")
    if event.kind == EventKind.LEAD_HELD:
        lines.insert(0, "Pool: {pool}. The lead stays in the intake queue and is retried.")
    if event.kind == EventKind.API_ALLOCATION:
        lines = ["Why: {reason}"]
        if {"used", "max"} <= event.facts.keys():
            lines.insert(0, "Used {fact_used} of {fact_max} API calls (last 24 hours).")
    link = lead.url if lead else None
    why = lead.why_url if lead else None
    return Content(TITLES[event.kind], tuple(lines), values, link, why, event.due_at, zone)


def in_zone(content: Content, zone: str | None) -> Content:
    """``content`` with its times in ``zone`` (a recipient's); ``None`` keeps its own."""
    if not zone or zone == content.zone:
        return content
    return replace(content, values={**content.values, **_when(content.due_at, zone)}, zone=zone)


def render_text(content: Content) -> tuple[str, str]:
    """(subject, body) as plain text; also the e-mail subject and text alternative."""
    values = {k: _flat(v) for k, v in content.values.items()}
    values[SMALL] = f" ({values[SMALL]})" if values.get(SMALL) else ""
    subject = content.title.format(**values)
    body = [subject, "", *(line.format(**values) for line in content.lines)]
    if content.link:
        body += ["", f"Open in Salesforce: {_flat(content.link)}"]
    if content.why:
        body += [f"Why it went there: {_flat(content.why)}"]
    return subject, "\n".join(body) + "\n"


def render_html(content: Content) -> str:
    values = {k: html.escape(_flat(v)) for k, v in content.values.items()}
    values[SMALL] = f" <small>({values[SMALL]})</small>" if values.get(SMALL) else ""
    parts = [f"<p><strong>{content.title.format(**values)}</strong></p>"]
    parts += [f"<p>{line.format(**values)}</p>" for line in content.lines]
    if content.link:
        href = html.escape(_flat(content.link), quote=True)
        parts.append(f'<p><a href="{href}">Open in Salesforce</a></p>')
    if content.why:
        why = html.escape(_flat(content.why), quote=True)
        parts.append(f'<p><a href="{why}">Why it went there</a></p>')
    return "<html><body>\n" + "\n".join(parts) + "\n</body></html>\n"


def render_slack(content: Content, mentions: tuple[str, ...] = ()) -> dict[str, Any]:
    """A Slack incoming-webhook payload: ``text`` fallback plus ``blocks``."""
    values = {k: slack_escape(_flat(v)) for k, v in content.values.items()}
    values[SMALL] = f" _({values[SMALL]})_" if values.get(SMALL) else ""
    title = content.title.format(**values)
    body = "\n".join(line.format(**values) for line in content.lines)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*\n{body}"}}
    ]
    context = [slack_mention(m) for m in mentions]
    if content.link:
        context.append(f"<{slack_escape(_flat(content.link))}|Open in Salesforce>")
    if content.why:
        context.append(f"<{slack_escape(_flat(content.why))}|Why it went there>")
    if context:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " ".join(context)}]}
        )
    return {"text": title, "blocks": blocks}


def slack_escape(text: str) -> str:
    """Slack's three control characters, per its "Formatting text" guide."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_mention(handle: str) -> str:
    """``U0123ABC`` (a member id) becomes a real mention; anything else is shown as text."""
    if re.fullmatch(r"[UW][A-Z0-9]{6,}", handle):
        return f"<@{handle}>"
    return slack_escape("@" + handle.lstrip("@"))


def _who(contact: Contact | None) -> str:
    if contact is None:
        return "nobody"
    return contact.name or contact.email or "an unnamed user"


SMALL = "due_utc"  # the value shown in small print


def _when(at: datetime | None, zone: str) -> dict[str, str]:
    """``due`` in ``zone`` and ``due_utc``, the UTC time for the small print (the date
    only when it differs; empty when ``zone`` is UTC). An unknown zone shows UTC."""
    if at is None:
        return {"due": "no deadline", SMALL: ""}
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    at = at.astimezone(UTC)
    try:
        tz = ZoneInfo(zone) if zone not in ("UTC", "Etc/UTC") else None
    except (ZoneInfoNotFoundError, ValueError):
        tz = None
    if tz is None:
        return {"due": at.strftime("%Y-%m-%d %H:%M UTC"), SMALL: ""}
    local = at.astimezone(tz)
    utc_text = at.strftime("%H:%M UTC" if at.date() == local.date() else "%Y-%m-%d %H:%M UTC")
    return {"due": local.strftime("%Y-%m-%d %H:%M %Z"), SMALL: utc_text}


def _flat(text: str) -> str:
    return _CONTROL.sub(" ", text).strip()
