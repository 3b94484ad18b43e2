"""The owner-only file helpers, and the umask every ``leadrouter`` command starts with."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.file_modes import mode, permissive_umask
from worker.files import private_file, tighten, write_private


def test_every_leadrouter_command_runs_with_an_owner_only_umask() -> None:
    probe = "import os, worker.cli as cli\ncli.cli = lambda: print(oct(os.umask(0)))\ncli.main()\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          umask=0o022, timeout=60)  # fmt: skip
    assert done.stdout.strip() == "0o77", done.stderr


def test_write_private_replaces_the_file_and_leaves_no_temporary_behind(tmp_path: Path) -> None:
    target = tmp_path / "creds.json"
    target.write_text("old")
    target.chmod(0o644)
    with permissive_umask():
        write_private(target, "new")
    assert (target.read_text(), mode(target)) == ("new", "0o600")
    assert [p.name for p in tmp_path.iterdir()] == ["creds.json"]


def test_private_file_keeps_the_content_of_an_existing_file(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    log.write_text("line 1\n")
    log.chmod(0o644)
    private_file(log)
    assert (log.read_text(), mode(log)) == ("line 1\n", "0o600")


def test_tighten_ignores_a_missing_file(tmp_path: Path) -> None:
    tighten(tmp_path / "nothing")
    assert list(tmp_path.iterdir()) == []
