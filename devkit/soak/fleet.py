"""The worker processes under test: ``leadrouter run`` children the soak kills and restarts.

Each worker is a real ``python -m worker run`` in its own session (so a SIGKILL hits it
alone). The active one is found from the heartbeat table (role per pid, live pids
only): with two workers on PostgreSQL the kill hits the lease holder, and the standby
must take over.
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from devkit.supervisor import Child, Supervisor, leadrouter_argv
from worker.root import engine_for
from worker.settings import Settings
from worker.store.models import JournalRow, WorkerHeartbeat


@dataclass
class Kill:
    at_s: float  # seconds into the chaos phase
    pid: int
    pending: int  # journal rows pending at the moment of the kill
    takeover_s: float | None = None  # kill -> a live worker active again


@dataclass
class Fleet:
    supervisor: Supervisor
    env: dict[str, str]
    database_url: str
    size: int
    started: int = 0
    kills: list[Kill] = field(default_factory=list)
    unexpected_exits: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.engine = engine_for(self.database_url, pool=False)

    # --- processes --------------------------------------------------------------------
    def start(self) -> Child:
        self.started += 1
        return self.supervisor.start(f"worker-{self.started}", leadrouter_argv("run"), env=self.env)

    def live(self) -> list[Child]:
        return [c for c in self.supervisor.children if c.process.poll() is None]

    def fill(self) -> None:
        """Start workers until ``size`` run; a worker that exited by itself is noted."""
        killed = {k.pid for k in self.kills}
        for child in self.supervisor.children:
            code = child.process.poll()
            if code is not None and child.process.pid not in killed and not _noted(self, child):
                self.unexpected_exits.append(f"{child.name} exited {code}; see {child.log_path}")
        while len(self.live()) < self.size:
            self.start()

    def stop(self) -> None:
        self.supervisor.stop_all()
        self.engine.dispose()

    # --- state from the store ---------------------------------------------------------
    def roles(self) -> dict[int, str]:
        try:
            with Session(self.engine) as s:
                return {hb.pid: hb.role for hb in s.exec(select(WorkerHeartbeat)).all()}
        except Exception:  # noqa: BLE001 - schema not there yet
            return {}

    def active(self) -> Child | None:
        roles = self.roles()
        return next((c for c in self.live() if roles.get(c.process.pid) == "active"), None)

    def pending(self) -> int:
        try:
            with Session(self.engine) as s:
                query = select(JournalRow.id).where(col(JournalRow.status) == "pending")
                return len(s.exec(query).all())
        except Exception:  # noqa: BLE001 - schema not there yet
            return 0

    # --- chaos ------------------------------------------------------------------------
    def kill_active(self, at_s: float, wait_for_pending: float = 0.0) -> Kill:
        """SIGKILL the active worker (optionally the moment decisions are pending, i.e.
        journalled but not yet written), start a replacement, time the takeover."""
        deadline = time.monotonic() + wait_for_pending
        while time.monotonic() < deadline and not self.pending():
            time.sleep(0.02)
        target = self.active() or next(iter(self.live()), None)
        if target is None:
            raise RuntimeError("no worker alive to kill")
        kill = Kill(at_s, target.process.pid, self.pending())
        target.process.send_signal(signal.SIGKILL)
        target.process.wait(10)
        killed_at = time.monotonic()
        self.kills.append(kill)
        self.fill()
        while time.monotonic() - killed_at < 60:
            if self.active() is not None:
                kill.takeover_s = round(time.monotonic() - killed_at, 2)
                break
            time.sleep(0.05)
        return kill

    def wait_active(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.active() is not None:
                return True
            self.fill()
            time.sleep(0.1)
        return False


def _noted(fleet: Fleet, child: Child) -> bool:
    return any(note.startswith(f"{child.name} ") for note in fleet.unexpected_exits)


def worker_env(base: dict[str, str], sandbox: dict[str, str], database_url: str,
               config: Path, intake: str = "poll") -> dict[str, str]:  # fmt: skip
    """The workers' environment: the caller's, minus any LEADROUTER_*, plus the sandbox
    and the intake mode (subscribe: the sandbox's Pub/Sub endpoint, same CA)."""
    env = {k: v for k, v in base.items() if not k.startswith("LEADROUTER_")}
    env.update({
        "LEADROUTER_DATABASE_URL": database_url,
        "LEADROUTER_SF_INSTANCE_URL": sandbox["instance_url"],
        "LEADROUTER_SF_TOKEN_URL": sandbox["token_url"],
        "LEADROUTER_SF_CA_BUNDLE": sandbox["ca_path"],
        "LEADROUTER_SF_CONSUMER_KEY": sandbox["client_id"],
        "LEADROUTER_SF_CONSUMER_SECRET": sandbox["client_secret"],
        "LEADROUTER_SF_AUTH_FLOW": "client_credentials",
        "LEADROUTER_ROUTING_CONFIG": str(config),
        "LEADROUTER_INTAKE_INTERVAL_SECONDS": "0.5",
        "LEADROUTER_IDLE_INTERVAL_SECONDS": "0.5",
        "LEADROUTER_SLA_INTERVAL_SECONDS": "2",
        "LEADROUTER_LOG_FORMAT": "text",
        "LEADROUTER_API_SLOW_SHARE": str(_default("api_slow_share")),
        "LEADROUTER_API_STOP_SHARE": str(_default("api_stop_share")),
        "PYTHONUNBUFFERED": "1",
        "LEADROUTER_INTAKE_MODE": intake,
    })  # fmt: skip
    if intake == "subscribe":
        env["LEADROUTER_SF_PUBSUB_ENDPOINT"] = sandbox["pubsub_endpoint"]
        env["LEADROUTER_SF_ORG_ID"] = sandbox["org_id"]
    return env


def _default(name: str) -> object:
    return Settings.model_fields[name].default


def shares(env: dict[str, str]) -> tuple[float, float]:
    """The workers' (slow-down, stop) shares of the daily API allocation."""
    return float(env["LEADROUTER_API_SLOW_SHARE"]), float(env["LEADROUTER_API_STOP_SHARE"])
