"""Installs are reproducible: the lock files pin every dependency pyproject.toml declares
(at a version inside its range, with hashes), the runtime lock agrees with the dev lock,
and the Makefile (so CI) and the Dockerfile install from them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def pins(name: str) -> dict[str, set[str]]:
    """package -> the versions the lock pins (a universal lock may pin one per marker)."""
    found: dict[str, set[str]] = {}
    for package, version in PIN.findall((ROOT / name).read_text()):
        found.setdefault(canonicalize_name(package), set()).add(version)
    return found


RUNTIME = [Requirement(r) for r in PROJECT["dependencies"]]
DEV = [Requirement(r) for r in PROJECT["optional-dependencies"]["dev"]]


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [("requirements.lock", RUNTIME), ("requirements-dev.lock", RUNTIME + DEV)],
)
def test_the_lock_pins_every_declared_dependency_inside_its_range(
    lock: str, requirements: list[Requirement]
) -> None:
    pinned = pins(lock)
    for req in requirements:
        versions = pinned.get(canonicalize_name(req.name), set())
        assert any(req.specifier.contains(v, prereleases=True) for v in versions), (
            f"{lock} has no {req} (pinned: {versions or 'none'}): run make lock"
        )


def test_the_runtime_lock_agrees_with_the_dev_lock_and_holds_no_dev_only_package() -> None:
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    for package, versions in runtime.items():
        assert versions <= dev.get(package, set()), package
    assert canonicalize_name("roundrobin") not in runtime
    assert canonicalize_name("scipy") not in runtime


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_pin_carries_a_hash(lock: str) -> None:
    blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / lock).read_text())
    for block in blocks:
        if PIN.match(block):
            assert "--hash=sha256:" in block, block.splitlines()[0]


def test_ci_and_the_image_install_from_the_locks() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements-dev.lock" in makefile
    assert "--no-deps -e ." in makefile and "lock:" in makefile
    assert "make install" in (ROOT / ".ci/run").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "--no-deps ." in dockerfile
