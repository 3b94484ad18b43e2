"""How long the sandbox org takes to answer: per-call latency profiles.

A profile gives each kind of call (see :mod:`.calls`) a heavy-tailed lognormal fitted to
its p50 and p95, optionally scaled with the call's record count, and the org's rule for
concurrent long-running requests. ``none`` (the default for tests and the demo) answers
at once; ``real`` (``real.yaml`` beside this file) is calibrated to what a client sees
from a real org, with each figure's source or the word "estimate" (docs/sandbox-latency.md).

Draws come from one ``random.Random`` seeded from the sandbox seed: the sequence is
reproducible; which request gets which draw follows the requests' arrival order.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from devkit.sandbox.latency.lag import DEFAULT_CORRELATION_S, DeliveryLag

PROFILES_DIR = Path(__file__).parent
Z95 = 1.6448536269514722  # the standard normal's 95th percentile
KINDS = (
    "oauth_token",  # POST /services/oauth2/token
    "identity",  # GET /id/<org>/<user>
    "query",  # a query's first page
    "query_more",  # a next page (nextRecordsUrl)
    "sobject_row",  # one record: create, read, update, delete
    "collections_write",  # sObject Collections create/update/delete (scales with records)
    "collections_retrieve",  # sObject Collections retrieve
    "composite",  # POST /composite (scales with subrequests)
    "composite_query",  # a query subrequest's share of a Composite call (added to it)
    "replication",  # sobjects/<type>/updated|deleted
    "metadata",  # versions, resources, describe, limits
    "event_delivery",  # commit -> change event delivered (for a Pub/Sub server)
)

FALLBACK = {"composite_query": "query"}


@dataclass(frozen=True)
class CallLatency:
    """A lognormal with median ``p50`` and 95th percentile ``p95`` (seconds) at
    ``records`` records; for n records the median is ``fixed + (p50 - fixed) * n /
    records`` (the per-request part plus a per-record part) and the spread the same."""

    p50: float
    p95: float
    records: int | None = None
    fixed: float = 0.0
    correlation_s: float | None = None  # event_delivery: how long the bus's lag lasts

    def __post_init__(self) -> None:
        if not 0 < self.p50 <= self.p95:
            raise ValueError(f"need 0 < p50 <= p95, got p50={self.p50} p95={self.p95}")
        if self.records is not None and self.records < 1:
            raise ValueError("records must be at least 1")
        if not 0 <= self.fixed <= self.p50:
            raise ValueError("fixed must be between 0 and p50")
        if self.correlation_s is not None and self.correlation_s <= 0:
            raise ValueError("correlation_s must be positive")

    @property
    def sigma(self) -> float:
        return math.log(self.p95 / self.p50) / Z95

    def median(self, records: int = 1) -> float:
        if self.records is None:
            return self.p50
        return self.fixed + (self.p50 - self.fixed) * max(records, 0) / self.records

    def draw(self, rng: random.Random, records: int = 1) -> float:
        return self.median(records) * math.exp(self.sigma * rng.gauss(0.0, 1.0))


@dataclass(frozen=True)
class LongRunning:
    """Concurrent API Request Limits: at most ``limit`` requests may have been running
    for ``threshold_s`` or longer; beyond that, new requests get REQUEST_LIMIT_EXCEEDED.
    Production orgs and sandboxes 25, Developer Edition and trial orgs 5."""

    threshold_s: float = 20.0
    limit: int = 25

    def __post_init__(self) -> None:
        if self.threshold_s <= 0 or self.limit < 1:
            raise ValueError("long_running needs threshold_s > 0 and limit >= 1")


@dataclass
class LatencyProfile:
    name: str = "none"
    calls: dict[str, CallLatency] = field(default_factory=dict)
    long_running: LongRunning = field(default_factory=LongRunning)
    max_s: float = 120.0  # no draw beyond this (SOQL's own timeout is 120 s)
    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    @classmethod
    def none(cls) -> LatencyProfile:
        return cls()

    @classmethod
    def load(cls, spec: str | Path, *, seed: int = 0) -> LatencyProfile:
        """``none``, ``real`` (the packaged profile) or the path of a calibration YAML."""
        if str(spec) == "none":
            return cls(seed=seed)
        path = PROFILES_DIR / f"{spec}.yaml" if str(spec) == "real" else Path(spec)
        if not path.is_file():
            raise ValueError(f"latency profile not found: {spec} (none, real or a YAML file)")
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"latency profile {path} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(f"latency profile {path} must be a mapping")
        return cls.from_dict(data, seed=seed)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, seed: int = 0) -> LatencyProfile:
        unknown = set(data) - {"name", "calls", "long_running", "max_s"}
        if unknown:
            raise ValueError(f"unknown latency setting(s): {', '.join(sorted(unknown))}")
        calls = {}
        for kind, spec in (data.get("calls") or {}).items():
            if kind not in KINDS or not isinstance(spec, dict):
                raise ValueError(
                    f"unknown call kind '{kind}' or not a mapping (known: {', '.join(KINDS)})"
                )
            extra = set(spec) - {"p50", "p95", "records", "fixed", "source", "correlation_s"}
            if extra:
                raise ValueError(f"{kind}: unknown key(s) {', '.join(sorted(extra))}")
            try:
                calls[kind] = CallLatency(**{k: v for k, v in spec.items() if k != "source"})
            except TypeError as exc:
                raise ValueError(f"{kind}: {exc}") from None
        try:
            long_running = LongRunning(**(data.get("long_running") or {}))
        except TypeError as exc:
            raise ValueError(f"long_running: {exc}") from None
        return cls(
            name=str(data.get("name", "custom")),
            calls=calls,
            long_running=long_running,
            max_s=float(data.get("max_s", 120.0)),
            seed=seed,
        )

    @property
    def enabled(self) -> bool:
        return bool(self.calls)

    def has(self, kind: str) -> bool:
        return kind in self.calls

    def delay(self, kind: str, records: int = 1) -> float:
        """Seconds this call takes (0 for a kind the profile does not list; a profile
        without ``composite_query`` prices a query subrequest as a whole ``query``)."""
        call = self.calls.get(kind)
        if call is None and kind in FALLBACK:
            call = self.calls.get(FALLBACK[kind])
        if call is None:
            return 0.0
        with self._lock:
            value = call.draw(self._rng, records)
        return min(value, self.max_s)

    def delivery_lag(self) -> Callable[[float], float]:
        """The change event bus's lag as a function of time (:mod:`.lag`): the
        ``event_delivery`` distribution at every moment, shared by events committed close
        together; always 0 when the profile does not list it. Its own random stream
        (seeded from this profile's seed), so the calls' draws stay as they were."""
        call = self.calls.get("event_delivery")
        if call is None:
            return lambda t: 0.0
        rng = random.Random(f"{self.seed}:event_delivery")
        return DeliveryLag(
            call.p50, call.sigma, rng, max_s=self.max_s,
            correlation_s=call.correlation_s or DEFAULT_CORRELATION_S,
        ).at  # fmt: skip

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "calls": {
                k: {"p50": c.p50, "p95": c.p95, "records": c.records} for k, c in self.calls.items()
            },  # fmt: skip
            "long_running": {
                "threshold_s": self.long_running.threshold_s,
                "limit": self.long_running.limit,
            },
        }
