"""``leadrouter bench e2e``: the real worker against a seeded sandbox org over HTTPS.

Phases (one run, one sandbox process):

1. I/O floor: ``--leads`` new leads, routed by a script making only the minimal calls.
2. Throughput: ``--leads`` more leads, routed by the worker's cycles (in this process),
   after one empty cycle (sign-in, config, queue and user lookups: the floor signs in too).
   Then the floor again over ``--leads`` more: ``io_floor_ratio`` is the worker's time
   per lead over the mean of the two floors' (the sandbox scans every lead per query,
   and this machine's speed drifts: a floor on each side of the worker cancels both).
3. Speed-to-lead: leads arrive at ``--rate``/s for ``--arrival-seconds`` while the real
   scheduler runs with a ``--interval`` intake interval; creation -> owner written.
4. Memory: RSS after phase 3 and 5,000 more leads (caches warm) vs. after ``--rss-leads``
   more.

Before the burst of phase 2 (phase 2a), the API cost of a day: the real scheduler for
``--window-seconds`` with leads arriving at the rate 5,000 a day spread over the business
hours gives, then as long with no lead at all in and out of business hours
(:func:`daily_calls`; every API call the worker makes, by its own count).

The burst (phase 2, ``--burst`` leads, 10,000 by default) is also held against its
serial floor, :func:`serial_floor`: the calls the burst cannot do without (query pages,
owner writes of the mechanism in use) one after another, each at the latency profile's
p50 (0 with ``--latency none``, where nothing waits).

CPU seconds are measured over the worker's burst and the first floor, the bench
process's own (every thread) and the sandbox's (from ``/proc``): the worker and the
sandbox share this machine's CPUs, so ``io_floor_ratio_if_all_cpus_busy`` (their CPU
seconds spread over every CPU, per lead, over the floor) is the lowest ratio any
scheduling of the same work could reach here.

Figures are measured, never assumed; ``--json`` prints one JSON object.
"""

from __future__ import annotations

import json
import logging
import math
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from worker.commands._common import one_line_errors

if TYPE_CHECKING:
    from worker.routing.model import RoutingConfig

RSS_WARM_UP = 5_000  # leads routed before the memory phase's first reading


@click.command("e2e")
@click.option("--leads", default=10_000, show_default=True, help="Leads per throughput phase.")
@click.option(
    "--rate", default=20.0, show_default=True, help="Arrival rate (leads/s) for speed-to-lead."
)
@click.option("--arrival-seconds", default=30.0, show_default=True, help="How long leads arrive.")
@click.option(
    "--interval", default=2.0, show_default=True, help="Intake interval (s) for speed-to-lead."
)
@click.option(
    "--rss-leads", default=0, show_default=True, help="Extra leads routed for the memory figure."
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("config/routing.yaml"), show_default=True, help="Routing config.")  # fmt: skip
@click.option("--seed", default=42, show_default=True, help="Sandbox seed.")
@click.option(
    "--latency", default="none", show_default=True, metavar="none|real|FILE",
    help="The sandbox's latency profile: none, real (a real org's latencies) or a YAML file.",
)  # fmt: skip
@click.option(
    "--intake", default="poll", show_default=True, type=click.Choice(["poll", "subscribe"]),
    help="How the worker learns of new leads: polling SOQL, or Change Data Capture events.",
)  # fmt: skip
@click.option("--burst", type=click.IntRange(min=1), default=None,
              help="Leads in the burst the worker drains (default: --leads).")  # fmt: skip
