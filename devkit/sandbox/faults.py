"""Fault injection: what a flaky, busy, rate-limited Salesforce does to a client.

Each rate is a probability per API request (``lock_row``: per record in a collection
write). Faults hit only ``/services/data`` calls, never the token or admin endpoints.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

REQUEST_FAULTS = (
    "server_unavailable",
    "internal_error",
    "reset",
    "reset_after",
    "slow",
    "expire_session",
)


@dataclass(frozen=True)
class FaultConfig:
    server_unavailable: float = 0.0  # 503 SERVER_UNAVAILABLE, nothing applied
    internal_error: float = 0.0  # 500 UNKNOWN_EXCEPTION, nothing applied
    reset: float = 0.0  # TCP reset before the request is processed
    reset_after: float = 0.0  # TCP reset after the request was applied (the response is lost)
    slow: float = 0.0  # the response is delayed by slow_seconds
    slow_seconds: float = 1.5
    expire_session: float = 0.0  # the session dies: 401 INVALID_SESSION_ID until re-auth
    lock_row: float = 0.0  # per record in collections: UNABLE_TO_LOCK_ROW
    # Change Data Capture over the Pub/Sub API (devkit/sandbox/pubsub)
    cdc_gap: float = 0.0  # per change event: sent as its GAP_ form (header only, re-read)
    cdc_overflow: float = 0.0  # per transaction: one GAP_OVERFLOW event instead of its events
    cdc_drop_stream: float = 0.0  # per delivered batch: the Subscribe stream dies after it
    seed: int | None = None

    @classmethod
    def uniform(
        cls, rate: float, *, slow_seconds: float = 0.2, seed: int | None = None
    ) -> FaultConfig:
        """``rate`` of requests get a fault, spread evenly over every kind (and per record)."""
        share = rate / len(REQUEST_FAULTS)
        return cls(
            **dict.fromkeys(REQUEST_FAULTS, share),
            slow_seconds=slow_seconds,
            lock_row=rate / 10,
            seed=seed,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        for key, value in data.items():
            if key != "seed" and (
                not isinstance(value, int | float)
                or value < 0
                or (key != "slow_seconds" and value > 1)
            ):
                raise ValueError(
                    f"fault setting {key} must be a number between 0 and 1 (seconds for slow_seconds)"
                )
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def merged(self, **changes: Any) -> FaultConfig:
        return replace(self, **changes)


class FaultInjector:
    """Draws faults from a seeded RNG (thread-safe) and counts what it injected."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)

    def request_fault(self) -> str | None:
        """At most one request-level fault, or None."""
        with self._lock:
            draw = self._rng.random()
            edge = 0.0
            for kind in REQUEST_FAULTS:
                edge += getattr(self.config, kind)
                if draw < edge:
                    self.counts[kind] = self.counts.get(kind, 0) + 1
                    return kind
            return None

    def lock_row(self) -> bool:
        with self._lock:
            hit = self._rng.random() < self.config.lock_row
            if hit:
                self.counts["lock_row"] = self.counts.get("lock_row", 0) + 1
            return hit

    def hit(self, kind: str) -> bool:
        """One draw against the rate ``kind`` (a ``cdc_*`` field of :class:`FaultConfig`),
        counted. A zero rate draws nothing, so a seeded run's other faults stay put."""
        with self._lock:
            rate = float(getattr(self.config, kind))
            if rate <= 0:
                return False
            hit = self._rng.random() < rate
            if hit:
                self.counts[kind] = self.counts.get(kind, 0) + 1
            return hit
