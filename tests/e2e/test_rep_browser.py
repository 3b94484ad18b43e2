"""A rep in a real browser: signs in, switches themselves off (with a reason), sees their
own leads, and cannot reach an admin page, not even by typing its address. Debian's
Chromium, headless, driven by Playwright; screenshots under test-artifacts/screenshots/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from devkit.commands.dashboard_fake import demo_routing_yaml
from tests.e2e.test_dashboard_browser import (
    ARGS,
    CHROMIUM,
    SHOTS,
    _free_port,
    _need_chromium,
    _settle,
)
from worker.commands.dashboard import (
    hash_password,
    start_dashboard,
    stop_dashboard,
    wait_until_serving,
)
from worker.store.db import make_engine, session_scope, upgrade
from worker.store.models.journal import JournalRow
from worker.store.queries.team_settings import load_overrides

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration]
REP_KEY = "anna.schmidt@acme-sales.example"  # a rep of the demo config
PASSWORD = "anna-pass-4711"


def _store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/store.db"
    upgrade(url)
    now = datetime.now(UTC)
    with session_scope(make_engine(url, pool=False)) as s:
        for n, (rep, name) in enumerate(
            [(REP_KEY, "Zoe Mine"), ("someone@else.example", "Max Theirs")]
        ):
            s.add(JournalRow(lead_id=f"00Q{n:015d}", cycle_id="c", kind="route", status="applied",
                             rep_key=rep, owner_id="005A", owner_name="x", pool="x",
                             decided_at=now - timedelta(minutes=1), lead_name=name,
                             lead_company="Acme", sla_state="open",
                             sla_due_at=now + timedelta(minutes=30)))  # fmt: skip
    return url


def _sign_in(page: Any, url: str) -> None:
    page.goto(url, timeout=60_000)
    page.get_by_role("textbox", name="Username").fill("anna")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_rep_switches_themselves_off_sees_own_leads_and_no_admin_page(tmp_path: Path) -> None:
    _need_chromium()
    from playwright.sync_api import expect, sync_playwright

    url_db = _store(tmp_path)
    users = [{"username": "anna", "role": "rep", "rep": REP_KEY,
              "password_hash": hash_password(PASSWORD)}]  # fmt: skip
    (tmp_path / "users.yaml").write_text(yaml.safe_dump(users), encoding="utf-8")
    (tmp_path / "routing.yaml").write_text(demo_routing_yaml(), encoding="utf-8")
    env = {"LEADROUTER_DATABASE_URL": url_db,
           "LEADROUTER_DASHBOARD_USERS_FILE": str(tmp_path / "users.yaml"),
           "LEADROUTER_ROUTING_CONFIG": str(tmp_path / "routing.yaml")}  # fmt: skip
    port = _free_port()
    process = start_dashboard(port=port, env=env, log_path=tmp_path / "dashboard.log")
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        wait_until_serving(process, port)
        url = f"http://127.0.0.1:{port}"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            _sign_in(page, url)
            expect(page.get_by_role("heading", name="My leads")).to_be_visible(timeout=60_000)
            _settle(page)
            grid = page.locator('[data-testid="stDataFrame"]')
            expect(grid).to_be_visible()
            # the grid draws on a canvas: its text is in the accessible table behind it
            expect(page.get_by_text("is available")).to_be_visible()
            page.get_by_label("Reason (required to go away)").fill("dentist")
            page.get_by_role("button", name="Go away").click()
            expect(page.get_by_text("is now away (dentist)")).to_be_visible(timeout=60_000)
            _settle(page)
            page.screenshot(path=str(SHOTS / "rep-my-leads.png"), full_page=True)
            for title in ("Team settings", "Overview", "Team today", "What-if"):
                expect(page.get_by_role("link", name=title)).to_have_count(0)
            # typing an admin page's address: a new session, and after signing in only
            # the rep's page is there
            other = browser.new_page(viewport={"width": 1280, "height": 900})
            _sign_in(other, f"{url}/team")
            expect(other.get_by_role("heading", name="My leads")).to_be_visible(timeout=60_000)
            _settle(other)
            expect(other.get_by_role("heading", name="Team settings")).to_have_count(0)
            expect(other.get_by_role("button", name="Save")).to_have_count(0)
            browser.close()
    finally:
        stop_dashboard(process)
    data = load_overrides(make_engine(url_db, pool=False))[REP_KEY].data
    assert data == {"enabled": False, "disabled_reason": "dentist"}
