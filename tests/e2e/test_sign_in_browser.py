"""Sign-in through the real server: a browser that names itself a new client on every
guess (X-Forwarded-For, as a local attacker can) gets no more guesses than one client,
and the owner still gets in from another browser ten seconds later."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from devkit.commands.dashboard_fake import demo_routing_yaml
from tests.e2e.conftest import free_port
from worker.commands.dashboard import (
    start_dashboard,
    stop_dashboard,
    wait_until_serving,
    write_users_file,
)
from worker.store.db import make_engine, upgrade
from worker.store.sign_in_repo import ACCOUNT

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration]
RIGHT = "owner-pass-4711"
ANSWER = re.compile("Wrong username or password|Too many failed attempts")


def _sign_in_form(browser: Any, url: str, password: str, forwarded_for: str | None) -> Any:
    """A fresh browser (own cookies) on the sign-in form, filled in, not yet sent."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = browser.new_context(extra_http_headers=headers).new_page()
    page.goto(url, timeout=60_000)
    page.get_by_role("textbox", name="Username").fill("admin")
    page.get_by_role("textbox", name="Password").fill(password)
    return page


def _answer(page: Any) -> str:
    outcome = page.get_by_text(ANSWER).or_(page.get_by_role("heading", name="Overview")).first
    outcome.wait_for(timeout=60_000)
    return str(outcome.inner_text())


def test_spoofed_forwarded_for_gets_no_extra_guesses_and_the_owner_gets_in(
    tmp_path: Path, chromium: Any
) -> None:
    url_db = f"sqlite:///{tmp_path}/store.db"
    upgrade(url_db)
    write_users_file(tmp_path / "users.yaml", {"admin": ("admin", RIGHT)})
    (tmp_path / "routing.yaml").write_text(demo_routing_yaml(), encoding="utf-8")
    env = {"LEADROUTER_DATABASE_URL": url_db,
           "LEADROUTER_DASHBOARD_USERS_FILE": str(tmp_path / "users.yaml"),
           "LEADROUTER_ROUTING_CONFIG": str(tmp_path / "routing.yaml"),
           "LEADROUTER_SF_INSTANCE_URL": "https://acme.my.salesforce.com"}  # fmt: skip
    port = free_port()
    process = start_dashboard(port=port, env=env, log_path=tmp_path / "dashboard.log")
    try:
        wait_until_serving(process, port)
        url = f"http://127.0.0.1:{port}"
        pages = [_sign_in_form(chromium, url, f"guess-{i}", f"203.0.113.{i}")
                 for i in range(8)]  # fmt: skip
        for page in pages:  # eight guesses within a second, each "from" elsewhere
            page.get_by_role("button", name="Sign in").click()
        answers = [_answer(page) for page in pages]
        sent = time.monotonic()
        assert sum("Wrong" in a for a in answers) == ACCOUNT.free, answers
        assert sum("Too many" in a for a in answers) == 8 - ACCOUNT.free, answers
        owner = _sign_in_form(chromium, url, RIGHT, None)
        time.sleep(max(0.0, ACCOUNT.cap - (time.monotonic() - sent)))
        owner.get_by_role("button", name="Sign in").click()
        assert _answer(owner) == "Overview"
        for page in [*pages, owner]:
            page.context.close()
    finally:
        stop_dashboard(process)
    with make_engine(url_db, pool=False).connect() as conn:
        clients = set(conn.execute(sa.text("SELECT client FROM sign_in_attempt")).scalars())
    assert clients == {"unknown"}, "a spoofed address was taken for the client"
