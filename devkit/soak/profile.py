"""Soak profiles: how many leads, how fast, how much chaos, for how long.

``quick`` is CI-sized. Its length is set by the SLA, not by the lead count: SLA minutes
are whole minutes in the routing config, so the shortest SLA is one minute and a lead
must wait a minute (plus a sweep) before it can be re-assigned; the quick run lasts a
little over that so the first leads' re-assignments happen (and are checked) under
faults. ``long`` is the 100,000-lead run. Either runs in intake mode ``poll`` or
``subscribe`` (change events over the Pub/Sub API, with the poll as a sweep every
``sweep_seconds``; the chaos then also has gap, overflow and dropped-stream faults).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Profile:
    name: str
    leads: int
    rate: float  # new leads per second
    fault_rate: float  # share of API requests that get a fault (every kind)
    kills: int  # SIGKILLs of the (active) worker, each followed by a restart
    run_seconds: float  # minimum length of the chaos phase (the 1-minute SLA must breach
    # well inside it, however late a loaded machine makes the first decisions)
    workers: int = 1
    seed: int = 8
    sla_minutes: int = 1
    # writeback.conditional: If-Unmodified-Since owner writes (the default; False: the opt-out)
    conditional: bool = True
    human_share: float = 0.04  # leads a human re-owns mid-flight
    touch_share: float = 0.10  # leads their rep works soon after assignment
    slow_seconds: float = 0.2  # delay of a "slow" fault
    api_low: tuple[float, float] = (0.45, 0.75)  # share of the run the allocation runs low
    drain_seconds: float = 90.0  # at most, after the chaos, for the worker to settle
    latency: str = "none"  # the sandbox's latency profile: none, real or a YAML path
    intake: str = "poll"  # the workers' intake mode: poll, or subscribe (Pub/Sub API)
    # subscribe only: change events sent as GAP_ events (per event), GAP_OVERFLOW instead
    # of a transaction's events (per transaction), Subscribe streams dropped (per batch)
    cdc_gap: float = 0.01
    cdc_overflow: float = 0.003
    cdc_drop_stream: float = 0.01
    sweep_seconds: int = 60  # subscribe: the reconciliation sweep (the poll) every so often

    @property
    def feed_seconds(self) -> float:
        return self.leads / self.rate

    @property
    def chaos_seconds(self) -> float:
        return max(self.feed_seconds, self.run_seconds)


PROFILES: dict[str, Profile] = {
    "quick": Profile("quick", leads=700, rate=11.0, fault_rate=0.18, kills=3, run_seconds=90.0),
    "long": Profile(
        "long",
        leads=100_000,
        rate=60.0,
        fault_rate=0.12,
        kills=20,
        run_seconds=120.0,
        human_share=0.01,
        touch_share=0.03,
        drain_seconds=600.0,
    ),  # fmt: skip
}


def resolve(name: str, **overrides: Any) -> Profile:
    """The named profile with the given (non-None) fields replaced, validated."""
    known = {f.name for f in fields(Profile)}
    changes = {k: v for k, v in overrides.items() if v is not None and k in known}
    profile = replace(PROFILES[name], **changes)
    _validate(profile)
    return profile


def _validate(p: Profile) -> None:
    if p.leads < 1:
        raise ValueError("--leads must be at least 1")
    if p.rate <= 0:
        raise ValueError("--rate must be positive")
    if not 0 <= p.fault_rate < 0.6:
        raise ValueError("--fault-rate must be between 0 and 0.6")
    if p.kills < 0:
        raise ValueError("--kills must be 0 or more")
    if p.workers not in (1, 2):
        raise ValueError("--workers must be 1 or 2")
    if p.intake not in ("poll", "subscribe"):
        raise ValueError("--intake must be poll or subscribe")
