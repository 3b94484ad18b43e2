"""Files only their owner may read: stores, logs, keys, credentials, demo sign-ins.

Everything the product and the demo write under ``var/`` holds lead data or secrets, so
it is created owner-only: directories 0700, files 0600. Two layers do it:

- the ``leadrouter`` command sets the umask to 077 before anything else, so every file a
  command or its child processes create (SQLite's own ``-wal``/``-shm`` files, Streamlit's,
  a subprocess's log) is owner-only whatever the caller's umask was;
- the functions below give an explicit mode where the code creates a file itself, so the
  same holds when the code runs inside another program (tests, an embedding service) with
  a permissive umask, and a file left 0644 by an older version is tightened when reused.

Directories are tightened only when these functions create them: a state folder given on
the command line may be a shared one (``/tmp``), which must keep its mode.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

OWNER_ONLY_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700


def restrict_umask() -> None:
    """Make every file this process (and its children) creates owner-only."""
    os.umask(OWNER_ONLY_UMASK)


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parent as 0700 (existing ones keep their mode)."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # another process made it meanwhile
        os.chmod(folder, DIR_MODE)  # mkdir's mode is masked by the umask; be exact
    return path


def tighten(path: Path) -> None:
    """Drop group and other permissions from an existing file we own (no-op otherwise)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)


def private_file(path: Path) -> Path:
    """Make sure ``path`` exists as an owner-only file (created empty when missing, an
    existing one tightened): open it afterwards as usual, e.g. a log to append to, or
    an SQLite database (SQLite gives its ``-wal`` and ``-shm`` files the database's mode)."""
    private_dir(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    tighten(path)
    return path


def write_private(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` atomically; the file is 0600 from its first byte
    (never written world-readable and chmod-ed afterwards)."""
    private_dir(path.parent)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp: 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
