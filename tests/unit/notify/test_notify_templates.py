"""Templates: readable, with lead data escaped for each format."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from worker.notify.model import Contact, EventKind, LeadInfo, NotificationEvent
from worker.notify.templates import build_content, render_html, render_slack, render_text

EVIL = LeadInfo(
    id="00Q5e00000AbCdEAAV",
    name="<script>alert(1)</script> & Co",
    company="Evil <@channel>\nBcc: all@x",
    url="https://acme.my.salesforce.com/lightning/r/Lead/00Q5e00000AbCdEAAV/view",
)


def _assigned(lead: LeadInfo = EVIL) -> NotificationEvent:
    return NotificationEvent(
        kind=EventKind.LEAD_ASSIGNED,
        source="decision:1",
        lead=lead,
        reason="Matched account Globex (domain globex.com)",
        owner=Contact(email="sarah@acme.example", name="Sarah Johnson", slack="U024BE7LH"),
        due_at=datetime(2026, 11, 23, 14, 5, tzinfo=UTC),
    )


def test_plain_text_names_lead_company_reason_deadline_and_link() -> None:
    lead = LeadInfo(id="00Q1", name="Ada Lovelace", company="Analytical Engines", url="https://x/l")

    subject, body = render_text(build_content(_assigned(lead)))

    assert subject == "New lead for Sarah Johnson: Ada Lovelace (Analytical Engines)"
    assert "Why: Matched account Globex (domain globex.com)" in body
    assert "Please respond by 2026-11-23 14:05 UTC." in body
    assert "Open in Salesforce: https://x/l" in body


def test_plain_text_flattens_line_breaks_so_lead_data_cannot_forge_lines() -> None:
    subject, _ = render_text(build_content(_assigned()))

    assert "\n" not in subject
    assert "Evil <@channel> Bcc: all@x" in subject


def test_slack_escapes_ampersand_and_angle_brackets_in_lead_data() -> None:
    payload = render_slack(build_content(_assigned()), mentions=("U024BE7LH",))
    text = json.dumps(payload)

    assert "<script>" not in text and "<@channel>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in payload["text"]
    context = payload["blocks"][1]["elements"][0]["text"]
    assert context.startswith("<@U024BE7LH> ")
    assert context.endswith("|Open in Salesforce>")


def test_html_escapes_lead_data_and_keeps_the_link() -> None:
    page = render_html(build_content(_assigned()))

    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page
    assert (
        '<a href="https://acme.my.salesforce.com/lightning/r/Lead/00Q5e00000AbCdEAAV/view">' in page
    )


def test_held_lead_message_tells_revops_the_pool_and_why() -> None:
    event = NotificationEvent(
        kind=EventKind.LEAD_HELD,
        source="decision:2",
        lead=LeadInfo(id="00Q2", name="Bo", company="Zed"),
        pool="emea",
        reason="Everyone in emea is at their daily cap",
    )

    subject, body = render_text(build_content(event))

    assert subject == "Lead held, nobody eligible: Bo (Zed)"
    assert "Pool: emea." in body and "Why: Everyone in emea is at their daily cap" in body


def test_api_allocation_message_states_usage() -> None:
    event = NotificationEvent(
        kind=EventKind.API_ALLOCATION,
        source="api:2026-11-23",
        reason="95% of the daily allocation used; writes resume below 90%",
        facts={"used": "14250", "max": "15000"},
    )

    _, body = render_text(build_content(event))

    assert "Used 14250 of 15000 API calls (last 24 hours)." in body


def test_sla_miss_messages_tell_the_owner_to_act_and_the_manager_who_missed_it() -> None:
    lead = LeadInfo(id="00Q3", name="Ada Lovelace", company="Analytical Engines")
    reason = "SLA of 30 min missed: reminded Sarah Johnson; escalated to their manager Maria"
    owner = Contact(email="sarah@acme.example", name="Sarah Johnson")
    due = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    missed = NotificationEvent(EventKind.SLA_MISSED, "decision:3", lead, reason=reason,
                               owner=owner, due_at=due)  # fmt: skip
    escalated = NotificationEvent(EventKind.SLA_ESCALATED, "decision:3", lead, reason=reason,
                                  owner=owner)  # fmt: skip

    subject, body = render_text(build_content(missed))
    assert (
        subject
        == "Response time missed: Ada Lovelace (Analytical Engines) still needs a first touch"
    )
    assert "Please respond by 2026-11-23 15:00 UTC." in body and f"Why: {reason}" in body
    subject, body = render_text(build_content(escalated))
    assert subject == "Sarah Johnson missed the response time for Ada Lovelace (Analytical Engines)"
    assert "The lead stays with Sarah Johnson." in body
