"""Helpers for the owner-only file tests: what a second local user could read."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def readable_by_others(folder: Path) -> dict[str, str]:
    """Every file or folder under ``folder`` (itself included) whose mode grants anything
    to the group or to others: relative path -> octal mode."""
    found = {}
    for path in [folder, *sorted(folder.rglob("*"))]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077 and not path.is_symlink():
            found[str(path.relative_to(folder)) or "."] = oct(mode)
    return found


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


@contextmanager
def permissive_umask() -> Iterator[None]:
    """The usual login umask (022): files are world-readable unless the code says not."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)
