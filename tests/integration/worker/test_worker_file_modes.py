"""After a worker run its SQLite store, the store's WAL and the lease file are owner-only,
whether the worker runs as ``leadrouter run`` or inside another program with the usual
login umask (022)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.sandbox.harness import SandboxHandle
from tests.file_modes import permissive_umask, readable_by_others
from tests.integration.worker.conftest import sandbox_env
from worker.jobs.intake import run_cycle
from worker.settings import load_settings

pytestmark = pytest.mark.integration


def test_an_in_process_worker_run_leaves_only_owner_only_files(
    sandbox: SandboxHandle, tmp_path: Path, routing_config: Path
) -> None:
    from worker.bootstrap import build_app
    from worker.store.db import upgrade

    store = tmp_path / "var" / "leadrouter.db"
    url = f"sqlite:///{store}"
    env = sandbox_env(sandbox, url, routing_config)
    sandbox.admin().create_leads(5)
    with permissive_umask():
        upgrade(url)
        app = build_app(load_settings(**{k[11:].lower(): v for k, v in env.items()}))
        assert app.lease.try_acquire()
        try:
            assert run_cycle(app.deps).decided == 5
            assert Path(f"{store}-wal").exists()
            assert readable_by_others(store.parent) == {}
        finally:
            app.lease.release()
            app.deps.engine.dispose()
    assert {p.name for p in store.parent.iterdir()} >= {"leadrouter.db", "leadrouter.db.lock"}


def test_leadrouter_run_started_with_a_permissive_umask_writes_owner_only_files(
    sandbox: SandboxHandle, tmp_path: Path, routing_config: Path
) -> None:
    store = tmp_path / "var" / "leadrouter.db"
    env = {**os.environ, **sandbox_env(sandbox, f"sqlite:///{store}", routing_config)}
    sandbox.admin().create_leads(5)
    for args in (["db", "upgrade"], ["run", "--once"]):
        done = subprocess.run([sys.executable, "-m", "worker", *args], env=env, umask=0o022,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
    assert "applied 5" in done.stdout
    assert readable_by_others(store.parent) == {}
