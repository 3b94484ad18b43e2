"""The routing editor in a real browser (Chromium via Playwright) against one demo stack:
add a rule, move a rep between pools, change a per-pool weight, backtest, publish, roll
back, and two admins editing the same pool at once. Screenshots at 1280 and 1440 px under
test-artifacts/screenshots/. The tests run in order and build on each other's draft."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import DEMO_GROUP, SHOTS, settle, signed_in_page

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration,
              pytest.mark.xdist_group(DEMO_GROUP)]  # fmt: skip
D = "acme-sales.example"


def _editor(browser: Any, demo: dict[str, Any], width: int = 1280, height: int = 900) -> Any:
    from playwright.sync_api import expect

    page = signed_in_page(browser, demo, width=width, height=height)
    page.get_by_role("link", name="Routing editor").click()
    expect(page.get_by_role("heading", name="Routing editor")).to_be_visible(timeout=60_000)
    settle(page)
    return page


@pytest.fixture
def page(browser: Any, demo_stack: dict[str, Any]) -> Iterator[Any]:
    page = _editor(browser, demo_stack)
    yield page
    page.context.close()


def _tab(page: Any, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    page.wait_for_timeout(200)


def _choose(page: Any, label: str, option: str, *, rerun: bool = False) -> None:
    box = page.locator('[data-testid="stSelectbox"]:visible').filter(
        has=page.get_by_text(label, exact=True)
    )
    box.first.click()
    page.keyboard.type(option)  # filters the list (long lists are virtualised)
    try:
        page.get_by_role("option", name=option, exact=True).click(timeout=15_000)
    except Exception:
        page.screenshot(path=str(SHOTS / "routing-editor-failed-choice.png"), full_page=True)
        raise
    if rerun:
        settle(page)


def _saved(page: Any, what: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_text(f"Saved to the draft: {what}")).to_be_visible(timeout=60_000)
    settle(page)


def _pool(page: Any, name: str) -> None:
    _tab(page, "Pools")
    _choose(page, "Pool", name, rerun=True)


def _set_weight(page: Any, pool: str, rep: str, weight: str) -> None:
    _pool(page, pool)
    _choose(page, "Rep whose terms to set", rep, rerun=True)
    # the box keyed by this pool and rep (a stale one may linger while the page reruns)
    key = re.sub(r"[^A-Za-z0-9_-]", "-", f"terms_weight_{pool}_{rep}_")
    box = page.locator(f'div[class*="st-key-{key}"] input')
    box.fill(weight)
    page.get_by_role("button", name="Save weight and caps").click()


def _publish(page: Any, message: str, before: int | None = None) -> int:
    """Publish the draft; the number of the version it became (``before``: the number a
    previous publish of this page showed, never taken for this one's)."""
    from playwright.sync_api import expect

    _tab(page, "Review & publish")
    page.get_by_label("What changed and why (shown in the history)").fill(message)
    page.get_by_role("button", name="Publish the draft").click()
    not_before = rf"(?!{before}\b)" if before is not None else ""
    published = page.get_by_text(re.compile(rf"Published version {not_before}\d+"))
    expect(published).to_be_visible(timeout=60_000)
    number = int(re.findall(r"Published version (\d+)", published.first.inner_text())[0])
    settle(page)
    return number


def test_screenshots_at_1280_and_1440(browser: Any, demo_stack: dict[str, Any]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 1440):
        page = _editor(browser, demo_stack, width, height=1800)  # the page scrolls inside
        for tab in ("Rules", "Pools", "Territories", "Review & publish"):
            _tab(page, tab)
            page.wait_for_timeout(1000)  # a tab's widgets render when it is first shown
            slug = re.sub(r"[^a-z]+", "-", tab.lower()).strip("-")
            page.screenshot(path=str(SHOTS / f"routing-editor-{slug}-{width}.png"), full_page=True)
        page.context.close()


def test_add_a_rule(page: Any) -> None:
    from playwright.sync_api import expect

    _tab(page, "Rules")
    page.get_by_label("Rule name").fill("Webinar leads to EMEA")
    page.get_by_label("Condition 1: field (any Lead field, custom ones too)").fill("LeadSource")
    page.get_by_label("value (lists: comma separated)").first.fill("Webinar")
    _choose(page, "Pool (for action pool)", "emea")
    page.get_by_role("button", name="Add rule").click()
    _saved(page, 'add rule "Webinar leads to EMEA"')
    table = page.locator('[data-testid="stDataFrame"]:visible').first
    expect(table).to_be_visible()
    _tab(page, "Review & publish")
    expect(page.get_by_text('Rule "Webinar leads to EMEA" added', exact=False)).to_be_visible()


def test_move_a_rep_between_pools(page: Any) -> None:
    from playwright.sync_api import expect

    _pool(page, "na-east")
    _choose(page, "Rep to move", f"emily.davis@{D}")
    _choose(page, "To pool", "na-west")
    page.get_by_role("button", name="Move rep").click()
    _saved(page, f"move emily.davis@{D} from pool na-east to na-west")
    _tab(page, "Review & publish")
    expect(page.get_by_text("Pool na-west: Emily Davis added", exact=False)).to_be_visible()


def test_change_a_per_pool_weight(page: Any) -> None:
    from playwright.sync_api import expect

    _set_weight(page, "emea", f"anna.schmidt@{D}", "2")
    _saved(page, f"set anna.schmidt@{D}'s terms in pool emea")
    _tab(page, "Review & publish")
    expect(
        page.get_by_text("Pool emea: Anna Schmidt's weight default → 2.0", exact=False)
    ).to_be_visible()


def test_backtest(page: Any) -> None:
    from playwright.sync_api import expect

    _tab(page, "Review & publish")
    page.get_by_role("button", name="Run backtest").click()
    outcome = re.compile(r"leads replayed|No lead was routed")
    expect(page.get_by_text(outcome).first).to_be_visible(timeout=60_000)
    settle(page)
    page.screenshot(path=str(SHOTS / "routing-editor-backtest-1280.png"), full_page=True)


def test_publish(page: Any) -> None:
    from playwright.sync_api import expect

    # a change of its own, so the draft has one whatever ran (or published) before
    _set_weight(page, "na-west", f"laura.clark@{D}", "1.25")
    _saved(page, f"set laura.clark@{D}'s terms in pool na-west")
    _publish(page, "Webinars to EMEA, Emily west, Anna doubled, Laura 1.25")
    _tab(page, "History")
    expect(page.locator('[data-testid="stDataFrame"]:visible').first).to_be_visible()


def test_roll_back(page: Any) -> None:
    from playwright.sync_api import expect

    # two versions of its own, whatever the other tests published before (in any order),
    # so version 1 is an older one
    versions = []
    for weight in ("3", "4"):
        _set_weight(page, "emea", f"anna.schmidt@{D}", weight)
        _saved(page, f"set anna.schmidt@{D}'s terms in pool emea")
        last = versions[-1] if versions else None
        versions.append(_publish(page, f"Anna's emea weight {weight}", before=last))
    assert versions[1] > versions[0] >= 1
    earlier = 1  # the first version ever published: never the current one now
    _tab(page, "History")
    _choose(page, "Version", str(earlier), rerun=True)
    page.get_by_role("button", name=f"Roll back to version {earlier}").click()
    expect(page.get_by_text(f"Rolled back: version {earlier} is published again")).to_be_visible(
        timeout=60_000
    )
    settle(page)
    _tab(page, "History")
    page.screenshot(path=str(SHOTS / "routing-editor-history-1280.png"), full_page=True)


def test_two_admins_editing_the_same_pool(browser: Any, demo_stack: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    first, second = _editor(browser, demo_stack), _editor(browser, demo_stack)
    _pool(second, "emea")
    _set_weight(first, "emea", f"ben.carter@{D}", "1.5")
    _saved(first, f"set ben.carter@{D}'s terms in pool emea")
    _choose(second, "Rep to move", f"sofia.rossi@{D}")
    _choose(second, "To pool", "dach")
    second.get_by_role("button", name="Move rep").click()
    expect(
        second.get_by_text("saved by someone else since you loaded it", exact=False)
    ).to_be_visible(timeout=60_000)
    conflict = second.locator(".st-key-routing_conflict")  # what the first admin changed
    expect(conflict.get_by_text("Pool emea: Ben Carter's weight default → 1.5")).to_be_visible()
    second.screenshot(path=str(SHOTS / "routing-editor-conflict-1280.png"), full_page=True)
    second.get_by_role("button", name="Apply my change to the latest draft").click()
    _saved(second, f"move sofia.rossi@{D} from pool emea to dach")
    first.context.close()
    second.context.close()
