"""The chaos the soak injects besides people: API faults, a scarce API allocation, kills.

Request faults (503, 500, connection resets before and after the write, slow answers,
expired sessions) and per-record lock errors come from the sandbox's fault injector at
``fault_rate``; in intake mode subscribe, change event faults too (gap events, overflow
events, dropped Subscribe streams) at the profile's low rates. The allocation is squeezed for a window: the org's daily limit is lowered
so the worker's usage sits between its slow-down and its stop shares, and given back
afterwards. Kill moments are drawn one per equal slot of the run, so they are random
but spread out.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from devkit.sandbox.faults import FaultConfig
from devkit.sandbox.org import DEFAULT_DAILY_LIMIT

REQUEST_KINDS = ("server_unavailable", "internal_error", "reset", "reset_after", "slow",
                 "expire_session")  # fmt: skip
UNCOUNTED = ("server_unavailable", "internal_error", "reset", "expire_session")  # not billed


CDC_KINDS = ("cdc_gap", "cdc_overflow", "cdc_drop_stream")


def faults_on(admin: Any, rate: float, slow_seconds: float, seed: int,
              cdc: dict[str, float] | None = None) -> None:  # fmt: skip
    """Request faults at ``rate``; with ``cdc`` (subscribe), the change event faults too."""
    config = FaultConfig.uniform(rate, slow_seconds=slow_seconds, seed=seed)
    if cdc:
        config = config.merged(**cdc)
    admin.set_faults(config=config.to_dict())


def faults_off(admin: Any) -> None:
    admin.set_faults(config={})


def kill_moments(count: int, start: float, end: float, rng: random.Random) -> list[float]:
    """``count`` moments in [start, end): one drawn in each equal slot."""
    if count <= 0 or end <= start:
        return []
    slot = (end - start) / count
    return [start + i * slot + rng.uniform(0, slot * 0.8) for i in range(count)]


def fault_share(counts: dict[str, int], billed: int) -> tuple[int, float]:
    """(requests that reached the fault injector, share of them that got a fault)."""
    faults = sum(counts.get(k, 0) for k in REQUEST_KINDS)
    requests = billed + sum(counts.get(k, 0) for k in UNCOUNTED)
    return requests, (faults / requests if requests else 0.0)


@dataclass
class ApiSqueeze:
    """Keeps the worker's usage share between its slow-down and stop shares while on."""

    admin: Any
    slow_share: float
    stop_share: float
    limit: int | None = None
    lowered: int = 0  # times the limit was (re)lowered

    def tick(self, on: bool) -> None:
        used = int(self.admin.api_calls())
        if on and used > 0:
            low = self.slow_share + (self.stop_share - self.slow_share) * 0.3
            high = self.slow_share + (self.stop_share - self.slow_share) * 0.7
            if self.limit is None or used / self.limit > high:
                self.limit = math.ceil(used / low)
                self.admin.set_api_limit(limit=self.limit)
                self.lowered += 1
        elif not on and self.limit is not None:
            self.admin.set_api_limit(limit=max(DEFAULT_DAILY_LIMIT, used * 4))
            self.limit = None
