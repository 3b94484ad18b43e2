"""Start child processes, watch them, and stop every one of them on the way out.

Used by ``leadrouter demo`` (and the soak): each child gets its own process group so a
Ctrl-C in the terminal reaches us once, and we decide the order of shutdown; on exit,
normal or not, every child and its own children receive SIGTERM, then SIGKILL after a
grace period. No orphans.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

from worker.files import private_file


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path | None = None


@dataclass
class Supervisor:
    log_dir: Path
    children: list[Child] = field(default_factory=list)
    grace_seconds: float = 10.0

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Child:
        """Start ``argv`` with output to ``<log_dir>/<name>.log``."""
        log_path = private_file(self.log_dir / f"{name}.log")  # logs may carry lead data
        log: IO[bytes] = log_path.open("ab")
        process = subprocess.Popen(
            list(argv),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def adopt(self, name: str, process: subprocess.Popen[bytes], log_path: Path | None) -> Child:
        """Watch and stop a process started elsewhere (it must have its own session)."""
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def first_exited(self) -> Child | None:
        return next((c for c in self.children if c.process.poll() is not None), None)

    def stop_all(self) -> None:
        """SIGTERM every child's process group (newest first), then SIGKILL stragglers."""
        for child in reversed(self.children):
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds
        for child in reversed(self.children):
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                pass
            _signal_group(child.process, signal.SIGKILL)  # children of the child, too
            child.process.wait()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived."""


def raise_on_signals() -> None:
    """Turn SIGINT/SIGTERM into :class:`Interrupted` so ``finally`` blocks run."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def leadrouter_argv(*args: str) -> list[str]:
    """Run our own CLI with the same interpreter (works without the venv on PATH)."""
    return [sys.executable, "-m", "worker", *args]
