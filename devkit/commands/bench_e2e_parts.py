"""Pieces of ``leadrouter bench e2e``: the sandbox process, the I/O floor, the phases.

The sandbox org runs in its OWN process (``leadrouter sandbox serve``), so the worker's
wall time and RSS are the worker's alone. The I/O floor is a script making only the
calls the API cannot do without, against the same sandbox: one query page per 2,000
leads read, one bulk context query per 200-lead batch and the write calls of the
mechanism the routing config chooses (one Composite call of 25 conditional PATCHes per
25 leads by default, one collections PATCH per 200 with ``writeback.conditional:
false``). The worker also re-reads the owners before each burst of writes (the
never-overwrite-a-human guard: one sObject Collections retrieve per 800) and resolves
queues/users; the floor does neither, so the ratio is an honest upper bound on our
overhead.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from worker.bootstrap import App
from worker.files import private_file
from worker.jobs.intake import CycleReport, run_cycle
from worker.jobs.send_owners import COMPOSITE_MAX
from worker.root import Root
from worker.settings import Settings
from worker.sfdc import soql
from worker.sfdc.gateway import COLLECTION_MAX
from worker.sfdc.mapping import OwnerUpdate, parse_datetime


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpus() -> int:
    """CPUs this process may run on (what the worker, the sandbox and the OS share)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def cpu_s_of(pid: int) -> float | None:
    """CPU seconds (user + system) process ``pid`` has used so far; None where
    ``/proc`` cannot tell."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


@dataclass
class CpuSpent:
    """CPU seconds the bench process (the worker or the floor script) and the sandbox
    used over one timed phase."""

    own: float
    sandbox: float | None


class CpuMeter:
    """Measures :class:`CpuSpent` over a ``with`` block."""

    def __init__(self, sandbox_pid: int) -> None:
        self.pid = sandbox_pid
        self.spent = CpuSpent(0.0, None)

    def __enter__(self) -> CpuMeter:
        self._own, self._sandbox = time.process_time(), cpu_s_of(self.pid)
        return self

    def __exit__(self, *exc: object) -> None:
        sandbox = cpu_s_of(self.pid)
        self.spent = CpuSpent(
            time.process_time() - self._own,  # user + system, every thread
            sandbox - self._sandbox if sandbox is not None and self._sandbox is not None else None,
        )


@dataclass
class SandboxProcess:
    process: subprocess.Popen[bytes]
    info: dict[str, Any]
    admin: Any  # RemoteAdmin

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_sandbox_process(
    state_dir: Path,
    *,
    seed: int,
    accounts: int,
    latency: str = "none",
    pubsub_port: int | None = None,
) -> SandboxProcess:
    """``leadrouter sandbox serve`` in its own process; ``latency``: none, real or the
    path of a calibration YAML; ``pubsub_port`` (0: any free port): also the Pub/Sub API
    (its endpoint and the org id are then in ``info``)."""
    from devkit.sandbox.remote import RemoteAdmin

    info_path = state_dir / "sandbox.json"
    info_path.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "worker", "sandbox", "serve", "--state-dir", str(state_dir),
            "--port", "0", "--seed", str(seed), "--accounts", str(accounts),
            "--latency", latency]  # fmt: skip
    if pubsub_port is not None:
        argv += ["--pubsub-port", str(pubsub_port)]
    log = private_file(state_dir.parent / "sandbox.log").open("ab")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sandbox exited early; see {state_dir.parent / 'sandbox.log'}")
        if info_path.exists():
            try:
                info = json.loads(info_path.read_text())
                return SandboxProcess(process, info, RemoteAdmin.from_state_dir(state_dir))
            except (ValueError, KeyError):
                pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("sandbox did not start within 300 s")


def create_leads(admin: Any, count: int, chunk: int = 2_000) -> None:
    for start in range(0, count, chunk):
        admin.create_leads(count=min(chunk, count - start))


def minimal_calls(leads: int, written: int | None = None, *, conditional: bool = True) -> int:
    """Query pages (2,000 per page), one context query per 200 read, and the write calls
    of the mechanism in use for the leads written (default: all of them): one Composite
    call per 25 conditional PATCHes (``writeback.conditional``, the default), or one
    collections PATCH per 200 (the opt-out)."""
    writes = leads if written is None else written
    per_call = COMPOSITE_MAX if conditional else COLLECTION_MAX
    return math.ceil(leads / 2_000) + math.ceil(leads / 200) + math.ceil(writes / per_call)


@dataclass
class FloorResult:
    seconds: float
    calls: int
    leads: int


def io_floor(
    settings: Settings,
    queue_id: str,
    user_ids: Sequence[str],
    fields: Sequence[str],
    since: datetime | None = None,
    *,
    conditional: bool = True,
) -> FloorResult:
    """Read every queued lead (changed at or after ``since``), one context query per 200,
    and write 200 at a time (round-robin) through the gateway's own write, the calls one
    after another: with ``conditional``, Composite calls of 25 PATCHes, each unless the
    lead changed since this read (its ``SystemModstamp`` as the precondition; no owner
    re-read), else one collections PATCH."""
    root = Root(settings)
    conn, gateway = root.connection, root.gateway
    conn.call(lambda sf: sf.query(soql.queue_ids_query(["Lead_Intake"])))  # authenticate first
    calls0, started, done, turn = conn.http_calls, time.monotonic(), 0, 0
    query = soql.intake_query([queue_id], since, fields)  # the fields the worker reads
    result: dict[str, Any] = conn.call(lambda sf: sf.query(query))
    while True:
        records = result.get("records") or []
        for start in range(0, len(records), 200):
            batch = records[start : start + 200]
            emails = [r["Email"] for r in batch if r.get("Email")]
            (context,) = soql.contacts_queries(emails)[:1] or [soql.contacts_queries(["x"])[0]]
            conn.call(lambda sf, q=context: sf.query(q))  # type: ignore[misc]
            updates = []
            for r in batch:
                updates.append(OwnerUpdate(r["Id"], user_ids[turn % len(user_ids)]))
                turn += 1
            stamps = {r["Id"]: parse_datetime(r["SystemModstamp"]) for r in batch}
            unmodified = {k: v for k, v in stamps.items() if v is not None}
            gateway.update_owners(updates, unmodified_since=unmodified if conditional else None)
            done += len(batch)
        next_url = result.get("nextRecordsUrl")
        if result.get("done", True) or not next_url:
            break
        result = conn.call(lambda sf, u=next_url: sf.query_more(u, identifier_is_url=True))  # type: ignore[misc]
    return FloorResult(time.monotonic() - started, conn.http_calls - calls0, done)


@dataclass
class DrainResult:
    seconds: float
    decided: int
    applied: int
    held: int
    calls: int
    cycles: int


def drain(app: App, max_cycles: int = 500) -> DrainResult:
    """Run cycles until a cycle applies nothing new (held leads stay held)."""
    started, calls0 = time.monotonic(), app.deps.gateway.api_calls()
    applied = decided = cycles = 0
    last: CycleReport | None = None
    end = started
    while cycles < max_cycles:
        last = run_cycle(app.deps)
        cycles += 1
        if last.applied or last.left_pending:
            applied += last.applied
            decided += last.decided
            end = time.monotonic()
            continue
        break
    held = last.held if last else 0
    return DrainResult(
        end - started, decided, applied, held, app.deps.gateway.api_calls() - calls0, cycles
    )


def held_ids(app: App) -> list[str]:
    from worker.store import journal_repo
    from worker.store.db import session_scope

    with session_scope(app.deps.engine) as s:
        return journal_repo.held_lead_ids(s)


def arrivals(admin: Any, rate: float, seconds: float) -> dict[str, float]:
    """Create leads at ``rate``/s for ``seconds``; lead Id -> wall time it was created."""
    created: dict[str, float] = {}
    tick = 0.25
    start = time.time()
    n = 0
    while time.time() - start < seconds:
        due = int((time.time() - start + tick) * rate) - n
        if due > 0:
            at = time.time()
            for lead_id in admin.create_leads(count=due):
                created[lead_id] = at
            n += due
        # a tick on, or (at low rates) until the next lead is due: never spinning
        next_due = min(max(start + n / rate, start + (n + 1) / rate - tick), start + seconds)
        time.sleep(max(0.0, next_due - time.time()))
    return created


def run_in_thread(fn: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=fn, daemon=True)
    thread.start()
    return thread


def guard_window(app: App) -> tuple[float | None, float | None]:
    """(mean ms, bucket upper bound of the largest) of the owner-check -> PATCH windows
    observed so far (``leadrouter_guard_window_seconds``)."""
    samples = [s for metric in app.deps.metrics.guard_window.collect() for s in metric.samples]
    total = next((s.value for s in samples if s.name.endswith("_sum")), 0.0)
    count = next((s.value for s in samples if s.name.endswith("_count")), 0.0)
    if not count:
        return None, None
    buckets = [(float(s.labels["le"]), s.value) for s in samples if s.name.endswith("_bucket")]
    bound = min((le for le, n in buckets if n >= count), default=None)
    return round(total / count * 1000, 1), bound
