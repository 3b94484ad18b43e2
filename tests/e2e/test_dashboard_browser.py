"""A person in a real browser, against the shared demo stack: sign in as admin, change a
rep's weight and find the change in the history; a reload keeps the session. Every page's
screenshots and checks are in test_pages_browser.py. Debian's Chromium, headless, driven
by Playwright."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import DEMO_GROUP, SHOTS, settle, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration,
              pytest.mark.xdist_group(DEMO_GROUP)]  # fmt: skip


def test_admin_signs_in_changes_a_weight_and_finds_it_in_the_history(
    browser: Any, demo_stack: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    page = signed_in_page(browser, demo_stack)
    page.get_by_role("link", name="Team settings").click()
    expect(page.get_by_role("heading", name="Team settings")).to_be_visible(timeout=60_000)
    settle(page)
    weight = page.get_by_label("Weight")
    new_weight = "2.35" if weight.input_value() != "2.35" else "1.65"
    weight.fill(new_weight)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(re.compile(r"Saved .*: weight"))).to_be_visible(timeout=60_000)
    settle(page)
    # the change history: the data table after the rep editor (the pools table comes first);
    # the grid draws on a canvas, its text is in the accessible table behind it
    history = page.locator('[data-testid="stDataFrame"]').last
    expect(history).to_contain_text("admin")
    expect(history).to_contain_text(new_weight.rstrip("0"))
    page.screenshot(path=str(SHOTS / "team-settings-after-save-1280.png"), full_page=True)

    # a reload, after changing page, keeps the session (the signed token in the URL)
    page.get_by_role("link", name="Distribution log").click()
    expect(page.get_by_role("heading", name="Distribution log")).to_be_visible(timeout=60_000)
    settle(page)
    assert "session=" in page.url, page.url
    page.reload()
    expect(page.get_by_role("heading", name="Distribution log")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Signed in as")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("textbox", name="Username")).to_be_visible(timeout=60_000)
    page.context.close()
