"""Stores, keys, credentials and logs are owner-only, whatever the caller's umask.

Each test runs under the usual login umask (022), with which a file is world-readable
unless the code gives it a mode: a second local user must not read lead data, the
sign-in log, the sandbox's keys or its tokens.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from devkit.sandbox.harness import start_sandbox
from devkit.sink import Sink
from devkit.supervisor import Supervisor
from tests.file_modes import mode, permissive_umask, readable_by_others
from worker.files import private_dir, private_file, write_private
from worker.store.db import make_engine, upgrade

pytestmark = pytest.mark.integration


def test_a_new_sqlite_store_its_wal_and_its_folder_are_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "var" / "leadrouter.db"
    with permissive_umask():
        upgrade(f"sqlite:///{db}")
        engine = make_engine(f"sqlite:///{db}")
        with engine.begin() as conn:  # a write leaves the -wal and -shm files behind
            conn.execute(
                sa.text(
                    "INSERT INTO kv_state (key, value, updated_at) VALUES ('k', 'v', '2026-01-01')"
                )
            )
        assert Path(f"{db}-wal").exists() and Path(f"{db}-shm").exists()
        assert readable_by_others(db.parent) == {}
        engine.dispose()


def test_a_store_an_older_version_left_world_readable_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "leadrouter.db"
    with permissive_umask():
        upgrade(f"sqlite:///{db}")
        for path in (db, Path(f"{db}-wal")):
            path.touch()
            path.chmod(0o644)
        make_engine(f"sqlite:///{db}").dispose()
    assert (mode(db), mode(Path(f"{db}-wal"))) == ("0o600", "0o600")


def test_the_sandbox_state_folder_keys_credentials_and_org_are_owner_only(
    tmp_path: Path,
) -> None:
    state = tmp_path / "sandbox"
    with permissive_umask():
        handle = start_sandbox(state, accounts=3)
        try:
            handle.admin().create_leads(2)
        finally:
            handle.stop()
    names = {p.name for p in state.iterdir()}
    assert {"ca.pem", "server.pem", "jwt_key.pem", "app.json", "org.sqlite"} <= names
    assert readable_by_others(state) == {}


def test_the_notification_sinks_outbox_log_is_owner_only(tmp_path: Path) -> None:
    with permissive_umask():
        sink = Sink(tmp_path / "notify").start()
        sink.log.append({"to": "lead@example.com", "subject": "New lead: Ann Example"})
        sink.stop()
    assert readable_by_others(tmp_path / "notify") == {}


def test_supervised_process_logs_are_owner_only(tmp_path: Path) -> None:
    supervisor = Supervisor(log_dir=tmp_path / "logs", grace_seconds=5)
    with permissive_umask():
        child = supervisor.start("echo", [sys.executable, "-c", "print('lead Ann Example')"])
        child.process.wait(30)
        supervisor.stop_all()
    assert "Ann Example" in (tmp_path / "logs" / "echo.log").read_text()
    assert readable_by_others(tmp_path / "logs") == {}


def test_private_files_and_their_new_folders_are_owner_only_and_shared_folders_keep_their_mode(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    with permissive_umask():
        write_private(shared / "a" / "b" / "secret.json", json.dumps({"password": "x"}))
        private_file(shared / "c.log")
        private_dir(shared / "d")
    assert mode(shared) == "0o755"  # not ours to change
    assert readable_by_others(shared) == {".": "0o755"}
    assert sorted(p.name for p in (shared / "a" / "b").iterdir()) == ["secret.json"]


@pytest.mark.slow
def test_sandbox_serve_prints_no_token_and_keeps_it_in_an_owner_only_file(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADROUTER_")}
    argv = [sys.executable, "-m", "worker", "sandbox", "serve", "--state-dir", str(tmp_path),
            "--port", "0", "--accounts", "3"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, umask=0o022)  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=20)
    output = "".join(lines) + rest
    info = json.loads((tmp_path / "sandbox.json").read_text())
    for secret in ("access_token", "client_secret", "admin_token"):
        assert info[secret] not in output, f"{secret} printed"
    assert re.search(r"credentials:\s+\S+sandbox\.json", output)
    assert readable_by_others(tmp_path) == {}
