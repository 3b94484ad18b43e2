"""The change event bus's lag: how long after its commit an event can be delivered.

Events are delivered in commit order (replay ids are ordered). Drawing each event's delay
on its own and then holding it behind the one before (as the bus first did) made the
delay a subscriber sees the *largest* of the recent draws, not one draw: at 4 events a
second the profile's p50 0.3 s / p95 1.0 s came out as about 0.5 s / 2.1 s, and the
busier the stream, the worse (a burst saw the far tail on every event). That is not how
a bus behaves: its lag is a property of the moment (the pipeline's load), shared by the
events committed close together.

So the lag is a process over time: at every moment it has the profile's distribution
(a lognormal with the kind's p50 and p95), and it wanders with a correlation time of
``correlation_s`` seconds (an Ornstein-Uhlenbeck process in log space: the normal
deviate ``z`` decays towards 0 as ``exp(-dt / correlation_s)`` and is refreshed by an
independent draw of the matching size). Events committed a moment apart see about the
same lag; events minutes apart, independent ones. The correlation time is an estimate
(Salesforce publishes none), stated in ``real.yaml``.
"""

from __future__ import annotations

import math
import random
import threading

DEFAULT_CORRELATION_S = 5.0


class DeliveryLag:
    """``at(t)``: the bus's lag at time ``t`` (seconds, any clock that only goes forward;
    an earlier ``t`` than the last is taken as the last).

    The normal deviate is drawn at knots ``step`` seconds apart (each knot's correlated
    with the one before as the process decays over ``step``) and interpolated between
    them, rescaled to unit variance: a smooth path. A rough one (a fresh draw for every
    event) would let the lag fall faster than time passes in its tail, and the in-order
    hold would then lift the tail again."""

    def __init__(
        self,
        median: float,
        sigma: float,
        rng: random.Random,
        *,
        correlation_s: float = DEFAULT_CORRELATION_S,
        step: float = 1.0,
        max_s: float = 120.0,
    ) -> None:
        if correlation_s <= 0 or step <= 0:
            raise ValueError("correlation_s and step must be positive")
        self.median, self.sigma, self.max_s, self.step = median, sigma, max_s, step
        self._keep = math.exp(-step / correlation_s)  # one knot's correlation with the next
        self._rng = rng
        self._knots: tuple[float, float] = (rng.gauss(0.0, 1.0), 0.0)  # z at k, k + 1
        self._knots = (self._knots[0], self._next(self._knots[0]))
        self._k: int | None = None  # the knot at or before the last t
        self._t0 = 0.0
        self._last = 0.0
        self._lock = threading.Lock()

    def _next(self, z: float) -> float:
        return self._keep * z + math.sqrt(1.0 - self._keep**2) * self._rng.gauss(0.0, 1.0)

    def at(self, t: float) -> float:
        with self._lock:
            if self._k is None:
                self._t0, self._k, self._last = t, 0, t
            t = max(t, self._last)
            self._last = t
            k, a = divmod((t - self._t0) / self.step, 1.0)
            while self._k < int(k):
                self._knots = (self._knots[1], self._next(self._knots[1]))
                self._k += 1
            z0, z1 = self._knots
            rho = self._keep
            scale = math.sqrt((1 - a) ** 2 + a * a + 2 * a * (1 - a) * rho)
            z = ((1 - a) * z0 + a * z1) / scale
            return min(self.median * math.exp(self.sigma * z), self.max_s)
