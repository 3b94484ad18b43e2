"""What every job needs, passed in explicitly (built by :mod:`worker.bootstrap`).

Three kinds of thing, kept apart:

- :class:`Ports`: the doors to the world, each a seam a test replaces: the store, the
  Salesforce gateway, the routing config source, the notification settings, and time
  and chance (the clocks, ``sleep`` and ``rng``: nothing in the jobs reads the real clock
  or the global random generator behind them);
- :class:`Deps` (which is also the ports): the collaborators and tunables of the jobs;
- :class:`CycleState` (``Deps.state``): what one worker carries from a cycle to the next.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from worker.jobs.context import Caches
from worker.jobs.directory import Directory
from worker.jobs.precondition import Settling
from worker.metrics import Metrics
from worker.notify.model import NotifySettings
from worker.routing.model import RoutingConfig
from worker.runtime.budget import Budget
from worker.runtime.checkpoint import WalCheckpointer
from worker.runtime.heap import Heap
from worker.runtime.held_cache import HeldSnapshots
from worker.runtime.pipeline import Hush
from worker.sfdc.gateway import SalesforceGateway


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(kw_only=True)
class Ports:
    """The jobs' doors to the world."""

    engine: Engine  # the store
    gateway: SalesforceGateway
    config: Callable[[Session], RoutingConfig]  # file + dashboard overrides, per cycle
    # notifications: off unless the routing YAML has a ``notifications:`` section
    notify: NotifySettings = field(default_factory=lambda: NotifySettings(enabled=False))
    now: Callable[[], datetime] = utc_now
    # the clock routing decisions are made at (working hours, caps): ``now`` unless set;
    # ``bench e2e`` pins it to weekday business hours so its figures don't depend on the day
    decide_now: Callable[[], datetime] | None = None
    monotonic: Callable[[], float] = time.monotonic  # intervals: back-offs, refresh cadences
    sleep: Callable[[float], None] = time.sleep  # backing off between write rounds
    rng: random.Random = field(default_factory=random.Random)  # the back-offs' jitter

    def decision_time(self) -> datetime:
        return (self.decide_now or self.now)()


@dataclass
class CycleState:
    """What the jobs remember from one cycle to the next (this worker's, not the store's)."""

    held_rows: HeldSnapshots = field(default_factory=HeldSnapshots)  # held leads as last read
    held_read_at: float = float("-inf")  # (monotonic) when held leads were last re-read
    held_cursor: int = 0  # journal id: retries go round the backlog in turn
    usage_sampled_at: float = float("-inf")  # (monotonic) the last ApiUsage row
    calls_since_sample: int = 0
    directory_stored: dict[str, dict[str, object]] | None = None  # last stored rep users
    # the Lead's field types (lower-case name -> describe type), described once when
    # subscribed (:mod:`worker.jobs.event_leads`); None: not asked yet or not available
    lead_types: Mapping[str, str] | None = None
    lead_types_asked: bool = False
    lead_types_retry_at: float | None = None  # (monotonic) a describe failed in transit
    lead_types_failed: bool = False  # (said once in the log until it succeeds)
    # guarded owner writes refused as a whole by Salesforce once: re-read before each
    # write from then on (:mod:`worker.jobs.send_owners`)
    guarded_off: bool = False
    # decision id -> lead id of the subscriber's writes in flight outside the jobs' lock
    # (:mod:`worker.jobs.event_writes`): reconcile leaves them to their write
    writing: dict[int, str] = field(default_factory=dict)


@dataclass(kw_only=True)
class Deps(Ports):
    directory: Directory
    worker_id: str
    metrics: Metrics = field(default_factory=Metrics)
    budget: Budget = field(default_factory=Budget)
    overlap_seconds: float = 2.0
    # a watermark this old has had its overlap window read by every poll since: settled
    settle_seconds: float = 120.0
    lock_retries: int = 3
    write_concurrency: int = 4  # collections PATCHes in flight at once after a guard read
    # Composite calls of 25 conditional PATCHes in flight at once: Salesforce runs each
    # call's subrequests one after another, so a burst needs more calls side by side
    conditional_concurrency: int = 8
    # leads whose re-read may have come in the second of their last change: waited for in
    # the cycle, or (the scheduler's worker) left pending for a cycle run once it is over
    settling: Settling = field(default_factory=Settling)
    held_refresh_seconds: float = 300.0  # re-read held leads from Salesforce this often
    intake_user_ids: tuple[str, ...] = ()  # integration users whose leads are "new" too
    intake_user_keys: tuple[str, ...] = ()  # the same by e-mail/username (resolved, cached)
    # jobs share one lock: intake and the SLA sweep both consume the routing state
    lock: threading.Lock = field(default_factory=threading.Lock)
    caches: Caches = field(default_factory=Caches)
    # the write-back's check-then-write step asks the cycle thread to stand aside
    hush: Hush = field(default_factory=Hush)
    heap: Heap = field(default_factory=Heap)  # the collector kept off long-lived objects
    # SQLite: the log checkpointed on a thread of its own, off the cycle's commits
    checkpoints: WalCheckpointer | None = None
    held_retry_per_cycle: int = 1_000
    usage_sample_seconds: float = 60.0  # ApiUsage rows: one per minute, not one per cycle
    instance_url: str | None = None  # for lead links in messages
    state: CycleState = field(default_factory=CycleState)
