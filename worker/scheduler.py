"""The long-running worker: an APScheduler 3.x ``BlockingScheduler`` over the jobs.

Jobs (each ``max_instances=1``, ``coalesce=True``): ``intake`` (every few seconds, the
interval adapting to traffic), ``sla`` (the SLA sweep; subscribed, it reads Salesforce
only when a clock comes due: :mod:`worker.jobs.sla`), ``purge`` (retention, daily) and
``heartbeat``, and ``notify`` (delivery of queued notifications). Daily cap counters need
no reset job: the routing state buckets them by each rep's local day and hour, so they
reset at the rep's own midnight by themselves.

Only the active worker (see :mod:`worker.runtime.lease`) runs intake/SLA/purge; a standby
tries to take the lease on every intake tick. Jobs share one lock: intake and the SLA
sweep both consume the routing state.

Intake mode (``LEADROUTER_INTAKE_MODE`` when set, else ``intake.mode`` of the routing
config, read at every tick): ``poll`` runs an intake cycle at every tick; ``subscribe``
keeps a change event subscriber running on a thread of its own while this worker is
active (:mod:`worker.jobs.subscribe`), stops it when the lease is lost or the mode
changes, and runs the intake cycle as a reconciliation sweep every
``intake.subscribe.sweep_seconds``; the ticks stay fast so a standby still takes over
promptly, and resumes from the stored replay id. The sweep's interval adapts: each
timed sweep that reads nothing, with the subscriber healthy, doubles it, up to
:data:`SWEEP_BACKOFF_MAX` times ``sweep_seconds`` (an idle day: 72 sweeps at the default
300 s, not 288); a sweep that reads a lead, a subscriber failure or new settings bring it
back to ``sweep_seconds``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from worker.bootstrap import App
from worker.config_source import intake_mode
from worker.jobs.intake import CycleReport, refresh_mirrors, run_cycle
from worker.jobs.purge import run_purge
from worker.jobs.sla import run_sla_sweep
from worker.jobs.subscribe import Subscription, start_subscription
from worker.metrics import Health
from worker.notify import DeliveryReport, deliver_due
from worker.routing.availability import zone
from worker.routing.model import BusinessHours, Subscribe
from worker.runtime.budget import Pace
from worker.sfdc.errors import SfdcError
from worker.store import state_repo
from worker.store.db import session_scope

if TYPE_CHECKING:
    from worker.sfdc.pubsub.subscriber import Endpoint

log = logging.getLogger("leadrouter.worker")
IDLE_AFTER_SECONDS = 300.0
# cycles run at once, one after another, when a cycle that read leads overran the
# interval (the scheduler skips a tick that comes while its job runs)
MAX_CATCH_UP = 3
# subscribed: quiet sweeps stretch the sweep interval up to this many sweep_seconds (the
# longest a lead whose event was silently lost waits: 20 minutes at the default 300 s)
SWEEP_BACKOFF_MAX = 4
JOB_OPTS = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 30}


def in_business_hours(hours: BusinessHours | None, now: datetime) -> bool:
    if hours is None:
        return False
    local = now.astimezone(zone(hours.timezone))
    minute = local.hour * 60 + local.minute
    return local.weekday() in hours.days and hours.start <= minute < hours.end


@dataclass
class Worker:
    app: App
    health: Health = field(default_factory=Health)
    active: bool = False
    last_flow: float = float("-inf")
    interval: float = 0.0
    scheduler: BlockingScheduler | None = None
    mode: str = "poll"  # the intake mode of the last tick
    subscription: Subscription | None = None
    last_sweep: float = float("-inf")  # (monotonic) the last cycle in subscribe mode
    sweep_every: float | None = None  # (s) the adapted sweep interval; None: sweep_seconds
    _endpoints: list[Endpoint] = field(default_factory=list)  # Pub/Sub channels to close

    # --- lease --------------------------------------------------------------------
    def ensure_active(self) -> bool:
        """Take or keep the lease; False (standby) when another worker is active."""
        was = self.active
        self.active = self.app.lease.try_acquire() if not was else self.app.lease.still_held()
        if self.active != was:
            # taking the lease is routine (INFO); losing it while running is not (WARNING)
            level = logging.INFO if self.active else logging.WARNING
            log.log(level, "worker %s is now %s", self.app.deps.worker_id, self.role)
            self.health.role = self.role
            self.beat()  # the dashboard sees the takeover at once, not after the first cycle
        self.app.deps.metrics.active.set(1 if self.active else 0)
        self.health.role = self.role
        return self.active

    @property
    def role(self) -> str:
        return "active" if self.active else "standby"

    # --- jobs ---------------------------------------------------------------------
    def intake(self) -> CycleReport | None:
        """One intake tick in the configured mode (see the module docstring)."""
        sub = self._subscribe_settings()
        if sub is None:
            self.stop_subscription()
            return self._poll()
        return self._subscribed(sub)

    def _subscribe_settings(self) -> Subscribe | None:
        """``intake.subscribe`` when the mode is subscribe, else None."""
        try:
            with session_scope(self.app.deps.engine) as s:
                config = self.app.deps.config(s)
        except Exception:  # noqa: BLE001 - the cycle reports a config it cannot read
            return None
        mode = intake_mode(self.app.settings, config)
        if mode != self.mode:
            log.info("intake mode: %s", mode)
            self.mode = mode
        return config.intake.subscribe if mode == "subscribe" else None

    def _subscribed(self, sub: Subscribe) -> CycleReport | None:
        if not self.ensure_active():
            self.stop_subscription()  # a standby never subscribes
            self.beat()
            return None
        current = self.subscription
        if current is None or not current.alive() or current.settings != sub:
            self.stop_subscription()
            self.sweep_every = None
            self._start_subscription(sub)
        if time.monotonic() - self.last_sweep >= (self.sweep_every or sub.sweep_seconds):
            report = self.sweep()
            self.sweep_every = self._next_sweep_every(sub, report)
            return report
        live = self.subscription
        if live is not None and live.alive() and live.subscriber.failures == 0:
            self.health.last_cycle = time.monotonic()  # /healthz: events are flowing
        self.beat()
        self.adapt(None)
        return None

    def _next_sweep_every(self, sub: Subscribe, report: CycleReport | None) -> float | None:
        """After a timed sweep: twice the interval (up to :data:`SWEEP_BACKOFF_MAX` times
        ``sweep_seconds``) when it read nothing and the subscriber is running without
        failures, else back to ``sweep_seconds`` (None)."""
        live = self.subscription
        healthy = live is not None and live.alive() and live.subscriber.failures == 0
        if not (healthy and report is not None and report.read == 0):
            return None
        every = self.sweep_every or sub.sweep_seconds
        return min(every * 2, sub.sweep_seconds * SWEEP_BACKOFF_MAX)

    def sweep(self) -> CycleReport | None:
        """An intake cycle as the subscribe mode's reconciliation sweep (also run by the
        subscriber's thread when events may have been missed). The lease is not checked
        here (its connection belongs to the scheduler's thread): a standby has no
        subscriber, and the tick stops it when the lease goes."""
        self.last_sweep = time.monotonic()
        report = self._cycle(check_lease=False)
        if report is not None and report.read:
            self.sweep_every = None  # leads the events had not brought (yet): sweep often
        live = self.subscription
        if report is not None and report.left_pending and live is not None:
            live.intake.reconcile_soon()  # left until their second is over: not 5 minutes
        return report

    def _start_subscription(self, sub: Subscribe) -> None:
        if self.app.pubsub is None:
            log.error("intake mode subscribe needs a Salesforce connection: polling only")
            return
        try:
            endpoint = self.app.pubsub()
        except Exception:
            log.exception("cannot connect to the Pub/Sub API: polling until the next tick")
            return
        self._endpoints.append(endpoint)
        self.subscription = start_subscription(
            self.app.deps, endpoint.stub, endpoint.auth, sub, sweep=self.sweep
        )
        log.info("subscribed to %s", sub.channel)

    def stop_subscription(self) -> None:
        """Stop the subscriber (what it gathered is routed first) and its channel."""
        if self.subscription is not None:
            self.subscription.stop()
            self.subscription = None
        while self._endpoints:
            self._endpoints.pop().close()

    def _poll(self) -> CycleReport | None:
        """An intake cycle; then, for leads it left pending until the second of their
        last change is over (``Deps.settling``), another cycle at that moment, when it
        comes before the next tick would (the job lock is not held while it waits: the
        SLA sweep may run). Not done by moving the next tick: a job that touches the
        scheduler's job store deadlocks a shutdown that is waiting for that job. And when
        a cycle that read leads outlasted the interval (the scheduler skipped the tick
        that came meanwhile), the next cycle at once, up to :data:`MAX_CATCH_UP` in a row:
        a lead that came just after the poll would otherwise wait for the tick after."""
        deps = self.app.deps
        deadline = deps.monotonic() + self.interval  # about when the next tick comes
        catch_up = MAX_CATCH_UP if self.interval > 0 else 0  # no ticks (--once): none
        report = self._cycle()
        while report is not None:
            if report.read and catch_up and deps.monotonic() >= deadline:
                # leads flow and the cycle overran: its tick was skipped, poll now
                catch_up, deadline = catch_up - 1, deps.monotonic() + self.interval
                report = self._cycle()
                continue
            at = deps.settling.due()
            if at is None or at + report.seconds >= deadline:
                break  # nothing held back, or the next tick's reconcile writes it
            deps.sleep(max(0.0, at - deps.monotonic()))
            report = self._cycle()
        return report

    def _cycle(self, *, check_lease: bool = True) -> CycleReport | None:
        if not (self.ensure_active() if check_lease else self.active):
            self.beat()
            return None
        error: str | None = None
        kind: str | None = None
        report: CycleReport | None = None
        try:
            # the mirrors' calls first, without the jobs' lock: the subscriber's batches
            # go on meanwhile (a sweep's account delta is three calls)
            calls = refresh_mirrors(self.app.deps)
            with self.app.deps.lock:
                report = run_cycle(self.app.deps, mirrors_calls=calls)
            self.health.last_cycle = time.monotonic()
            if report.read:
                self.last_flow = time.monotonic()
        except SfdcError as exc:  # expected (org unreachable, auth, limits): one line
            kind, error = type(exc).__name__, f"{type(exc).__name__}: {exc}"
            self.app.deps.metrics.errors.labels(kind=kind).inc()
            log.error("intake cycle failed: %s", error)
        except Exception as exc:
            kind, error = type(exc).__name__, f"{type(exc).__name__}: {exc}"
            self.app.deps.metrics.errors.labels(kind=kind).inc()
            log.exception("intake cycle failed")
        self.health.last_error, self.health.error_kind = error, kind
        self.beat(report, error)
        self.adapt(report)
        return report

    def sla(self) -> None:
        """Run the SLA sweep (active replica only). Salesforce's expected failures (the org
        unreachable, a session refused twice) are one line, as for intake: the sweep
        runs again at its next tick and nothing it had not journaled was written."""
        if not self.active:
            return
        try:
            # the sweep takes the jobs' lock itself, once its clocks' leads are read
            run_sla_sweep(self.app.deps, subscribed=self.follows_events)
        except SfdcError as exc:
            self.app.deps.metrics.errors.labels(kind=type(exc).__name__).inc()
            log.error("SLA sweep failed: %s: %s", type(exc).__name__, exc)

    @property
    def follows_events(self) -> bool:
        """Subscribed with a subscriber started: touches and owner changes come as change
        events, so the SLA sweep reads only the clocks that come due. (A subscriber that
        stopped is restarted at the next tick and replays from the stored replay id.)"""
        return self.mode == "subscribe" and self.subscription is not None

    def notify(self) -> DeliveryReport | None:
        """Deliver due notifications (active replica only; ``deliver_due`` never raises)."""
        deps = self.app.deps
        if not (self.active and deps.notify.enabled):
            return None
        return deliver_due(deps.engine, settings=deps.notify)

    def purge(self) -> None:
        if self.active:
            run_purge(self.app.deps)

    def beat(self, report: CycleReport | None = None, error: str | None = None) -> None:
        app = self.app
        try:
            with session_scope(app.deps.engine) as s:
                state_repo.beat(
                    s, worker_id=app.deps.worker_id, hostname=app.hostname, pid=app.pid,
                    role=self.role, cycle_at=datetime.now(UTC) if report or error else None,
                    cycle_ms=report.seconds * 1000 if report else None, error=error,
                )  # fmt: skip
        except Exception:  # noqa: BLE001 - a heartbeat must never kill the worker
            log.exception("heartbeat failed")

    # --- cadence ------------------------------------------------------------------
    def next_interval(self, report: CycleReport | None) -> float:
        s = self.app.settings
        fast, idle = (
            s.intake_interval_seconds,
            max(s.idle_interval_seconds, s.intake_interval_seconds),
        )
        if self.mode == "subscribe":
            return fast  # ticks only check the lease and the subscriber; sweeps are timed
        if report is not None and report.pace == Pace.SLOW:
            return idle * 2
        flowing = time.monotonic() - self.last_flow < IDLE_AFTER_SECONDS
        try:
            with session_scope(self.app.deps.engine) as sess:
                hours = self.app.deps.config(sess).intake.business_hours
        except Exception:  # noqa: BLE001 - cadence falls back to fast
            return fast
        return fast if flowing or in_business_hours(hours, datetime.now(UTC)) else idle

    def adapt(self, report: CycleReport | None) -> None:
        wanted = self.next_interval(report)
        if self.scheduler is not None and wanted != self.interval:
            self.scheduler.reschedule_job("intake", trigger=IntervalTrigger(seconds=wanted))
            log.info("intake interval now %.1fs", wanted)
        self.interval = wanted


def build_scheduler(worker: Worker) -> BlockingScheduler:
    s = worker.app.settings
    scheduler = BlockingScheduler(timezone=UTC)
    worker.interval = s.intake_interval_seconds
    # a lead re-read in the second of its last change no longer holds the cycle: it is
    # left pending, and written by a cycle run when that second is over (Worker.intake)
    worker.app.deps.settling.enabled = True
    scheduler.add_job(worker.intake, IntervalTrigger(seconds=worker.interval), id="intake",
                      next_run_time=datetime.now(UTC), **JOB_OPTS)  # fmt: skip
    scheduler.add_job(
        worker.sla, IntervalTrigger(seconds=s.sla_interval_seconds), id="sla", **JOB_OPTS
    )
    scheduler.add_job(
        worker.notify, IntervalTrigger(seconds=s.notify_interval_seconds), id="notify", **JOB_OPTS
    )
    scheduler.add_job(worker.purge, CronTrigger(hour=3, minute=17), id="purge", **JOB_OPTS)
    worker.scheduler = scheduler
    return scheduler
