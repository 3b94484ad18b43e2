"""``leadrouter dashboard``: hash-password, fake-data, users file, serve."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import pytest
import yaml
from argon2 import PasswordHasher
from click.testing import CliRunner

from worker.cli import cli
from worker.commands.dashboard import (
    dashboard,
    start_dashboard,
    stop_dashboard,
    wait_until_serving,
    write_users_file,
)
from worker.store.db import make_engine


def test_hash_password_reads_stdin_and_prints_an_argon2_hash() -> None:
    result = CliRunner().invoke(
        dashboard, ["hash-password", "--password-stdin"], input="s3cret-pass\n"
    )
    assert result.exit_code == 0
    assert PasswordHasher().verify(result.output.strip(), "s3cret-pass")
    assert "s3cret-pass" not in result.output


def test_hash_password_refuses_a_short_password() -> None:
    result = CliRunner().invoke(dashboard, ["hash-password", "--password-stdin"], input="short\n")
    assert result.exit_code == 1 and "too short" in result.output


def test_users_file_holds_only_hashes(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    write_users_file(path, {"admin": ("admin", "pw-admin-1"), "ann": ("viewer", "pw-ann-12")})
    entries = yaml.safe_load(path.read_text())
    assert [(e["username"], e["role"]) for e in entries] == [("admin", "admin"), ("ann", "viewer")]
    assert "pw-admin-1" not in path.read_text() and oct(path.stat().st_mode)[-3:] == "600"


def test_users_file_refuses_an_unknown_role(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="role"):
        write_users_file(tmp_path / "u.yaml", {"x": ("root", "pw")})


def test_fake_data_fills_the_store_and_writes_a_matching_config(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", sqlite_url)
    config = tmp_path / "routing.yaml"
    result = CliRunner().invoke(
        cli, ["dashboard", "fake-data", "--decisions", "500", "--write-config", str(config)]
    )
    assert result.exit_code == 0, result.output
    with make_engine(sqlite_url).connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM decision").scalar_one() == 500
    from worker.routing_config import load_config

    assert set(load_config(config).pools) == {"NA-AE", "EMEA-AE", "APAC-AE"}


def test_serve_refuses_to_start_without_a_users_file() -> None:
    result = CliRunner().invoke(dashboard, ["serve", "--port", "1"])
    assert result.exit_code == 1 and "LEADROUTER_DASHBOARD_USERS_FILE" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.integration
def test_start_dashboard_serves_and_stops_cleanly(sqlite_url: str, tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    write_users_file(users, {"admin": ("admin", "pw-admin-1")})
    port = _free_port()
    env = {"LEADROUTER_DATABASE_URL": sqlite_url, "LEADROUTER_DASHBOARD_USERS_FILE": str(users)}
    process = start_dashboard(port=port, env=env, log_path=tmp_path / "dashboard.log")
    try:
        wait_until_serving(process, port)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=10) as r:
            assert r.read() == b"ok"
    finally:
        stop_dashboard(process)
    assert process.returncode is not None


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "client"),
    [
        ("", "127.0.0.1", "203.0.113.7", "127.0.0.1"),  # a local process names itself
        ("", "198.51.100.2", "203.0.113.7", "198.51.100.2"),
        ("10.0.0.0/24", "10.0.0.2", "203.0.113.7, 10.0.0.3", "203.0.113.7"),
        ("10.0.0.0/24", "127.0.0.1", "203.0.113.7", "127.0.0.1"),  # not a declared proxy
    ],
)
def test_the_dashboards_server_believes_x_forwarded_for_only_from_trusted_proxies(
    proxies: str, peer: str, forwarded: str, client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment ``dashboard serve`` gives Streamlit, read by the uvicorn under it
    (whose own default believes the header from any local process)."""
    import asyncio

    import uvicorn

    from worker.commands.dashboard import process_env

    seen: list[str] = []

    async def app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        seen.append(scope["client"][0])

    env = process_env({"LEADROUTER_TRUSTED_PROXIES": proxies})
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", env["FORWARDED_ALLOW_IPS"])
    config = uvicorn.Config(app)  # as Streamlit builds it: proxy headers on, list from env
    config.load()
    scope = {"type": "websocket", "client": (peer, 50000), "scheme": "ws",
             "headers": [(b"x-forwarded-for", forwarded.encode())]}  # fmt: skip
    asyncio.run(config.loaded_app(scope, None, None))
    assert seen == [client]
