"""The suite relies on ``pytest -n 2 --dist loadgroup`` keeping each ``xdist_group`` on one
worker (the browser tests share one demo stack and build on each other's draft; the
million-row store is built once). pytest 9.2 broke that silently with pytest-xdist 3.8:
run a tiny suite the README's way and check the group held together."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TINY = """
import pytest

@pytest.mark.xdist_group("together")
@pytest.mark.parametrize("n", range(6))
def test_grouped(n):
    pass
"""


def test_an_xdist_group_runs_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "test_tiny.py").write_text(TINY)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v",
         "-p", "no:cacheprovider", "-p", "no:randomly", "test_tiny.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    workers = set(re.findall(r"\[(gw\d+)\] .*PASSED test_tiny.py::test_grouped", done.stdout))
    assert len(re.findall(r"PASSED test_tiny.py::test_grouped", done.stdout)) == 6
    assert len(workers) == 1, f"the group ran on {sorted(workers)}:\n{done.stdout[-2000:]}"
