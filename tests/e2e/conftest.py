"""Shared fixtures of the browser tests: ONE ``leadrouter demo`` stack per test session
(starting it takes most of a browser test's time) shared by every browser test whose flows
do not interfere (they carry ``xdist_group(DEMO_GROUP)`` so they run on one worker, in
file order), Chromium via Playwright, sign-in. The stack's users file holds an admin, a
viewer and a rep (``REP_USER``, rep ``REP_KEY``)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
DEMO_GROUP = "browser_demo"  # xdist_group of the tests that share the demo stack
REP_USER = "rep"
# a rep of the demo config no other browser test touches: an SDR of the round-the-clock
# pool, so they get leads at any hour
REP_KEY = "olivia.moore@acme-sales.example"


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


@pytest.fixture(scope="session")
def demo_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``leadrouter demo`` on free ports, once per session (per xdist worker); yields its
    demo.json plus the passwords (``passwords``, the rep's too); Ctrl-C afterwards."""
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
        info["passwords"][REP_USER] = _add_rep_user(state / "dashboard-users.yaml")
        yield info
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _add_rep_user(users_file: Path) -> str:
    """Add the rep user to the demo's users file (the dashboard reads it at each sign-in);
    returns their password."""
    from worker.commands.dashboard import hash_password

    password = secrets.token_urlsafe(9)
    users = yaml.safe_load(users_file.read_text(encoding="utf-8"))
    users.append({"username": REP_USER, "role": "rep", "rep": REP_KEY,
                  "password_hash": hash_password(password)})  # fmt: skip
    users_file.write_text(yaml.safe_dump(users, sort_keys=False), encoding="utf-8")
    return password


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Chromium via Playwright, once per session: Playwright's sync API runs one instance
    per thread, so every browser test takes its browser from here."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def browser(demo_stack: dict[str, Any], chromium: Any) -> Any:
    """The session's Chromium, for the tests against the shared demo stack."""
    return chromium


def settle(page: Any) -> None:
    """Wait until Streamlit has finished running the script (no "Running..." widget)."""
    page.wait_for_timeout(400)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)
    page.wait_for_timeout(300)


def signed_in_page(
    browser: Any,
    demo: dict[str, Any],
    user: str = "admin",
    width: int = 1280,
    height: int = 900,
    on_page: Callable[[Any], None] | None = None,
) -> Any:
    """A new browser context signed in as ``user`` (the Overview shown; a rep's My leads);
    ``on_page`` sees the page before it loads anything (to listen to its traffic)."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    if on_page is not None:
        on_page(page)
    page.goto(str(demo["dashboard_url"]), timeout=60_000)
    page.get_by_role("textbox", name="Username").fill(user)
    page.get_by_role("textbox", name="Password").fill(str(demo["passwords"][user]))
    page.get_by_role("button", name="Sign in").click()
    home = "My leads" if user == REP_USER else "Overview"
    expect(page.get_by_role("heading", name=home)).to_be_visible(timeout=60_000)
    return page


def routed_lead(demo: dict[str, Any], rep_key: str | None = None, timeout: float = 120) -> str:
    """The Id of a lead the demo's worker has routed (to ``rep_key`` if given), waiting for
    one; so a page has something to show."""
    import sqlalchemy as sa

    from worker.store.db import make_engine
    from worker.store.models.journal import JournalRow

    query = sa.select(JournalRow.lead_id).where(
        JournalRow.kind == "route", JournalRow.status == "applied"
    )
    if rep_key is not None:
        query = query.where(JournalRow.rep_key == rep_key)
    engine = make_engine(str(demo["database_url"]), pool=False)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as conn:
                lead_id = conn.execute(query.limit(1)).scalar()
            if lead_id is not None:
                return str(lead_id)
            assert time.monotonic() < deadline, f"no lead routed to {rep_key or 'anyone'} yet"
            time.sleep(1)
    finally:
        engine.dispose()
