from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.unit.jobs.conftest import a_config
from tests.unit.jobs.fakes import QUEUE_ID, FakeGateway
from worker.bootstrap import App
from worker.jobs.deps import Deps
from worker.jobs.intake import CycleReport
from worker.routing.model import BusinessHours, Intake
from worker.runtime.budget import Budget, Pace
from worker.runtime.lease import SqliteLease
from worker.scheduler import Worker, in_business_hours
from worker.settings import load_settings

NY_HOURS = BusinessHours("America/New_York", frozenset(range(5)), 8 * 60, 18 * 60)


def a_worker(deps: Deps, hours: BusinessHours | None) -> Worker:
    settings = load_settings(intake_interval_seconds=2, idle_interval_seconds=30)
    config = replace(a_config(), intake=Intake(business_hours=hours))
    deps.config = lambda _s: config
    return Worker(App(settings, deps, SqliteLease("sqlite://"), None, "host", 1))


def test_business_hours_are_read_in_their_own_time_zone() -> None:
    assert in_business_hours(NY_HOURS, datetime(2026, 11, 23, 14, 0, tzinfo=UTC))  # Mon 09:00 NY
    assert not in_business_hours(NY_HOURS, datetime(2026, 11, 23, 12, 0, tzinfo=UTC))  # 07:00
    assert not in_business_hours(NY_HOURS, datetime(2026, 11, 22, 15, 0, tzinfo=UTC))  # Sunday
    assert not in_business_hours(None, datetime(2026, 11, 23, 14, 0, tzinfo=UTC))


def test_an_idle_org_outside_business_hours_is_polled_at_the_idle_interval(
    make_deps: Callable[..., Deps],
) -> None:
    worker = a_worker(make_deps(), hours=BusinessHours("UTC", frozenset(), 0, 1))
    assert worker.next_interval(CycleReport("c")) == 30


def test_polls_fast_while_leads_flow(make_deps: Callable[..., Deps]) -> None:
    worker = a_worker(make_deps(), hours=None)
    worker.last_flow = time.monotonic()
    assert worker.next_interval(CycleReport("c", read=5)) == 2


def test_slows_down_past_the_slow_share_of_the_api_allocation(
    make_deps: Callable[..., Deps],
) -> None:
    worker = a_worker(make_deps(), hours=None)
    worker.last_flow = time.monotonic()
    assert worker.next_interval(CycleReport("c", pace=Pace.SLOW)) == 60
    budget = Budget()
    assert [budget.pace(u) for u in [(79, 100), (80, 100), (95, 100), None]] == [
        Pace.NORMAL, Pace.SLOW, Pace.STOP, Pace.NORMAL,
    ]  # fmt: skip


def test_an_sla_sweep_refused_by_salesforce_is_one_error_line_not_a_traceback(
    make_deps: Callable[..., Deps],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A session refused twice in a row (the soak's injected expiries) used to reach the
    scheduler as a traceback carrying the whole multi-kB query URL."""
    import worker.scheduler as scheduler
    from worker.sfdc.errors import SfdcAuthError

    def refused(_deps: Deps, *, subscribed: bool = False) -> None:
        raise SfdcAuthError("Salesforce answered 401 INVALID_SESSION_ID: Session expired")

    monkeypatch.setattr(scheduler, "run_sla_sweep", refused)
    deps = make_deps()
    worker = a_worker(deps, hours=None)
    worker.active = True
    with caplog.at_level("ERROR"):
        worker.sla()  # does not raise
    (record,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert record.getMessage() == (
        "SLA sweep failed: SfdcAuthError: Salesforce answered 401 INVALID_SESSION_ID: "
        "Session expired"
    )
    assert record.exc_info is None
    assert deps.metrics.errors.labels(kind="SfdcAuthError")._value.get() == 1


def test_the_worker_runs_a_cycle_for_held_back_leads_when_they_have_settled(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """A lead the cycle left pending for the rest of its creation second is written by a
    second cycle of the same job, run when that second is over (it comes before the next
    tick); with the next tick sooner than that, the tick's cycle is left to do it."""
    from datetime import timedelta

    from worker.jobs.precondition import CLOCK_SKEW

    org.add_lead("00QA")
    org.clock += timedelta(milliseconds=300)
    deps = make_deps()
    deps.settling.enabled = True
    naps: list[float] = []
    deps.sleep = lambda s: (naps.append(s), org.tick(s))  # type: ignore[func-returns-value]
    worker = a_worker(deps, hours=None)
    worker.interval = 2.0
    report = worker.intake()
    assert report is not None and report.applied == 1 and org.owner("00QA") != QUEUE_ID
    assert naps == [pytest.approx(0.7 + CLOCK_SKEW.total_seconds())]  # one wait, then a cycle
    org.add_lead("00QB")
    org.clock += timedelta(milliseconds=300)
    worker.interval = 0.5  # the next tick comes first
    assert worker.intake().left_pending == 1  # type: ignore[union-attr]
    assert len(naps) == 1 and org.owner("00QB") == QUEUE_ID


def test_taking_the_lease_is_logged_at_info_not_warning(
    make_deps: Callable[..., Deps], caplog: pytest.LogCaptureFixture
) -> None:
    worker = a_worker(make_deps(), hours=None)
    caplog.set_level("INFO", logger="leadrouter.worker")
    assert worker.ensure_active()
    (record,) = [r for r in caplog.records if "is now" in r.getMessage()]
    assert record.getMessage().endswith("is now active") and record.levelname == "INFO"


def test_a_cycle_that_outlasts_the_interval_while_leads_flow_is_followed_at_once(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """The scheduler skips the tick that comes while a cycle runs: a lead that arrived
    meanwhile is polled by a cycle run at once, not at the tick after."""
    org.add_lead("00QA")
    deps = make_deps()
    worker = a_worker(deps, hours=None)
    worker.interval = 2.0
    cycles: list[CycleReport | None] = []
    run = worker._cycle
    worker._cycle = lambda: cycles.append(run()) or cycles[-1]  # type: ignore[method-assign]

    def slow_write() -> None:  # Salesforce takes 3 s; a lead comes meanwhile
        org.tick(3)
        org.add_lead("00QB")

    org.before_write = slow_write
    worker.intake()
    assert len(cycles) == 2 and org.owner("00QA") != QUEUE_ID and org.owner("00QB") != QUEUE_ID
    # a cycle within its interval is not followed: the next tick polls
    cycles.clear()
    org.add_lead("00QC")
    worker.intake()
    assert len(cycles) == 1 and org.owner("00QC") != QUEUE_ID
    # with no ticks to skip (``run --once``: no interval) one cycle, however long
    cycles.clear()
    worker.interval = 0.0
    org.add_lead("00QD")
    org.before_write = slow_write
    worker.intake()
    assert len(cycles) == 1
