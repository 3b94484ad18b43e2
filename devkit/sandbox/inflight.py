"""Concurrent API Request Limits: an org serves any number of short requests at once,
but only ``limit`` that have run for ``threshold_s`` (20 s) or longer; while that many
are running, a new request is refused with REQUEST_LIMIT_EXCEEDED ("ConcurrentRequests
(Concurrent API Requests) Limit exceeded."), until fewer are left."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

from devkit.sandbox.latency import LongRunning

MESSAGE = "ConcurrentRequests (Concurrent API Requests) Limit exceeded."


class InFlight:
    """The requests being served and when each started; thread-safe."""

    def __init__(self, rule: LongRunning, clock: Callable[[], float] = time.monotonic) -> None:
        self.rule = rule
        self._clock = clock
        self._lock = threading.Lock()
        self._started: dict[int, float] = {}
        self._tickets = itertools.count()

    def enter(self) -> int | None:
        """A ticket for a request that may start, or None when the long-running ones
        are at the limit (the refused request is not in flight)."""
        now = self._clock()
        with self._lock:
            if self._long_running(now) >= self.rule.limit:
                return None
            ticket = next(self._tickets)
            self._started[ticket] = now
            return ticket

    def leave(self, ticket: int) -> None:
        with self._lock:
            self._started.pop(ticket, None)

    def long_running(self) -> int:
        with self._lock:
            return self._long_running(self._clock())

    def _long_running(self, now: float) -> int:
        edge = self.rule.threshold_s
        return sum(1 for started in self._started.values() if now - started >= edge)
