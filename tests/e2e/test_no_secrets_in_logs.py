"""No secret in any output of a full run, and no lead PII at INFO.

The worker runs as ``python -m worker run`` against the sandbox org, twice: at DEBUG with
the JWT bearer flow and at INFO with client credentials. Each run routes leads, has its
session expired (401, then a new token), and fails to deliver notifications on every
channel (SMTP, Slack-style, signed webhook: nothing listens). Then a bad notification
config, a wrong consumer secret and ``config show`` run through the CLI, and the
dashboard refuses wrong passwords. Everything they print or log is searched for every
secret involved, including each access token the sandbox issued.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from devkit.sandbox.harness import SandboxHandle
from tests.integration.worker.conftest import CONFIG, sandbox_env
from worker.store.db import make_engine

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

NOTIFY = """
notifications:
  allow_local_http: true
  channels:
    mail: {type: email}
    hook: {type: webhook, url_env: E2E_HOOK_URL, secret_env: E2E_HOOK_SECRET}
    chat: {type: slack, url_env: E2E_SLACK_URL}
  events:
    lead_assigned: {notify: [owner], channels: [mail, hook, chat]}
  delivery: {backoff_seconds: 0.2, max_backoff_seconds: 0.5, timeout_seconds: 2}
"""
SECRETS = {
    "smtp password": "Smtp-Pa55-e2e-Qv7Lw",
    "webhook secret": "whsec-e2e-9f8e7d6c5b4a",
    "webhook url token": "HookT0ken-e2e-X2Zb",
    "slack url token": "SlackT0ken-e2e-B00QT8",
    "dashboard password": "Dash-Pa55-e2e-Nq4r",
    "wrong dashboard password": "Guess-Pa55-e2e-Mx1t",
    "wrong consumer secret": "WRONG-SECRET-e2e-7Hk2",
}


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def issued(sandbox: SandboxHandle) -> Iterator[list[str]]:
    """Every access token the sandbox hands out from now on (token endpoint included)."""
    sessions = sandbox.admin().sessions
    tokens: list[str] = []
    real = sessions.issue

    def recording(user_id: str) -> str:
        token = real(user_id)
        tokens.append(token)
        return token

    sessions.issue = recording  # type: ignore[method-assign]
    yield tokens
    sessions.issue = real  # type: ignore[method-assign]


def base_env(sandbox: SandboxHandle, tmp_path: Path, db: str) -> dict[str, str]:
    config = tmp_path / "routing.yaml"
    config.write_text(CONFIG + NOTIFY)
    port = closed_port()
    return {
        **os.environ,
        **sandbox_env(sandbox, f"sqlite:///{tmp_path / db}", config),
        "LEADROUTER_NOTIFY_INTERVAL_SECONDS": "0.3",
        "LEADROUTER_SMTP_HOST": "127.0.0.1",
        "LEADROUTER_SMTP_PORT": str(port),
        "LEADROUTER_SMTP_USERNAME": "router",
        "LEADROUTER_SMTP_PASSWORD": SECRETS["smtp password"],
        "E2E_HOOK_URL": f"http://127.0.0.1:{port}/hooks/{SECRETS['webhook url token']}",
        "E2E_HOOK_SECRET": SECRETS["webhook secret"],
        "E2E_SLACK_URL": f"http://127.0.0.1:{port}/services/{SECRETS['slack url token']}",
    }


def jwt_flow(env: dict[str, str], sandbox: SandboxHandle) -> dict[str, str]:
    return {
        **env,
        "LEADROUTER_SF_AUTH_FLOW": "jwt",
        "LEADROUTER_SF_USERNAME": sandbox.jwt_username,
        "LEADROUTER_SF_PRIVATE_KEY_FILE": str(sandbox.jwt_private_key_path),
    }


def count(url: str, where: str) -> int:
    engine = make_engine(url, pool=False)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {where}")).scalar_one())
    except sa.exc.OperationalError:  # schema not created yet
        return 0
    finally:
        engine.dispose()


def wait_for(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def full_run(sandbox: SandboxHandle, env: dict[str, str], out: Path, tokens: list[str]) -> str:
    """Route leads, expire the session mid-run, let every notification fail; the run's
    whole output."""
    url = env["LEADROUTER_DATABASE_URL"]
    admin = sandbox.admin()
    admin.create_leads(4)
    with out.open("wb") as sink:
        worker = subprocess.Popen([sys.executable, "-m", "worker", "run"], env=env,
                                  stdout=sink, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            applied = "decision WHERE status = 'applied'"
            wait_for(lambda: count(url, applied) >= 4, "the first leads")
            before = len(tokens)
            admin.expire_sessions()  # the next call answers 401 INVALID_SESSION_ID
            admin.create_leads(3)
            wait_for(lambda: count(url, applied) >= 7, "leads after the 401")
            assert len(tokens) > before, "the worker did not re-authenticate"
            failing = "notification_outbox WHERE attempts >= 2 AND last_error IS NOT NULL"
            wait_for(lambda: count(url, failing) >= 3, "failed deliveries on each channel")
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(10)
    return out.read_text(errors="replace")


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "worker", *args], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    return f"$ {' '.join(args)} -> {done.returncode}\n{done.stdout}{done.stderr}"


def dashboard_sign_ins(env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Wrong and right passwords through the dashboard's own sign-in (in process, its
    log captured at DEBUG)."""
    import streamlit as st

    from tests.dashboard.conftest import new_app, sign_in
    from worker.commands.dashboard import write_users_file

    users = tmp_path / "users.yaml"
    write_users_file(users, {"admin": ("admin", SECRETS["dashboard password"])})
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", env["LEADROUTER_DATABASE_URL"])
    monkeypatch.setenv("LEADROUTER_DASHBOARD_USERS_FILE", str(users))
    monkeypatch.setenv("LEADROUTER_ROUTING_CONFIG", env["LEADROUTER_ROUTING_CONFIG"])
    text = io.StringIO()
    handler = logging.StreamHandler(text)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        at = new_app()
        for _ in range(6):
            sign_in(at, "admin", SECRETS["wrong dashboard password"])
        sign_in(new_app(), "admin", SECRETS["dashboard password"])
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        st.cache_data.clear()
        st.cache_resource.clear()
    assert "sign-in failed" in text.getvalue() and "sign-in throttled" in text.getvalue()
    return text.getvalue()


