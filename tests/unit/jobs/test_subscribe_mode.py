"""The worker's ticks in intake mode subscribe: the subscriber runs only while this
worker is active and the mode says so; the poll cycle becomes a timed sweep."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

import worker.scheduler as scheduler_module
from tests.unit.jobs.conftest import a_config
from worker.bootstrap import App
from worker.jobs.deps import Deps
from worker.jobs.intake import CycleReport
from worker.routing.model import Intake, Subscribe
from worker.scheduler import SWEEP_BACKOFF_MAX, Worker
from worker.settings import load_settings


@dataclass
class FakeSubscription:
    settings: Subscribe
    stopped: bool = False
    reconciles: int = 0
    subscriber: Any = field(default_factory=lambda: type("S", (), {"failures": 0})())

    @property
    def intake(self) -> FakeSubscription:
        return self

    def reconcile_soon(self) -> None:
        self.reconciles += 1

    def alive(self) -> bool:
        return not self.stopped

    def stop(self) -> None:
        self.stopped = True


class Lease:
    def __init__(self) -> None:
        self.ours = True

    def try_acquire(self) -> bool:
        return self.ours

    def still_held(self) -> bool:
        return self.ours

    def release(self) -> None:
        self.ours = False


class Endpoint:
    stub = auth = None
    closed = 0

    def close(self) -> None:
        Endpoint.closed += 1


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[FakeSubscription]:
    made: list[FakeSubscription] = []

    def start(deps: Deps, stub: Any, auth: Any, settings: Subscribe, **_: Any) -> FakeSubscription:
        made.append(FakeSubscription(settings))
        return made[-1]

    monkeypatch.setattr(scheduler_module, "start_subscription", start)
    return made


def a_worker(deps: Deps, mode: str, **settings: Any) -> tuple[Worker, list[str]]:
    config = replace(a_config(), intake=Intake(mode=mode, subscribe=Subscribe(sweep_seconds=300)))
    deps.config = lambda _s: config
    app = App(load_settings(**settings), deps, Lease(), None, "host", 1, pubsub=Endpoint)  # type: ignore[arg-type]
    worker = Worker(app)
    cycles: list[str] = []
    worker._cycle = lambda **_: cycles.append(worker.mode)  # type: ignore[method-assign,assignment,func-returns-value]
    return worker, cycles


def test_subscribes_while_active_and_sweeps_on_a_timer(
    make_deps: Callable[..., Deps], started: list[FakeSubscription]
) -> None:
    worker, cycles = a_worker(make_deps(), "subscribe")
    worker.intake()
    assert len(started) == 1 and cycles == ["subscribe"]  # the sweep at start
    worker.health.last_cycle = None
    worker.intake()
    worker.intake()
    assert len(started) == 1 and cycles == ["subscribe"]  # no sweep before 300 s
    assert worker.health.last_cycle is not None  # healthy: events are flowing
    assert worker.next_interval(None) == worker.app.settings.intake_interval_seconds
    worker.last_sweep -= 300
    worker.intake()
    assert cycles == ["subscribe", "subscribe"]


def test_a_standby_stops_subscribing(
    make_deps: Callable[..., Deps], started: list[FakeSubscription]
) -> None:
    worker, cycles = a_worker(make_deps(), "subscribe")
    worker.intake()
    worker.app.lease.release()  # lost (another worker took over)
    worker.intake()
    assert started[0].stopped and worker.subscription is None
    worker.app.lease.ours = True  # type: ignore[attr-defined]
    worker.intake()  # active again: a new subscriber, resuming from the stored id
    assert len(started) == 2 and not started[1].stopped


def test_the_setting_wins_over_the_config_and_poll_stops_the_subscriber(
    make_deps: Callable[..., Deps], started: list[FakeSubscription]
) -> None:
    worker, cycles = a_worker(make_deps(), "subscribe", intake_mode="poll")
    worker.intake()
    assert started == [] and cycles == ["poll"]
    worker, cycles = a_worker(make_deps(), "subscribe")
    worker.intake()
    worker.app.deps.config = lambda _s: a_config()  # the config now says poll
    worker.intake()
    assert started[0].stopped and cycles == ["subscribe", "poll"]


def quiet_sweeps(worker: Worker, reads: list[int]) -> list[int]:
    """Each timed sweep reads the next count of ``reads``; returns the interval the
    worker waited before each one (seconds, by its own bookkeeping)."""
    waited: list[int] = []
    counts = iter(reads)

    def cycle(**_: Any) -> CycleReport:
        return CycleReport(cycle_id="c", read=next(counts))

    worker._cycle = cycle  # type: ignore[method-assign,assignment]
    for _ in reads:
        every = worker.sweep_every or 300
        worker.last_sweep -= every  # the interval is over: the tick sweeps
        worker.intake()
        waited.append(round(every))
    return waited


def test_quiet_sweeps_stretch_the_interval_and_a_read_brings_it_back(
    make_deps: Callable[..., Deps], started: list[FakeSubscription]
) -> None:
    worker, _ = a_worker(make_deps(), "subscribe")
    worker.intake()  # subscribed; the sweep at start
    waited = quiet_sweeps(worker, [0, 0, 0, 0, 2, 0])
    cap = 300 * SWEEP_BACKOFF_MAX
    assert waited == [300, 600, 1200, cap, cap, 300]  # doubling, capped; a read: back
    assert worker.sweep_every == 600
    worker.last_sweep -= 599
    worker.intake()
    assert worker.sweep_every == 600  # not due yet: no sweep, no change


def test_an_unhealthy_subscriber_keeps_the_sweeps_frequent(
    make_deps: Callable[..., Deps], started: list[FakeSubscription]
) -> None:
    worker, _ = a_worker(make_deps(), "subscribe")
    worker.intake()
    started[0].subscriber.failures = 1  # reconnecting: events may be missed
    assert quiet_sweeps(worker, [0, 0, 0]) == [300, 300, 300]


def test_the_sla_sweep_is_told_whether_the_worker_follows_events(
    make_deps: Callable[..., Deps],
    started: list[FakeSubscription],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    told: list[bool] = []
    monkeypatch.setattr(
        scheduler_module, "run_sla_sweep", lambda _deps, *, subscribed: told.append(subscribed)
    )
    for mode in ("subscribe", "poll"):
        worker, _ = a_worker(make_deps(), mode)
        worker.intake()
        worker.ensure_active()  # (the stubbed poll cycle takes no lease)
        worker.sla()
    assert told == [True, False]
    worker, _ = a_worker(make_deps(), "subscribe")
    worker.app.pubsub = None  # no connection: polling only, nothing follows events
    worker.intake()
    worker.sla()
    assert told == [True, False, False]
