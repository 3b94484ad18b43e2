"""One soak run: a sandbox org and real worker processes, chaos for a while, then the
evidence for the verdict.

Timeline: start the sandbox (its own process) and the worker(s); for ``chaos_seconds``
feed leads, play humans and reps, inject API faults, squeeze the API allocation for a
window and SIGKILL the active worker at random moments (a replacement is started each
time); then switch the faults off and let the worker drain until every lead is owned by
a rep or held and nothing is pending; stop the workers and read the org and the journal.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devkit.commands.bench_e2e_parts import SandboxProcess, start_sandbox_process
from devkit.soak import chaos
from devkit.soak.fleet import Fleet, Kill, shares, worker_env
from devkit.soak.observe import OwnerSampler, count_decisions, latest_status, read_journal
from devkit.soak.profile import Profile
from devkit.soak.routing import MANAGER, OUTSIDERS, REPS, write_config
from devkit.soak.traffic import Crowd, People
from devkit.soak.verdict import Evidence
from devkit.supervisor import Supervisor, leadrouter_argv
from worker.store.db import upgrade

Say = Callable[[str], None]


class SoakError(RuntimeError):
    """The soak could not run (not: the worker failed it)."""


@dataclass
class Run:
    evidence: Evidence
    kills: list[Kill]
    unexpected_exits: list[str]
    fault_counts: dict[str, int]
    requests: int  # API requests during the chaos (billed + faulted before billing)
    billed: int  # API calls the org counted, start to end
    squeezes: int
    slow_cycles: int  # worker log lines "slowing down"
    final_reconcile: bool
    seconds: float
    drained: bool
    owner_samples: int
    log_errors: int
    notes: list[str] = field(default_factory=list)


def run_campaign(profile: Profile, tmp: Path, database_url: str, say: Say) -> Run:
    started = time.monotonic()
    upgrade(database_url)  # a wrong or unreachable store fails here, before any process
    if count_decisions(database_url):
        raise SoakError("the store already holds decisions: the soak needs an empty database")
    (tmp / "org").mkdir(parents=True, exist_ok=True)
    say(f"soak {profile.name} (intake {profile.intake}): sandbox org starting")
    sandbox = start_sandbox_process(
        tmp / "org", seed=profile.seed, accounts=50, latency=profile.latency,
        pubsub_port=0 if profile.intake == "subscribe" else None,
    )  # fmt: skip
    try:
        return _with_sandbox(profile, tmp, database_url, sandbox, say, started)
    finally:
        sandbox.stop()


def _with_sandbox(profile: Profile, tmp: Path, database_url: str, sandbox: SandboxProcess,
                  say: Say, started: float) -> Run:  # fmt: skip
    config = write_config(tmp, profile.sla_minutes, profile.conditional, profile.sweep_seconds)
    info = {k: str(v) for k, v in sandbox.info.items()}
    env = worker_env(dict(os.environ), info, database_url, config, profile.intake)
    fleet = Fleet(Supervisor(tmp / "logs"), env, database_url, profile.workers)
    try:
        fleet.fill()
        if not fleet.wait_active(90):
            raise SoakError(f"no worker became active; see {tmp / 'logs'}")
        say(f"{profile.workers} worker(s) up; chaos for {profile.chaos_seconds:.0f}s")
        return _campaign(profile, tmp, database_url, sandbox, fleet, say, started)
    finally:
        fleet.stop()


def _people(profile: Profile, tmp: Path, admin: Any) -> People:
    from devkit.sandbox.remote import RemoteAdmin

    users = admin.user_ids()
    return People(
        lambda: RemoteAdmin.from_state_dir(tmp / "org"), leads=profile.leads, rate=profile.rate,
        seed=profile.seed, human_share=profile.human_share, touch_share=profile.touch_share,
        humans_pick=[users[r] for r in (*REPS, *OUTSIDERS)], manager_id=users[MANAGER],
    )  # fmt: skip


def _campaign(profile: Profile, tmp: Path, database_url: str, sandbox: SandboxProcess,
              fleet: Fleet, say: Say, started: float) -> Run:  # fmt: skip
    from devkit.sandbox.remote import RemoteAdmin

    admin = sandbox.admin
    squeeze = chaos.ApiSqueeze(RemoteAdmin.from_state_dir(tmp / "org"), *shares(fleet.env))
    people = _people(profile, tmp, admin)
    sampler = OwnerSampler(RemoteAdmin.from_state_dir(tmp / "org"))
    billed0 = int(admin.api_calls())
    cdc = (
        {k: getattr(profile, k) for k in chaos.CDC_KINDS} if profile.intake == "subscribe" else None
    )
    chaos.faults_on(admin, profile.fault_rate, profile.slow_seconds, profile.seed, cdc)
    people.start()
    sampler.start()
    t0 = time.monotonic()
    _chaos(profile, fleet, people, squeeze, t0, say)
    people.join()
    chaos.faults_off(admin)
    squeeze.tick(on=False)
    counts = {k: int(v) for k, v in admin.fault_counts().items()}
    requests, _ = chaos.fault_share(counts, int(admin.api_calls()) - billed0)
    say(f"chaos over after {time.monotonic() - t0:.0f}s; draining")
    drained = _drain(profile, admin, fleet, database_url)
    stopped_at = datetime.now(UTC)
    fleet.stop()
    reconciled = _final_reconcile(fleet, database_url, tmp)
    sampler.join()
    final = sampler.record(admin.leads())
    evidence = Evidence(
        queue_ids=frozenset({admin.intake_queue_id()}), final_owners=final,
        journal=read_journal(database_url), created_at=dict(people.crowd.created_at),
        humans=dict(people.crowd.humans), touches=dict(people.crowd.touches),
        observed=sampler.seen, ended_at=stopped_at,
    )  # fmt: skip
    _save_crowd(tmp, people.crowd)
    return Run(
        evidence, fleet.kills, fleet.unexpected_exits, counts, requests,
        int(admin.api_calls()) - billed0, squeeze.lowered, _slow_cycles(tmp / "logs"),
        reconciled, time.monotonic() - started, drained, sampler.samples,
        _log_errors(tmp / "logs"), [f"people: {e}" for e in people.crowd.errors],
    )  # fmt: skip


def _chaos(profile: Profile, fleet: Fleet, people: People, squeeze: chaos.ApiSqueeze,
           t0: float, say: Say) -> None:  # fmt: skip
    rng = random.Random(profile.seed)
    length = profile.chaos_seconds
    moments = chaos.kill_moments(profile.kills, 5.0, length - 5.0, rng)
    low_from, low_to = (length * share for share in profile.api_low)
    last_say = 0.0
    while True:
        elapsed = time.monotonic() - t0
        if elapsed >= length and (people.fed.is_set() or elapsed >= 3 * length):
            break
        squeeze.tick(on=low_from <= elapsed < low_to)
        if moments and elapsed >= moments[0]:
            moments.pop(0)
            mid_write = len(fleet.kills) % 2 == 1  # every other kill: while writes are pending
            kill = fleet.kill_active(round(elapsed, 1), wait_for_pending=3.0 if mid_write else 0)
            say(f"  t={elapsed:.0f}s SIGKILL pid {kill.pid} (pending {kill.pending}); "
                f"active again after {kill.takeover_s}s")  # fmt: skip
        fleet.fill()
        if elapsed - last_say >= 15:
            last_say = elapsed
            say(f"  t={elapsed:.0f}s leads {len(people.crowd.created_at)}/{profile.leads}")
        time.sleep(0.25)


def _drain(profile: Profile, admin: Any, fleet: Fleet, database_url: str) -> bool:
    """Wait until every lead is with a rep or held, and nothing is pending (checks pause
    in proportion to their cost: reading every lead of a big org takes a while)."""
    deadline = time.monotonic() + profile.drain_seconds
    while time.monotonic() < deadline:
        fleet.fill()
        began = time.monotonic()
        queued = [str(x["Id"]) for x in admin.leads() if not str(x["OwnerId"]).startswith("005")]
        if not fleet.pending() and all(s == "held" for s in latest_status(database_url, queued)):
            return True
        time.sleep(max(1.0, 2 * (time.monotonic() - began)))
    return False


def _final_reconcile(fleet: Fleet, database_url: str, tmp: Path) -> bool:
    """A worker stopped mid-write leaves decisions pending; the next start reconciles
    them (that is the design), so run one cycle if any are left."""
    if not fleet.pending():
        return False
    with (tmp / "logs" / "final-once.log").open("ab") as log:
        subprocess.run(leadrouter_argv("run", "--once"), env=fleet.env, stdout=log,
                       stderr=subprocess.STDOUT, timeout=300, check=False)  # fmt: skip
    return True


def _save_crowd(tmp: Path, crowd: Crowd) -> None:
    """What the people did, with times, next to the logs (to investigate a failure)."""
    acts = {
        kind: {lead: [act.owner_id, act.at.isoformat()] for lead, act in done.items()}
        for kind, done in (("humans", crowd.humans), ("touches", crowd.touches))
    }
    (tmp / "crowd.json").write_text(json.dumps(acts))


def _slow_cycles(logs: Path) -> int:
    return sum(
        path.read_text(errors="replace").count("slowing down") for path in logs.glob("worker-*.log")
    )


def _log_errors(logs: Path) -> int:
    """ERROR lines and tracebacks in the workers' logs (a figure, not an invariant:
    an intake cycle failing under faults is logged at ERROR and retried)."""
    total = 0
    for path in logs.glob("worker-*.log"):
        text = path.read_text(errors="replace")
        total += text.count("level=ERROR") + text.count("Traceback")
    return total
