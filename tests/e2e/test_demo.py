"""`leadrouter demo` starts the whole stack with nothing to configure, keeps its files
owner-only and its passwords out of logs, and leaves no process behind when stopped
with Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.file_modes import readable_by_others

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def descendants(pid: int) -> set[int]:
    """Every process whose ancestry leads to ``pid`` (read from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        children = {p for p, parent in parents.items() if parent in frontier}
        found |= children
        frontier = children
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False


@dataclass
class Demo:
    """One ``leadrouter demo`` started with the usual login umask (022), shared by the
    tests of this module; :meth:`stop` sends Ctrl-C once and returns everything it printed."""

    state: Path
    process: subprocess.Popen[str]
    info: dict[str, Any]
    children: set[int]
    _output: str | None = None

    def stop(self) -> str:
        if self._output is None:
            self.process.send_signal(signal.SIGINT)
            self._output, _ = self.process.communicate(timeout=60)
        return self._output


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    state = tmp_path_factory.mktemp("demo-run") / "demo"
    process = subprocess.Popen(
        [sys.executable, "-m", "worker", "demo", "--state-dir", str(state),
         "--dashboard-port", str(free_port()), "--leads-per-minute", "60"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, umask=0o022,
        env={k: v for k, v in os.environ.items() if not k.startswith("LEADROUTER_")},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (state / "demo.json").exists():
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "demo did not start within 120 s"
            time.sleep(0.5)
        info = json.loads((state / "demo.json").read_text())
        while True:  # the dashboard answers over HTTP
            try:
                with urllib.request.urlopen(info["dashboard_url"], timeout=5) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "dashboard never answered"
                time.sleep(0.5)
        yield Demo(state, process, info, descendants(process.pid))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)


def _secrets(state: Path) -> dict[str, str]:
    """Every password and token the demo made: sign-ins, sandbox credentials."""
    sandbox = json.loads((state / "sandbox" / "sandbox.json").read_text())
    users = json.loads((state / "demo-credentials.json").read_text())
    return {
        **{f"{name} password": pw for name, (_role, pw) in users.items()},
        **{k: sandbox[k] for k in ("access_token", "client_secret", "admin_token")},
    }


def _wait_for_routed_leads(state: Path, seconds: float = 60) -> None:
    """The worker has written to the store (so its WAL exists) and logged a cycle."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with sqlite3.connect(state / "leadrouter.db") as conn:
            if conn.execute("SELECT count(*) FROM decision").fetchone()[0] > 0:
                return
        time.sleep(0.5)
    raise AssertionError("the demo's worker routed no lead")


@pytest.mark.xdist_group("demo")
def test_demo_files_are_owner_only_and_passwords_live_only_in_its_credentials_file(
    demo: Demo,
) -> None:
    _wait_for_routed_leads(demo.state)
    expected = {"leadrouter.db", "leadrouter.db-wal", "demo.json", "demo-credentials.json",
                "dashboard-users.yaml", "logs/sandbox.log", "logs/worker.log",
                "logs/dashboard.log", "sandbox/org.sqlite",
                "sandbox/sandbox.json", "sandbox/app.json", "sandbox/jwt_key.pem"}  # fmt: skip
    present = {str(p.relative_to(demo.state)) for p in demo.state.rglob("*")}
    assert expected <= present
    assert readable_by_others(demo.state) == {}
    assert set(demo.info["users"]) == {"admin", "viewer", "sarah"}
    secrets = _secrets(demo.state)
    output = demo.stop()
    for name, secret in secrets.items():
        holders = [
            str(p.relative_to(demo.state))
            for p in demo.state.rglob("*")
            if p.is_file() and secret.encode() in p.read_bytes()
        ]
        if name.endswith("password"):
            assert holders == ["demo-credentials.json"], name
            assert output.count(secret) == 1, f"{name}: printed once, in the banner"
        else:
            assert set(holders) <= {"sandbox/sandbox.json", "sandbox/app.json"}, name
            assert secret not in output, name
    assert readable_by_others(demo.state) == {}


@pytest.mark.xdist_group("demo")
def test_demo_starts_everything_and_ctrl_c_leaves_no_orphans(demo: Demo) -> None:
    assert len(demo.children) >= 3  # sandbox, worker, dashboard (+ traffic)
    output = demo.stop()
    assert demo.process.returncode == 0, output
    assert "Dashboard:" in output and "Sign in:" in output
    # the alerts go to a local sink (the demo config has no notifications section of its own)
    assert str(demo.info.get("notifications_url", "")).startswith("http"), demo.info
    assert "Sent alerts: http" in output
    assert "every process has exited" in output
    time.sleep(0.5)
    assert [pid for pid in demo.children if alive(pid)] == []
