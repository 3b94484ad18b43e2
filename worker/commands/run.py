"""``leadrouter run``: the worker (``--once`` for one cycle, for cron and tests)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from types import FrameType
from typing import TYPE_CHECKING

import click

from worker.commands._common import one_line_errors, settings_or_exit
from worker.store.db import upgrade

if TYPE_CHECKING:
    from worker.bootstrap import App

log = logging.getLogger("leadrouter.worker")


@click.command()
@click.option(
    "--once",
    is_flag=True,
    help="Run one cycle (reconcile, intake, SLA sweep, notification delivery) and exit.",
)
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Serve /healthz and /metrics here (default: LEADROUTER_METRICS_PORT; 0 = any free port).",
)
@one_line_errors
def run(once: bool, metrics_port: int | None) -> None:
    """Run the worker: poll Salesforce for new leads, route them, write owners back."""
    from worker.bootstrap import build_app, configure_logging, start_background
    from worker.metrics import serve
    from worker.runtime.lease import LeaseRefused
    from worker.scheduler import Worker, build_scheduler
    from worker.sfdc.errors import SfdcError

    settings = settings_or_exit()
    configure_logging(settings)
    if not settings.routing_config.exists():
        raise click.ClickException(
            f"LEADROUTER_ROUTING_CONFIG: file not found: {settings.routing_config}"
        )
    if settings.sf_auth_flow is None:
        raise click.ClickException(
            "no Salesforce credentials: set LEADROUTER_SF_INSTANCE_URL and a key/secret, JWT key or session id"
        )
    from worker.config_source import load_config_file
    from worker.routing_config import ConfigError

    try:  # fail fast, naming file:line, before any I/O
        load_config_file(settings.routing_config, settings=settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    upgrade(settings.database_url)
    try:
        app = build_app(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    worker = Worker(app)
    port = metrics_port if metrics_port is not None else settings.metrics_port
    if port is not None:
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        server = serve(
            app.deps.metrics, worker.health, port, host=settings.metrics_host, token=token
        )
        log.info("metrics on %s port %d", settings.metrics_host, server.server_port)
        click.echo(
            f"metrics: http://{settings.metrics_host}:{server.server_port}/metrics", err=True
        )
    try:
        _preflight(app, once=once)  # what `leadrouter doctor` calls fatal stops us, same line
        worker.ensure_active()  # SQLite: refuses a second worker here, with a clear message
        if once:
            _once(worker)
            return
        from worker.routing.normalise import warm_up

        warm_up()  # lookup tables now, not on the first lead (speed-to-lead)
        start_background(app)  # out of the garbage collector's way, checkpoints aside
        scheduler = build_scheduler(worker)

        stopping: list[int] = []

        def stop(signum: int, _frame: FrameType | None) -> None:
            """First signal: let the running jobs finish (a write in flight is journalled,
            not cut off), then exit; a second signal exits at once (what a kill -9 would
            leave, pending decisions, is reconciled on the next start)."""
            if stopping:
                log.warning("signal %d again: exiting now", signum)
                os._exit(1)
            stopping.append(signum)
            log.warning("signal %d: stopping when the running jobs finish", signum)
            scheduler.shutdown(wait=True)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info("worker %s starting", app.deps.worker_id)
        scheduler.start()
    except LeaseRefused as exc:
        raise click.ClickException(str(exc)) from None
    except SfdcError as exc:
        raise click.ClickException(f"Salesforce: {exc}") from None
    finally:
        worker.stop_subscription()  # what it gathered is routed, its replay id stored
        app.lease.release()


def _preflight(app: App, *, once: bool) -> None:
    """Refuse to start on any check of :data:`worker.doctor.PREFLIGHT` that fails (a
    misspelt intake queue, a field hidden from the integration user, ...). ``run --once``
    (cron, every minute) skips it for an hour after it passed with the same settings and
    config: it costs about eight API calls, and what changes in the org meanwhile makes
    the cycle itself fail."""
    from datetime import UTC, datetime

    from worker.commands.doctor import inputs_for
    from worker.doctor import preflight_failure
    from worker.doctor.checks import PREFLIGHT_TTL_S, preflight_key
    from worker.store.db import session_scope
    from worker.store.state_repo import get_value, set_value

    with session_scope(app.deps.engine) as session:
        config = app.deps.config(session)
        last = get_value(session, PREFLIGHT_KEY)
    inputs = inputs_for(app.settings, app.deps.gateway, config)
    key = preflight_key(inputs, app.settings.sf_instance_url)
    now = datetime.now(UTC)
    if once and isinstance(last, dict) and last.get("key") == key:
        passed = datetime.fromisoformat(str(last.get("at")))
        if 0 <= (now - passed).total_seconds() < PREFLIGHT_TTL_S:
            return
    failure = preflight_failure(inputs)
    for pause in PREFLIGHT_RETRY_S:  # Salesforce did not answer: ask again, a few times
        if failure is None or not failure.transient:
            break
        log.warning("preflight: %s: no answer from Salesforce; again in %g s", failure.name, pause)
        time.sleep(pause)
        failure = preflight_failure(inputs_for(app.settings, app.deps.gateway, config))
    if failure is not None and failure.transient and failure.name != "token":
        # signed in, so the setup answers: an outage, not a misconfiguration; the cycles
        # retry with their back-off (not recorded as passed: the next start checks again)
        log.warning("preflight not finished (%s); starting anyway", failure.line())
        return
    if failure is not None:
        raise click.ClickException(failure.line())
    with session_scope(app.deps.engine) as session:
        set_value(session, PREFLIGHT_KEY, {"key": key, "at": now.isoformat()})


PREFLIGHT_KEY = "preflight_passed"
# pauses between preflights that failed because Salesforce did not answer (a 5xx, a
# reset, a timeout); a sign-in that never answers then stops the worker, one that
# answered does not (see _preflight)
PREFLIGHT_RETRY_S = (1.0, 2.0, 4.0)


def _once(worker: object) -> None:
    from worker.scheduler import Worker

    assert isinstance(worker, Worker)
    report = worker.intake()
    if worker.health.last_error:
        raise click.ClickException(f"cycle failed: {worker.health.last_error}")
    if report is None:
        click.echo("another worker holds the lease; nothing done (standby)", err=True)
        return
    worker.sla()
    worker.notify()  # deliver what this cycle queued (never raises)
    click.echo(
        f"cycle {report.cycle_id}: read {report.read}, applied {report.applied}, held {report.held}, "
        f"skipped {report.skipped}, failed {report.failed}, pending {report.left_pending}, "
        f"{report.api_calls} API calls, {report.seconds:.2f}s"
    )
    sys.stdout.flush()