def key_lines(path: Path) -> list[str]:
    """The private key's base64 body, line by line (any one of them is a leak)."""
    lines = path.read_text().splitlines()
    return [line for line in lines if line and not line.startswith("-----")]


def leaked(text: str, secrets: dict[str, str]) -> list[str]:
    return sorted(name for name, value in secrets.items() if value and value in text)


def lead_pii(sandbox: SandboxHandle) -> dict[str, str]:
    found = {}
    for lead in sandbox.admin().leads():
        for field in ("Email", "Name", "Company", "Phone"):
            value = str(lead.get(field) or "")
            if len(value) >= 5:
                found[f"{lead['Id']} {field}"] = value
    return found


def test_a_full_run_prints_no_secret_and_no_lead_pii_at_info(
    sandbox: SandboxHandle,
    issued: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    debug_env = {**jwt_flow(base_env(sandbox, tmp_path, "debug.db"), sandbox),
                 "LEADROUTER_LOG_LEVEL": "DEBUG"}  # fmt: skip
    debug = full_run(sandbox, debug_env, tmp_path / "debug.log", issued)
    info_env = {**base_env(sandbox, tmp_path, "info.db"), "LEADROUTER_LOG_LEVEL": "INFO"}
    info = full_run(sandbox, info_env, tmp_path / "info.log", issued)
    bad_config = tmp_path / "bad.yaml"
    bad_config.write_text(CONFIG + NOTIFY)
    bad_env = {**info_env, "LEADROUTER_ROUTING_CONFIG": str(bad_config),
               "E2E_SLACK_URL": f"http://hooks.example.com/services/{SECRETS['slack url token']}"}  # fmt: skip
    wrong = {**info_env, "LEADROUTER_SF_CONSUMER_SECRET": SECRETS["wrong consumer secret"]}
    commands = "\n".join([
        cli(bad_env, "run", "--once"),
        cli(wrong, "run", "--once"),
        cli(info_env, "config", "show"),
        cli(info_env, "notify", "status"),
    ])  # fmt: skip
    assert "must be https" in commands, commands  # the bad config was reported...
    dashboard = dashboard_sign_ins(info_env, tmp_path, monkeypatch)

    secrets = {
        **SECRETS,
        "consumer secret": sandbox.client_secret,
        **{f"private key line {i}": line for i, line in enumerate(key_lines(sandbox.jwt_private_key_path))},
        **{f"access token {i}": token for i, token in enumerate(issued)},
        **{f"access token {i} (after the org id)": t.split("!", 1)[-1] for i, t in enumerate(issued)},
    }  # fmt: skip
    assert len(issued) >= 4, "both runs authenticated and re-authenticated after the 401"
    everything = {"debug run": debug, "info run": info, "cli": commands, "dashboard": dashboard}
    for name, text in everything.items():
        assert leaked(text, secrets) == [], f"secrets in the {name} output"
    assert "PRIVATE KEY" not in debug
    assert "level=DEBUG" in debug and "level=INFO" in info, "the runs logged at all"
    pii = lead_pii(sandbox)
    assert len(pii) >= 14, "the runs routed leads with names, e-mails and companies"
    assert leaked(info + commands, pii) == [], "lead PII in INFO output"
