"""Each notification links the lead to the dashboard's "why" page when the dashboard's
address is set (LEADROUTER_DASHBOARD_URL), in every format; without it, no such link."""

from __future__ import annotations

import pytest

from worker.notify import event_for_decision, parse_notify_section
from worker.notify.templates import build_content, render_html, render_slack, render_text
from worker.settings import Settings
from worker.store.models.journal import JournalRow

SECTION = {"channels": {"mail": {"type": "email"}}}


def _settings(dashboard_url: str | None) -> Settings:
    return Settings(database_url="sqlite://", dashboard_url=dashboard_url)  # type: ignore[call-arg]


def _event(dashboard_url: str | None):  # type: ignore[no-untyped-def]
    notify = parse_notify_section(SECTION, settings=_settings(dashboard_url), environ={})
    decision = JournalRow(id=3, lead_id="00Q5e00000AbCdEAAV", cycle_id="c", kind="route",
                          status="applied", owner_id="005A", rep_key="a@x.example", reason="r")  # fmt: skip
    event = event_for_decision(decision, settings=notify)
    assert event is not None
    return event


def test_every_format_links_the_leads_why_page() -> None:
    content = build_content(_event("https://leads.acme.example/"))
    link = "https://leads.acme.example/lead?lead=00Q5e00000AbCdEAAV"
    assert f"Why it went there: {link}" in render_text(content)[1]
    assert f'<a href="{link}">Why it went there</a>' in render_html(content)
    context = render_slack(content)["blocks"][-1]["elements"][0]["text"]
    assert f"<{link}|Why it went there>" in context


def test_no_dashboard_address_no_why_link() -> None:
    content = build_content(_event(None))
    assert content.why is None
    assert "Why it went there" not in render_text(content)[1]


@pytest.mark.parametrize("bad", ["leads.acme.example", "https://x/?a=1", "javascript:alert(1)"])
def test_a_dashboard_address_that_is_no_web_address_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="dashboard_url"):
        _settings(bad)
