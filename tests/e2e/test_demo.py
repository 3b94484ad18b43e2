"""`leadrouter demo` starts the whole stack with nothing to configure and leaves no
process behind when stopped with Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

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


def test_demo_starts_everything_and_ctrl_c_leaves_no_orphans(tmp_path: Path):
    state = tmp_path / "demo"
    port = free_port()
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "worker",
            "demo",
            "--state-dir",
            str(state),
            "--dashboard-port",
            str(port),
            "--leads-per-minute",
            "60",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("LEADROUTER_")},
    )
    try:
        deadline = time.monotonic() + 120
        while not (state / "demo.json").exists():
            assert demo.poll() is None, demo.stdout.read() if demo.stdout else ""
            assert time.monotonic() < deadline, "demo did not start within 120 s"
            time.sleep(0.5)
        info = json.loads((state / "demo.json").read_text())
        assert set(info["users"]) == {"admin", "viewer"}
        while True:  # the dashboard answers over HTTP
            try:
                with urllib.request.urlopen(info["dashboard_url"], timeout=5) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "dashboard never answered"
                time.sleep(0.5)
        children = descendants(demo.pid)
        assert len(children) >= 3  # sandbox, worker, dashboard (+ traffic)

        demo.send_signal(signal.SIGINT)
        output, _ = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, output
    assert "Dashboard:" in output and "Sign in:" in output
    assert "every process has exited" in output
    time.sleep(0.5)
    assert [pid for pid in children if alive(pid)] == []