@click.option(
    "--window-seconds", default=120.0, show_default=True, type=click.FloatRange(min=1),
    help="Length of each window the day's API calls are measured over (three windows).",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@one_line_errors
def e2e(
    leads: int, rate: float, arrival_seconds: float, interval: float, rss_leads: int,
    config_path: Path, seed: int, latency: str, intake: str, burst: int | None,
    window_seconds: float, as_json: bool,
) -> None:  # fmt: skip
    """End-to-end benchmark of the worker against the sandbox org (a few minutes)."""
    from devkit.sandbox.latency import LatencyProfile

    logging.basicConfig(level=logging.WARNING)
    if not config_path.exists():
        raise click.ClickException(f"routing config not found: {config_path}")
    try:
        profile = LatencyProfile.load(latency)  # refused here, before the sandbox starts
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if latency not in ("none", "real"):
        latency = str(Path(latency).resolve())  # the sandbox process runs elsewhere
    run = RunSpec(
        leads=leads, burst=burst or leads, rate=rate, arrival_s=arrival_seconds,
        interval=interval, rss_leads=rss_leads, config_path=config_path, seed=seed,
        latency=latency, window_s=window_seconds, as_json=as_json, intake=intake,
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="leadrouter-bench-") as tmp:
        result = _run(Path(tmp), run)
    floor_s, floor_calls = serial_floor(
        profile, result["burst_leads"], result["worker_applied"],
        conditional=result["write_mechanism"] == "composite_conditional",
    )  # fmt: skip
    drain_s = result["burst_drain_s"]
    result = {"intake": intake, "latency": profile.name} | result | {
        "burst_serial_floor_s": round(floor_s, 2),
        "burst_serial_floor_calls": floor_calls,
        "burst_drain_over_serial_floor": round(drain_s / floor_s, 3) if floor_s else None,
    }  # fmt: skip
    if as_json:
        click.echo(json.dumps(result))
    else:
        for key, value in result.items():
            click.echo(f"{key:34} {value}")


@dataclass(frozen=True)
class RunSpec:
    leads: int  # per I/O floor phase
    burst: int  # the worker's burst (phase 2)
    rate: float
    arrival_s: float
    interval: float
    rss_leads: int
    config_path: Path
    seed: int
    latency: str
    window_s: float
    as_json: bool
    intake: str = "poll"  # poll, or subscribe (LEADROUTER_INTAKE_MODE for the worker)


def serial_floor(profile: Any, leads: int, written: int, *, conditional: bool) -> tuple[float, int]:
    """(seconds, calls) of the burst's serial floor: the calls a burst of ``leads`` new
    leads, ``written`` of them written, cannot do without, made one after another, each
    taking the latency profile's p50 for its kind and size: one query page per 2,000
    leads (the first a ``query``, the rest ``query_more``), then the owner writes of the
    mechanism in use, a Composite call per 25 conditional PATCHes (``composite``) or a
    collections PATCH per 200 (``collections_write``), the last one with what is left.
    Left out, though the worker needs them too: sign-in, the context queries and the
    owner re-reads (so the floor is lower than any real serial run), and each call's
    tail: a lognormal's mean is above its median, so a measured serial run takes longer
    (about 1.3x with ``real``). 0.0 s with ``none``: no call waits."""
    from worker.jobs.send_owners import COMPOSITE_MAX
    from worker.sfdc.gateway import COLLECTION_MAX

    def p50(kind: str, records: int = 1) -> float:
        call = profile.calls.get(kind)
        return call.median(records) if call is not None else 0.0

    pages = math.ceil(leads / 2_000)
    seconds = p50("query") + (pages - 1) * p50("query_more") if pages else 0.0
    per_call, kind = (
        (COMPOSITE_MAX, "composite") if conditional else (COLLECTION_MAX, "collections_write")
    )
    full, rest = divmod(written, per_call)
    seconds += full * p50(kind, per_call) + (p50(kind, rest) if rest else 0.0)
    return seconds, pages + full + (1 if rest else 0)


def _say(as_json: bool, text: str) -> None:
    if not as_json:
        click.echo(text, err=True)


def _run(tmp: Path, run: RunSpec) -> dict[str, Any]:
    from devkit.commands import bench_e2e_parts as parts
    from worker.jobs.accounts import DELTA_CALLS
    from worker.jobs.fields import lead_fields
    from worker.routing_config import load_config
    from worker.settings import load_settings
    from worker.sfdc.gateway import RETRIEVE_MAX
    from worker.store.db import upgrade

    leads, rate, arrival_s, interval = run.leads, run.rate, run.arrival_s, run.interval
    rss_leads, config_path, seed, latency, as_json = (
        run.rss_leads, run.config_path, run.seed, run.latency, run.as_json
    )  # fmt: skip
    (tmp / "org").mkdir()
    _say(as_json, "starting the sandbox org (seeding on first use)...")
    subscribe = run.intake == "subscribe"  # the sandbox serves the Pub/Sub API too
    sandbox = parts.start_sandbox_process(
        tmp / "org", seed=seed, accounts=2_000, latency=latency,
        pubsub_port=0 if subscribe else None,
    )  # fmt: skip
    try:
        info, admin = sandbox.info, sandbox.admin
        # the intake mode as a deployment sets it (LEADROUTER_INTAKE_MODE), over the
        # config's intake.mode; subscribed, the sandbox's Pub/Sub endpoint and org id
        pubsub = (
            {"sf_pubsub_endpoint": info["pubsub_endpoint"], "sf_org_id": info["org_id"]}
            if subscribe else {}
        )  # fmt: skip
        settings = load_settings(
            intake_mode=run.intake, **pubsub,
            database_url=f"sqlite:///{tmp}/bench.db", sf_instance_url=info["instance_url"],
            sf_token_url=info["token_url"], sf_ca_bundle=info["ca_path"],
            sf_consumer_key=info["client_id"], sf_consumer_secret=info["client_secret"],
            sf_auth_flow="client_credentials", routing_config=config_path.resolve(),
            intake_interval_seconds=interval,
        )  # fmt: skip
        upgrade(settings.database_url)
        queue = admin.intake_queue_id()
        users = list(admin.user_ids().values())
        # the write mechanism the config chooses: the floor and the minimum follow it
        bench_config = load_config(config_path)
        conditional = bench_config.writeback.conditional
        _say(as_json, f"phase 1: I/O floor over {leads} leads")
        parts.create_leads(admin, leads)
        with parts.CpuMeter(sandbox.process.pid) as floor_cpu:
            floor = parts.io_floor(settings, queue, users[3:30], lead_fields(bench_config),
                                   conditional=conditional)  # fmt: skip
        _say(as_json, f"phase 2: worker over a burst of {run.burst} leads")
        from worker.bootstrap import build_app, start_background
        from worker.routing.normalise import warm_up

        app = build_app(settings)
        app.deps.decide_now = business_hours_clock()
        # a running worker, not a starting one: lookup tables built (as `leadrouter run`
        # does before its first cycle) and one (empty) cycle that signs in, loads the
        # config and resolves the queue and users, as the floor signs in first
        warm_up()
        start_background(app)  # as `leadrouter run` does
        parts.drain(app, max_cycles=1)
        # a day's calls, measured before the burst: after it, the SLA sweep re-reads its
        # thousands of open leads every 30 s, which no day of 5,000 leads would have
        _say(as_json, f"phase 2a: API calls over three {run.window_s:.0f}s windows")
        day = daily_calls(app, admin, run.window_s, 5_000 / _busy_seconds(bench_config))
        parts.create_leads(admin, run.burst)
        with parts.CpuMeter(sandbox.process.pid) as worker_cpu:
            drained = parts.drain(app, max_cycles=1)  # one cycle reads every new lead
        parts.drain(app)  # retries of held leads are not throughput
        burst_empty = min((parts.drain(app, max_cycles=1) for _ in range(3)), key=lambda d: d.calls)
        empty = _settled_empty_cycle(app)
        held_now = len(parts.held_ids(app))
        window_ms, window_bound = parts.guard_window(app)
        # the floor again, on the org as the worker found it (twice the leads: the
        # sandbox scans them all per query) and at the machine's speed of the moment:
        # the ratio is taken against the mean of the two floors
        _say(as_json, f"phase 2b: I/O floor again over {leads} new leads")
        since = _next_second()  # SystemModstamp has seconds: these leads, not the held ones
        parts.create_leads(admin, leads)
        floor_after = parts.io_floor(
            settings, queue, users[3:30], lead_fields(bench_config), since=since,
            conditional=conditional,
        )  # fmt: skip
        _say(as_json, f"phase 3: {rate}/s for {arrival_s}s with a {interval}s interval")
        p50, p95, arrived = _speed_to_lead(app, admin, rate, arrival_s)
        if rss_leads:  # one chunk first: the caches and the held backlog's snapshots
            parts.create_leads(admin, RSS_WARM_UP)  # fill up, the journal's pages come
            parts.drain(app)  # into use; growth after that is what would grow for ever
        rss0 = parts.rss_mb()  # warm: caches, scheduler and journal all in use
        extra = 0
        while extra < rss_leads:
            chunk = min(5_000, rss_leads - extra)
            parts.create_leads(admin, chunk)
            parts.drain(app)
            extra += chunk
        rss1 = parts.rss_mb()
    finally:
        sandbox.stop()
    routed = max(drained.applied, 1)
    calls_per_1000 = drained.calls / routed * 1000
    # the minimum for the work this run did: every lead read and given context, the routed
    # ones written (leads the config holds - every eligible rep capped - cannot be written)
    min_calls = parts.minimal_calls(run.burst, written=drained.applied, conditional=conditional)
    min_per_1000 = min_calls / routed * 1000
    min_all_routed = parts.minimal_calls(run.burst, conditional=conditional) / run.burst * 1000
    floor_p50 = floor_p95 = None
    if subscribe:  # what a worker taking no time would get from the same profile
        from devkit.commands.owner_floor import subscribed_owner_floor

        # the Contact lookup is on the lead's path only with the contact mirror off
        matching = bench_config.account_matching
        looked_up = matching.enabled and matching.by_known_email
        floor_p50, floor_p95 = subscribed_owner_floor(
            latency, rate=rate, window=bench_config.intake.subscribe.window_seconds,
            lookup=looked_up and not settings.contact_mirror_max_age_seconds, seed=run.seed,
        )  # fmt: skip
    per_lead = drained.calls / routed
    worker_per_lead = drained.seconds / max(drained.decided, 1)
    floors = (floor, floor_after)
    floor_per_lead = statistics.fmean(f.seconds / max(f.leads, 1) for f in floors)
    # the same ratio if the worker's and the sandbox's CPU seconds kept every CPU busy:
    # no scheduling of the worker's threads (or processes) could beat it on this machine
    both, cpus = worker_cpu.spent.sandbox, parts.cpus()
    busy_bound = (
        round((worker_cpu.spent.own + both) / cpus / max(drained.decided, 1)
              / floor_per_lead, 2) if both is not None else None
    )  # fmt: skip
    from sqlmodel import Session

    with Session(app.deps.engine) as sess:
        hours = app.deps.config(sess).intake.business_hours
        mirrored = app.deps.config(sess).account_matching.enabled
    share = len(hours.days) * (hours.end - hours.start) / (7 * 1440) if hours else 0.0
    busy_s = _busy_seconds(bench_config)  # when the day's leads arrive
    fast, idle = settings.intake_interval_seconds, settings.idle_interval_seconds
    polls = 86_400 * (share / fast + (1 - share) / idle)
    # SLA sweeps while leads are open (assumed: all of business hours): lead re-read + Tasks
    sla_calls = 86_400 * share / settings.sla_interval_seconds * 2
    # lifetimes: User.IsActive and the open-lead aggregate each minute, held leads re-read
    d = app.deps
    ttl_calls = 86_400 / d.directory.active_ttl + 86_400 / d.caches.open_leads.ttl
    ttl_calls += 86_400 / d.held_refresh_seconds * math.ceil(held_now / RETRIEVE_MAX)
    if mirrored:  # the account mirror's deltas
        ttl_calls += 86_400 / d.caches.mirror.delta_every * DELTA_CALLS
    return {
        # owner writes: Composite calls of 25 conditional sObject Rows PATCHes (default),
        # or collections PATCHes of 200 (writeback.conditional: false)
        "write_mechanism": "composite_conditional" if conditional else "collections",
        "leads_per_s": round(drained.applied / drained.seconds, 1) if drained.seconds else None,
        "api_calls_per_1000": round(calls_per_1000, 1),
        "api_calls_min_per_1000": round(min_per_1000, 1),
        "api_calls_ratio_to_min": round(drained.calls / min_calls, 2),
        # the same model as if every lead read had been routed (none held by the config)
        "api_calls_min_per_1000_all_routed": round(min_all_routed, 1),
        "api_calls_ratio_to_min_all_routed": round(calls_per_1000 / min_all_routed, 2),
        "io_floor_ratio": round(worker_per_lead / floor_per_lead, 2),
        "io_floor_ratio_first_floor": round(worker_per_lead / (floor.seconds / floor.leads), 2),
        "io_floor_ratio_if_all_cpus_busy": busy_bound,
        "cpus": cpus,
        "worker_cpu_s": round(worker_cpu.spent.own, 2),
        "sandbox_cpu_s_during_worker": _rounded(worker_cpu.spent.sandbox),
        "floor_cpu_s": round(floor_cpu.spent.own, 2),
        "sandbox_cpu_s_during_floor": _rounded(floor_cpu.spent.sandbox),
        "p50_owner_s": p50,
        "guard_window_mean_ms": window_ms,
        "guard_window_max_le_s": window_bound,
        "p95_owner_s": p95,
        # subscribed: the same figures for a worker taking no time (devkit.commands.owner_floor)
        "p50_owner_floor_s": floor_p50,
        "p95_owner_floor_s": floor_p95,
        "rss_growth_mb": round(rss1 - rss0, 1) if extra else None,
        "rss_leads": extra,
        "rss_warm_up_leads": RSS_WARM_UP if extra else 0,
        # measured: calls per second at 5,000 leads a day and idle, over a day's seconds
        # (daily_calls); the model it replaced (a burst's calls per lead, plus polls, SLA
        # sweeps and refreshes by their intervals) beside it
        "api_calls_per_day_at_5000_leads": round(day.per_day(busy_s)),
        "api_calls_per_idle_day": round(day.idle_day(busy_s)),
        "api_calls_per_day_at_5000_leads_modelled": math.ceil(
            5_000 * per_lead + polls * max(empty.calls, 1) + sla_calls + ttl_calls
        ),
        # change events the worker is delivered (the Pub/Sub allocation): none when polling
        "events_per_day_at_5000_leads": round(day.events_per_day(busy_s)),
        "cost_window_events": [day.busy_events, day.idle_busy_events, day.off_events],
        "cost_window_s": run.window_s,
        "cost_window_leads_per_s": round(5_000 / busy_s, 4),
        "cost_window_leads": day.busy_leads,
        "cost_window_calls": [day.busy_calls, day.idle_busy_calls, day.off_calls],
        "leads": leads,
        "burst_leads": run.burst,
        "burst_drain_s": round(drained.seconds, 2),
        "worker_seconds": round(drained.seconds, 2),
        "worker_decided": drained.decided,
        "worker_applied": drained.applied,
        "worker_held": drained.held,
        "worker_api_calls": drained.calls,
        "floor_seconds": round(floor.seconds, 2),
        "floor_seconds_after_worker": round(floor_after.seconds, 2),
        "floor_leads_after_worker": floor_after.leads,
        "floor_api_calls": floor.calls,
        "empty_cycle_api_calls": empty.calls,
        "empty_cycle_api_calls_right_after_burst": burst_empty.calls,
        "polls_per_day": round(polls),
        "sla_calls_per_day": round(sla_calls),
        "refresh_calls_per_day": round(ttl_calls),
        "held_leads_waiting": held_now,
        "business_hours_share": round(share, 3),
        "speed_to_lead_leads": arrived,
    }


def _busy_seconds(config: RoutingConfig) -> float:
    """Seconds of an average day (a week's business hours over 7) in which the day's leads
    arrive; the whole day when the config has no business hours."""
    hours = config.intake.business_hours
    if not hours:
        return 86_400.0
    return 86_400 * len(hours.days) * (hours.end - hours.start) / (7 * 1440)


@dataclass(frozen=True)
class DayCalls:
    """API calls the worker made in three windows of ``window_s`` seconds with the real
    scheduler running: leads arriving at the day's rate in business hours (``busy_*``),
    no lead in business hours (``idle_busy_calls``: the worker polls at its fast interval
    then), no lead out of business hours (``off_calls``: it polls at its idle interval)."""

    window_s: float
    busy_leads: int
    busy_calls: int
    idle_busy_calls: int
    off_calls: int
    # change events delivered to the worker in each window (the sandbox's count of the
    # Pub/Sub delivery allocation; 0 when polling)
    busy_events: int = 0
    idle_busy_events: int = 0
    off_events: int = 0

    def events_per_day(self, busy_s: float) -> float:
        """Events delivered a day, extrapolated as :meth:`per_day` does the calls."""
        return (self.busy_events * busy_s + self.off_events * (86_400 - busy_s)) / self.window_s

    def per_day(self, busy_s: float) -> float:
        """calls/day = busy_calls / window_s * busy_s + off_calls / window_s * (86,400 -
        busy_s): business hours at the measured rate with the day's leads arriving, the
        rest of the day at the idle off-hours rate."""
        return (self.busy_calls * busy_s + self.off_calls * (86_400 - busy_s)) / self.window_s

    def idle_day(self, busy_s: float) -> float:
        """A day without a lead: business hours at the idle in-hours rate, the rest at the
        off-hours one."""
        return (self.idle_busy_calls * busy_s + self.off_calls * (86_400 - busy_s)) / self.window_s


def daily_calls(app: Any, admin: Any, window_s: float, rate: float) -> DayCalls:
    """Measure :class:`DayCalls`: the real scheduler, business hours on or off as each
    window needs (the scheduler's cadence follows the wall clock's business hours, which
    the bench sets; the decisions see a staffed weekday throughout, see
    :func:`business_hours_clock`). Each window starts ``WARM_S`` after the scheduler, so
    its first poll (at once, whatever the cadence) is left out, as a day has one."""
    busy = _window(app, admin, window_s, rate=rate, business_hours=True)
    with _settled(app):  # long after the last lead, as most idle seconds of a day are
        idle_busy = _window(app, admin, window_s, rate=0.0, business_hours=True)
        off = _window(app, admin, window_s, rate=0.0, business_hours=False)
    return DayCalls(
        window_s, busy[1], busy[0], idle_busy[0], off[0],
        busy_events=busy[2], idle_busy_events=idle_busy[2], off_events=off[2],
    )  # fmt: skip


WARM_S = 3.0  # from a window's scheduler start to the start of its count


def _window(
    app: Any, admin: Any, seconds: float, *, rate: float, business_hours: bool
) -> tuple[int, int, int]:
    """(API calls the worker made, leads created, change events delivered) over
    ``seconds`` of the real scheduler, leads arriving at ``rate``/s. The worker's own
    count (every call of its one connection: intake, SLA sweep, refreshes), not the
    org's: that one is per UTC day and starts again at midnight. Events: the sandbox's
    count of deliveries to any subscriber (the worker is the only one)."""
    from unittest import mock

    from devkit.commands import bench_e2e_parts as parts
    from worker import scheduler as cadence
    from worker.scheduler import Worker, build_scheduler

    worker = Worker(app)
    created: dict[str, float] = {}
    _subscribe_from_latest(app)
    with mock.patch.object(cadence, "in_business_hours", lambda *_: business_hours):
        scheduler = build_scheduler(worker)
        parts.run_in_thread(scheduler.start)
        time.sleep(WARM_S)
        calls0, events0 = app.deps.gateway.api_calls(), admin.event_deliveries()
        if rate > 0:
            created = parts.arrivals(admin, rate, seconds)
        else:
            time.sleep(seconds)
        calls = app.deps.gateway.api_calls() - calls0
        events = admin.event_deliveries() - events0
        scheduler.shutdown(wait=True)
        worker.stop_subscription()
    app.deps.settling.enabled = False  # the drains that follow wait in their cycles again
    return calls, len(created), events


def _subscribe_from_latest(app: Any) -> None:
    """Subscribed, the scheduled phases start from the latest event (the stored replay
    id forgotten): the bench's drains route by poll cycles with no subscriber running,
    and the events they left behind are no part of a day's traffic (the worker would
    re-read thousands of decided leads first). Each phase's first sweep catches up."""
    from sqlmodel import select

    from worker.store.db import session_scope
    from worker.store.models.worker_state import ReplayRow

    with session_scope(app.deps.engine) as s:
        for row in s.exec(select(ReplayRow)).all():
            s.delete(row)


def _rounded(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def _next_second() -> datetime:
    """The start of the next wall-clock second, once it has come."""
    now = datetime.now(UTC)
    at = now.replace(microsecond=0) + timedelta(seconds=1)
    time.sleep((at - now).total_seconds())
    return at


def business_hours_clock() -> Callable[[], datetime]:
    """A clock that starts at the coming Tuesday 10:00 in New York and ticks in real time:
    the routing decisions see a staffed weekday whatever day the benchmark runs (reps
    have working hours; on a Sunday most leads would be held and the figures would
    measure the weekend, not the worker)."""
    offset = business_hours_offset(datetime.now(UTC))
    return lambda: datetime.now(UTC) + offset


def business_hours_offset(now: datetime) -> timedelta:
    """From ``now`` to the coming Tuesday 10:00 in New York (a week on, on a Tuesday)."""
    from zoneinfo import ZoneInfo

    start = now.astimezone(ZoneInfo("America/New_York"))
    days = (1 - start.weekday()) % 7 or 7  # Tuesday
    target = (start + timedelta(days=days)).replace(hour=10, minute=0, second=0, microsecond=0)
    return target.astimezone(UTC) - start.astimezone(UTC)  # across a DST change too


@contextmanager
def _settled(app: Any) -> Iterator[None]:
    """Within the block the worker is long after the last lead (the intake's overlap
    window settled, see :func:`worker.jobs.intake.intake_since`), simulated by running the
    cycle's clock ``settle_seconds`` ahead: until then each poll re-reads the last
    seconds' held leads, and counts as traffic (the scheduler keeps its fast interval)."""
    deps = app.deps
    real = deps.now
    deps.now = lambda: real() + timedelta(seconds=deps.settle_seconds)
    try:
        yield
    finally:
        deps.now = real


def _settled_empty_cycle(app: Any) -> Any:
    """An idle poll as most of a day's polls are (:func:`_settled`)."""
    from devkit.commands import bench_e2e_parts as parts

    with _settled(app):
        return min((parts.drain(app, max_cycles=1) for _ in range(3)), key=lambda d: d.calls)


def _speed_to_lead(
    app: Any, admin: Any, rate: float, seconds: float
) -> tuple[float | None, float | None, int]:
    from sqlmodel import Session, col, select

    from devkit.commands import bench_e2e_parts as parts
    from worker.scheduler import Worker, build_scheduler
    from worker.store.models import JournalRow

    worker = Worker(app)
    _subscribe_from_latest(app)
    scheduler = build_scheduler(worker)
    created: dict[str, float] = {}
    feeder = parts.run_in_thread(lambda: created.update(parts.arrivals(admin, rate, seconds)))
    time.sleep(0.5)
    parts.run_in_thread(scheduler.start)
    feeder.join()
    # until every arrival has a settled decision (written, or held: a held lead has no
    # owner to time), or 60 s; waiting for owners alone waited out the 60 s every run
    deadline = time.monotonic() + 60
    rows: list[tuple[str, datetime | None]] = []
    settled: set[str] = set()
    while time.monotonic() < deadline and len(settled) < len(created):
        time.sleep(0.5)
        with Session(app.deps.engine) as s:
            query = select(JournalRow.lead_id, JournalRow.status, JournalRow.applied_at).where(
                col(JournalRow.lead_id).in_(list(created))
            )
            found = list(s.exec(query).all())
        pending = {lead for lead, status, _ in found if status == "pending"}
        settled = {lead for lead, _, _ in found} - pending
        rows = [(lead, at) for lead, status, at in found if status == "applied"]
    latencies = [
        (at.replace(tzinfo=UTC) if at.tzinfo is None else at).timestamp() - created[lead]
        for lead, at in rows
        if at is not None
    ]
    scheduler.shutdown(wait=True)
    worker.stop_subscription()
    app.deps.settling.enabled = False  # the drains that follow wait in their cycles again
    if not latencies:
        return None, None, len(created)
    q = statistics.quantiles(latencies, n=100)
    return round(statistics.median(latencies), 2), round(q[94], 2), len(created)
