from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from tests.unit.jobs.fakes import FakeGateway
from worker.jobs.deps import Deps
from worker.jobs.directory import Directory
from worker.routing.model import Pool, PoolMember, Rep, RoutingConfig, Rule, SlaPolicy, Target
from worker.sfdc.mapping import UserRow
from worker.store.db import make_engine, upgrade

REPS = ("ann@x.example", "bob@x.example", "cat@x.example")
MANAGER = "boss@x.example"


def uid(key: str) -> str:
    return "005" + key.split("@")[0].ljust(15, "0")


def a_config(*, sla: SlaPolicy | None = None, reps: tuple[str, ...] = REPS) -> RoutingConfig:
    all_reps = {k: Rep(key=k, name=k.split("@")[0].title()) for k in (*reps, MANAGER)}
    pool = Pool("sales", tuple(PoolMember(k) for k in reps), sla=sla)
    return RoutingConfig(
        reps=all_reps, pools={"sales": pool}, rules=(Rule("default", "pool", pool="sales"),)
    )


def an_sla(minutes: int = 5, max_hops: int = 1) -> SlaPolicy:
    return SlaPolicy(minutes=minutes, max_hops=max_hops, escalate_to=Target("rep", MANAGER))


@pytest.fixture
def org() -> FakeGateway:
    users = [UserRow(uid(k), k, k, k.split("@")[0].title(), True) for k in (*REPS, MANAGER)]
    return FakeGateway(users=users)


@pytest.fixture
def make_deps(sqlite_url: str, org: FakeGateway) -> Callable[..., Deps]:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)

    def build(
        config: RoutingConfig | None = None, now: Callable[[], datetime] | None = None
    ) -> Deps:
        cfg = config or a_config()
        return Deps(
            engine=engine,
            gateway=org,
            directory=Directory(org),
            config=lambda _s: cfg,
            worker_id="test",
            now=now or (lambda: org.clock),
            **org.clock_ports(),
        )

    return build
