"""Shared fixtures of the browser tests: one ``leadrouter demo`` stack per test module
(starting it takes most of a browser test's time), Chromium via Playwright, sign-in."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def need_chromium() -> None:
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return
    message = f"Chromium not found at {CHROMIUM}: apt-get install -y chromium"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``leadrouter demo`` on free ports, once per module; yields its demo.json plus the
    passwords (``passwords``); Ctrl-C afterwards."""
    need_chromium()
    tmp = tmp_path_factory.mktemp("demo")
    state, port = tmp / "demo", free_port()
    argv = [sys.executable, "-m", "worker", "demo", "--state-dir", str(state),
            "--dashboard-port", str(port), "--leads-per-minute", "120"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADROUTER_")}
    log = (tmp / "demo.out").open("w")
    process = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 120
        while not (state / "demo.json").exists():
            assert process.poll() is None, (tmp / "demo.out").read_text()
            assert time.monotonic() < deadline, "the demo did not start within 120 s"
            time.sleep(0.5)
        info = json.loads((state / "demo.json").read_text())
        creds = json.loads(Path(str(info["credentials"])).read_text())
        info["passwords"] = {name: pw for name, (_role, pw) in creds.items()}
        yield info
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(demo_stack: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def settle(page: Any) -> None:
    """Wait until Streamlit has finished running the script (no "Running..." widget)."""
    page.wait_for_timeout(400)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)
    page.wait_for_timeout(300)


def signed_in_page(
    browser: Any, demo: dict[str, Any], user: str = "admin", width: int = 1280, height: int = 900
) -> Any:
    """A new browser context signed in as ``user`` (the Overview shown)."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.goto(str(demo["dashboard_url"]), timeout=60_000)
    page.get_by_role("textbox", name="Username").fill(user)
    page.get_by_role("textbox", name="Password").fill(str(demo["passwords"][user]))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=60_000)
    return page
