"""A rep in a real browser, against the shared demo stack: signs in, switches themselves
off (with a reason), sees their own leads, and cannot reach an admin page, not even by
typing its address. Debian's Chromium, headless, driven by Playwright; screenshots under
test-artifacts/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import (
    DEMO_GROUP,
    REP_KEY,
    REP_USER,
    SHOTS,
    routed_lead,
    settle,
    signed_in_page,
)
from worker.store.db import make_engine
from worker.store.queries.team_settings import load_overrides

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration,
              pytest.mark.xdist_group(DEMO_GROUP)]  # fmt: skip


def test_a_rep_switches_themselves_off_sees_own_leads_and_no_admin_page(
    browser: Any, demo_stack: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    routed_lead(demo_stack, REP_KEY)  # the rep has a lead of their own to see
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = signed_in_page(browser, demo_stack, REP_USER)
    settle(page)
    grid = page.locator('[data-testid="stDataFrame"]')
    expect(grid).to_be_visible()
    # the grid draws on a canvas: its text is in the accessible table behind it
    expect(page.get_by_text("is available")).to_be_visible()
    page.get_by_label("Reason (required to go away)").fill("dentist")
    page.get_by_role("button", name="Go away").click()
    expect(page.get_by_text("is now away (dentist)")).to_be_visible(timeout=60_000)
    settle(page)
    page.screenshot(path=str(SHOTS / "rep-my-leads-away-1280.png"), full_page=True)
    for title in ("Team settings", "Overview", "Team today", "What-if", "Routing editor"):
        expect(page.get_by_role("link", name=title)).to_have_count(0)
    # typing an admin page's address: a new session, and after signing in only the rep's
    # page is there
    other = page.context.browser.new_page(viewport={"width": 1280, "height": 900})
    other.goto(f"{demo_stack['dashboard_url']}/team", timeout=60_000)
    other.get_by_role("textbox", name="Username").fill(REP_USER)
    other.get_by_role("textbox", name="Password").fill(demo_stack["passwords"][REP_USER])
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_role("heading", name="My leads")).to_be_visible(timeout=60_000)
    settle(other)
    expect(other.get_by_role("heading", name="Team settings")).to_have_count(0)
    expect(other.get_by_role("button", name="Save")).to_have_count(0)
    other.context.close()
    page.context.close()
    engine = make_engine(str(demo_stack["database_url"]), pool=False)
    data = load_overrides(engine)[REP_KEY].data
    engine.dispose()
    assert data == {"enabled": False, "disabled_reason": "dentist"}
