"""The subscribed speed-to-lead a worker taking no time at all would get: the floor under
``p50_owner_s`` / ``p95_owner_s`` for a latency profile.

Drawn from the same profile the sandbox answers with, lead by lead, the calls and waits
no subscribed worker can avoid (``docs/performance.md``, "Subscribed"):

1. the change event's delivery: the bus's lag at the lead's commit, drawn as the
   sandbox's bus draws it (:mod:`devkit.sandbox.latency.lag`), and in order (an event
   is never delivered before the one committed before it);
2. the micro-batching window (one lead to a batch: the arrivals are far apart);
3. the Contact e-mail lookup the decision needs, when the config matches known e-mails
   and the contact mirror is off (with it on, the decision reads the store);
4. the wait for the lead's creation second to be over, plus the clock skew allowed for
   (the guarded write's precondition has whole-second precision);
5. the guarded write: one Composite call of a query and a PATCH (its own draw, and the
   query subrequest's added to it, as the sandbox prices it).

What the worker adds on top (its own CPU, batches queued behind the one being decided,
the open-lead aggregate once a minute, a sweep holding the jobs' lock, a loose bound on
Salesforce's clock) is the measured figure minus this one.
"""

from __future__ import annotations

import math
import random
import statistics
from pathlib import Path

from devkit.sandbox.latency import LatencyProfile
from worker.jobs.precondition import CLOCK_SKEW
from worker.jobs.subscribe import SETTLE_PAD


def subscribed_owner_floor(
    latency: str | Path,
    *,
    rate: float,
    window: float,
    lookup: bool,
    leads: int = 20_000,
    seed: int = 0,
) -> tuple[float, float]:
    """(p50, p95) seconds from a lead's creation to its owner written, for ``leads``
    leads arriving evenly at ``rate``/s, drawn from the profile ``latency``."""
    if rate <= 0 or leads < 20:
        raise ValueError("need a positive rate and at least 20 leads")
    profile = LatencyProfile.load(latency, seed=seed)
    phase = random.Random(seed).random()  # where the wall clock's seconds fall
    skew = CLOCK_SKEW.total_seconds() + SETTLE_PAD
    lag = profile.delivery_lag()  # the sandbox bus's own lag process (latency.lag)
    delivered = 0.0
    times: list[float] = []
    for n in range(leads):
        created = n / rate + phase
        delivered = max(created + lag(created), delivered)
        decided = delivered + window + (profile.delay("query") if lookup else 0.0)
        sent = max(decided, math.floor(created) + 1 + skew)
        written = sent + profile.delay("composite", 2) + profile.delay("composite_query")
        times.append(written - created)
    p95 = statistics.quantiles(times, n=100)[94]
    return round(statistics.median(times), 2), round(p95, 2)
