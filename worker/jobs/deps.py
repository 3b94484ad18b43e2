"""What every job needs, passed in explicitly (built by :mod:`worker.bootstrap`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from worker.jobs.budget import Budget
from worker.jobs.directory import Directory
from worker.metrics import Metrics
from worker.routing.model import RoutingConfig
from worker.sfdc.gateway import SalesforceGateway


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    engine: Engine
    gateway: SalesforceGateway
    directory: Directory
    config: Callable[[Session], RoutingConfig]  # file + dashboard overrides, per cycle
    worker_id: str
    metrics: Metrics = field(default_factory=Metrics)
    budget: Budget = field(default_factory=Budget)
    now: Callable[[], datetime] = utc_now
    batch_size: int = 200
    overlap_seconds: float = 2.0
    lock_retries: int = 3
    intake_user_ids: tuple[str, ...] = ()  # integration users whose leads are "new" too
    # jobs share one lock: intake and the SLA sweep both consume the routing state
    lock: threading.Lock = field(default_factory=threading.Lock)
