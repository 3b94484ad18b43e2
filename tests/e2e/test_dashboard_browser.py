"""A person in a real browser: start the demo stack, sign in as admin, look at every page
(screenshots under test-artifacts/screenshots/), change a rep's weight and find the change
in the history. Debian's Chromium, headless, driven by Playwright."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
PAGES = ("Overview", "Distribution log", "Fairness audit", "Team settings", "What-if")


def _need_chromium() -> None:
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return
    message = f"Chromium not found at {CHROMIUM}: apt-get install -y chromium"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[dict[str, object]]:
    """``leadrouter demo`` on free ports; yields its demo.json; Ctrl-C afterwards."""
    state, port = tmp_path / "demo", _free_port()
    argv = [sys.executable, "-m", "worker", "demo", "--state-dir", str(state),
            "--dashboard-port", str(port), "--leads-per-minute", "120"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADROUTER_")}
    log = (tmp_path / "demo.out").open("w")
    process = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 120
        while not (state / "demo.json").exists():
            assert process.poll() is None, (tmp_path / "demo.out").read_text()
            assert time.monotonic() < deadline, "the demo did not start within 120 s"
            time.sleep(0.5)
        yield json.loads((state / "demo.json").read_text())
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _settle(page: object) -> None:
    """Wait until Streamlit has finished running the script (no "Running..." widget)."""
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]


def test_admin_signs_in_changes_a_weight_and_finds_it_in_the_history(
    demo: dict[str, object],
) -> None:
    _need_chromium()
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    users = {
        name: pw
        for name, (_role, pw) in json.loads(Path(str(demo["credentials"])).read_text()).items()
    }
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(str(demo["dashboard_url"]), timeout=60_000)
        page.get_by_role("textbox", name="Username").fill("admin")
        page.get_by_role("textbox", name="Password").fill(str(users["admin"]))
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=60_000)
        time.sleep(5)  # let the worker route a few leads so every page has something to show
        for n, title in enumerate(PAGES, 1):
            page.get_by_role("link", name=title).click()
            expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=60_000)
            _settle(page)
            if title == "What-if":
                page.get_by_role("button", name="Run what-if").click()
                replayed = re.compile("Leads replayed|No leads were routed")
                expect(page.get_by_text(replayed).first).to_be_visible(timeout=60_000)
                _settle(page)
            slug = re.sub(r"[^a-z]+", "-", title.lower()).strip("-")
            page.screenshot(path=str(SHOTS / f"{n}-{slug}.png"), full_page=True)

        page.get_by_role("link", name="Team settings").click()
        _settle(page)
        weight = page.get_by_label("Weight")
        new_weight = "2.35" if weight.input_value() != "2.35" else "1.65"
        weight.fill(new_weight)
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text(re.compile(r"Saved .*: weight"))).to_be_visible(timeout=60_000)
        _settle(page)
        history = page.locator('[data-testid="stTable"]')
        expect(history).to_contain_text("admin")
        expect(history).to_contain_text(new_weight.rstrip("0"))
        page.screenshot(path=str(SHOTS / "6-team-settings-after-save.png"), full_page=True)

        # a reload, after changing page, keeps the session (the signed token in the URL)
        page.get_by_role("link", name="Distribution log").click()
        expect(page.get_by_role("heading", name="Distribution log")).to_be_visible(timeout=60_000)
        _settle(page)
        assert "session=" in page.url, page.url
        page.reload()
        expect(page.get_by_role("heading", name="Distribution log")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Signed in as")).to_be_visible()
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("textbox", name="Username")).to_be_visible(timeout=60_000)
        browser.close()
