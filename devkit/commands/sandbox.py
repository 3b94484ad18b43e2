"""``leadrouter sandbox``: the local Salesforce org for the demo, the tests and the benchmarks."""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from worker.commands._common import one_line_errors
from worker.files import private_dir, write_private

P = ParamSpec("P")
R = TypeVar("R")
DEFAULT_DIR = Path("var/sandbox")
latency_option = click.option(
    "--latency", default="none", show_default=True, metavar="none|real|FILE",
    help="How long calls take: none, real (a real org's latencies) or a calibration YAML.",
)  # fmt: skip
state_dir_option = click.option(
    "--state-dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_DIR,
    show_default=True, help="Folder holding the org's SQLite file, keys and sandbox.json.",
)  # fmt: skip


@click.group()
def sandbox() -> None:
    """Run and drive the sandbox org (a local HTTPS Salesforce)."""


@sandbox.command("seed")
@state_dir_option
@click.option(
    "--seed",
    type=int,
    default=42,
    show_default=True,
    help="Random seed; the same seed gives the same data.",
)
@click.option(
    "--accounts",
    type=click.IntRange(0),
    default=2000,
    show_default=True,
    help="Accounts to create (with contacts and opportunities).",
)
@click.option(
    "--leads",
    type=click.IntRange(0),
    default=500,
    show_default=True,
    help="Leads to create in the intake queue.",
)
@click.option("--force", is_flag=True, help="Replace an existing org in the folder.")
@one_line_errors
def seed_cmd(state_dir: Path, seed: int, accounts: int, leads: int, force: bool) -> None:
    """Build a realistic org: 40 users, 3 teams, intake queue, accounts, contacts, leads."""
    from devkit.sandbox.harness import STATE_FILE
    from devkit.sandbox.org import Org
    from devkit.sandbox.seed import seed_data

    target = state_dir / STATE_FILE
    if target.exists():
        if not force:
            raise click.ClickException(f"{target} already exists; use --force to replace it")
        for suffix in ("", "-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
    private_dir(state_dir)
    started = time.perf_counter()
    org = Org.open(target)
    summary = seed_data(org, seed=seed, accounts=accounts, leads=leads, progress=True)
    org.store.close()
    click.echo(
        f"seeded {target} (seed {seed}) in {time.perf_counter() - started:.1f}s: {summary.users} users, "
        f"{summary.accounts} accounts, {summary.contacts} contacts, {summary.opportunities} opportunities, "
        f"{summary.leads} leads"
    )


@sandbox.command("serve")
@state_dir_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8443,
    show_default=True,
    help="Port (0 = any free port).",
)
@click.option(
    "--seed",
    type=int,
    default=42,
    show_default=True,
    help="Seed used if the folder holds no org yet.",
)
@click.option(
    "--accounts",
    type=click.IntRange(0),
    default=2000,
    show_default=True,
    help="Accounts seeded if the folder holds no org yet.",
)
@click.option(
    "--leads", type=click.IntRange(0), default=0, show_default=True, help="Leads to add at start."
)
@click.option(
    "--fault-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of API calls that fail (every fault kind).",
)
@click.option(
    "--session-ttl",
    type=click.FloatRange(1),
    default=None,
    help="Seconds of inactivity after which a session expires.",
)
@latency_option
@click.option(
    "--pubsub-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Also serve the Pub/Sub API (gRPC, TLS) with lead change events on this port "
    "(0 = any free port; Salesforce uses 7443).",
)
@one_line_errors
def serve_cmd(
    state_dir: Path,
    host: str,
    port: int,
    seed: int,
    accounts: int,
    leads: int,
    fault_rate: float,
    session_ttl: float | None,
    latency: str,
    pubsub_port: int | None,
) -> None:
    """Serve the org over HTTPS until interrupted; writes <state-dir>/sandbox.json."""
    from devkit.sandbox.faults import FaultConfig
    from devkit.sandbox.harness import INFO_FILE, start_sandbox

    faults = FaultConfig.uniform(fault_rate) if fault_rate else None
    try:
        handle = start_sandbox(
            state_dir,
            host=host,
            port=port,
            seed=seed,
            accounts=accounts,
            leads=leads,
            faults=faults,
            session_ttl_s=session_ttl,
            latency=latency,
            pubsub_port=pubsub_port,
        )
    except ValueError as exc:  # a latency profile that cannot be read
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(
            str(exc) if exc.strerror is None else f"cannot listen on {host}:{port}: {exc.strerror}"
        ) from None
    # The access token, the client secret and the admin token go to an owner-only file,
    # never to the terminal: our output is often a log file (the demo's logs/sandbox.log).
    info = handle.info() | {"access_token": handle.access_token()}
    info_path = state_dir / INFO_FILE
    write_private(info_path, json.dumps(info, indent=2))
    token = f'$(python3 -c \'import json; print(json.load(open("{info_path}"))["access_token"])\')'
    click.echo(f"sandbox org listening on {handle.instance_url}")
    click.echo(f"  CA bundle:     {handle.ca_path}")
    click.echo(f"  token URL:     {handle.token_url} (client_credentials or JWT bearer)")
    click.echo(f"  credentials:   {info_path} (owner-only: access token, client secret)")
    if handle.pubsub_endpoint:
        click.echo(
            f"  Pub/Sub API:   {handle.pubsub_endpoint} (gRPC over TLS, same CA; /data/LeadChangeEvent)"
        )
    click.echo(
        f'  curl --cacert {handle.ca_path} -H "Authorization: Bearer {token}" {handle.instance_url}/services/data/v59.0/limits'
    )
    click.echo(f"  latency:       {handle.latency.name}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
        click.echo("sandbox org stopped")


def remote_errors(func: Callable[P, R]) -> Callable[P, R]:
    """A refused admin call or an unreachable sandbox becomes one line, not a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        import requests

        from devkit.sandbox.remote import RemoteAdminError

        try:
            return func(*args, **kwargs)
        except RemoteAdminError as exc:
            raise click.ClickException(str(exc)) from None
        except requests.RequestException as exc:
            raise click.ClickException(
                f"sandbox not reachable ({type(exc).__name__}); is `leadrouter sandbox serve` running?"
            ) from None

    return wrapper


def _remote(state_dir: Path) -> Any:
    from devkit.sandbox.remote import RemoteAdmin

    if not (state_dir / "sandbox.json").exists():
        raise click.ClickException(
            f"no running sandbox found: {state_dir / 'sandbox.json'} is missing (start `leadrouter sandbox serve`)"
        )
    return RemoteAdmin.from_state_dir(state_dir)


@sandbox.command("leads")
@state_dir_option
@click.option(
    "--rate", type=click.FloatRange(0.01), default=1.0, show_default=True, help="Leads per second."
)
@click.option(
    "--count",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Stop after this many (0 = run until interrupted).",
)
@one_line_errors
@remote_errors
def leads_cmd(state_dir: Path, rate: float, count: int) -> None:
    """Create new leads in the intake queue of a running sandbox at a steady rate."""
    remote = _remote(state_dir)
    made, started = 0, time.monotonic()
    try:
        while not count or made < count:
            due = int((time.monotonic() - started) * rate) + 1 - made
            batch = max(0, min(due, (count - made) if count else due, 200))
            if batch:
                remote.create_leads(count=batch)
                made += batch
                click.echo(f"\r{made} leads created", nl=False)
            time.sleep(min(1.0, 1 / rate))
    except KeyboardInterrupt:
        pass
    click.echo(f"\r{made} leads created")


@sandbox.command("activity")
@state_dir_option
@click.option(
    "--fraction",
    type=click.FloatRange(0, 1),
    default=0.1,
    show_default=True,
    help="Share of open owned leads worked per round.",
)
@click.option(
    "--interval",
    type=click.FloatRange(0.1),
    default=30.0,
    show_default=True,
    help="Seconds between rounds.",
)
@click.option(
    "--rounds",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Stop after this many rounds (0 = until interrupted).",
)
@click.option(
    "--neglect",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of (lead, owner) pairs the owner never works (they miss the SLA).",
)
@click.option(
    "--idle",
    multiple=True,
    metavar="EMAIL",
    help="A rep who works none of their leads (repeatable): they all miss the SLA.",
)
@one_line_errors
@remote_errors
def activity_cmd(
    state_dir: Path,
    fraction: float,
    interval: float,
    rounds: int,
    neglect: float,
    idle: tuple[str, ...],
) -> None:
    """Simulate reps working their leads (log calls, change status) so SLAs are met or missed."""
    remote = _remote(state_dir)
    done = 0
    try:
        while not rounds or done < rounds:
            result = remote.simulate_activity(fraction=fraction, neglect=neglect, idle=list(idle))
            done += 1
            click.echo(
                f"round {done}: {result['calls']} calls logged, {result['status_changes']} status changes"
            )
            if rounds and done >= rounds:
                break
            time.sleep(interval)
    except KeyboardInterrupt:
        pass


@sandbox.command("faults")
@state_dir_option
@click.option(
    "--rate",
    type=click.FloatRange(0, 1),
    default=None,
    help="Spread this share of failures over every fault kind.",
)
@click.option(
    "--set",
    "pairs",
    multiple=True,
    metavar="KIND=VALUE",
    help="One setting, e.g. server_unavailable=0.05 (repeatable).",
)
@one_line_errors
@remote_errors
def faults_cmd(state_dir: Path, rate: float | None, pairs: tuple[str, ...]) -> None:
    """Show or change fault injection on a running sandbox."""
    from devkit.sandbox.faults import FaultConfig

    remote = _remote(state_dir)
    settings: dict[str, Any] = (
        FaultConfig.uniform(rate).to_dict()
        if rate is not None
        else (remote.faults() if pairs else {})
    )
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.ClickException(f"--set expects KIND=VALUE, got '{pair}'")
        try:
            settings[key] = float(value)
        except ValueError:
            raise click.ClickException(f"--set {key}: '{value}' is not a number") from None
    if settings:
        remote.set_faults(config=settings)
    click.echo(json.dumps({"faults": remote.faults(), "injected": remote.fault_counts()}, indent=2))


def _object_fields(pairs: tuple[str, ...], option: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for pair in pairs:
        obj, dot, name = pair.partition(".")
        if not dot or not obj or not name:
            raise click.ClickException(f"{option} expects Object.Field, got '{pair}'")
        out.setdefault(obj, []).append(name)
    return out


@sandbox.command("setup")
@state_dir_option
@click.option(
    "--hide-field",
    multiple=True,
    metavar="OBJECT.FIELD",
    help="Hide a field from the integration user (field-level security).",
)
@click.option(
    "--readonly-field",
    multiple=True,
    metavar="OBJECT.FIELD",
    help="Let the integration user read but not edit a field.",
)
@click.option(
    "--hide-object",
    multiple=True,
    metavar="OBJECT",
    help="Take away the integration user's Read on an object.",
)
@click.option(
    "--readonly-object",
    multiple=True,
    metavar="OBJECT",
    help="Take away the integration user's Edit on an object.",
)
@click.option(
    "--clock-skew",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Salesforce's clock (its Date headers) runs this far ahead (negative: behind).",
)
@click.option(
    "--queue-holds-leads/--queue-without-leads",
    default=None,
    help="Whether the intake queue lists Lead among its supported objects.",
)
@click.option(
    "--assignment-rule/--no-assignment-rule",
    default=None,
    help="An active lead assignment rule (to the intake queue).",
)
@click.option("--cdc/--no-cdc", default=None, help="Change Data Capture selected for Lead.")
@click.option(
    "--api-used", type=click.IntRange(min=0), default=None, help="API requests already used today."
)
@click.option(
    "--api-limit",
    type=click.IntRange(min=1),
    default=None,
    help="The daily API request allocation.",
)
@click.option("--reset", is_flag=True, help="First undo every setting above: a ready org.")
@one_line_errors
@remote_errors
def setup_cmd(state_dir: Path, hide_field: tuple[str, ...], readonly_field: tuple[str, ...],
              hide_object: tuple[str, ...], readonly_object: tuple[str, ...],
              clock_skew: float | None, queue_holds_leads: bool | None,
              assignment_rule: bool | None, cdc: bool | None, api_used: int | None,
              api_limit: int | None, reset: bool) -> None:  # fmt: skip
    """Set a running sandbox's org up wrong (or right) in each way `leadrouter doctor` checks."""
    remote = _remote(state_dir)
    if reset:
        remote.set_access()
        remote.set_clock_skew(seconds=0)
        remote.set_queue_holds_leads(on=True)
        remote.set_assignment_rule(on=False)
        remote.set_cdc(entities=["Lead"])
    access: dict[str, Any] = {} if reset else dict(remote.access())
    for key, value in (
        ("hidden_fields", _object_fields(hide_field, "--hide-field")),
        ("readonly_fields", _object_fields(readonly_field, "--readonly-field")),
        ("hidden_objects", list(hide_object)),
        ("readonly_objects", list(readonly_object)),
    ):
        if value:
            access[key] = value
    if hide_field or readonly_field or hide_object or readonly_object:
        remote.set_access(**access)
    if clock_skew is not None:
        remote.set_clock_skew(seconds=clock_skew)
    if queue_holds_leads is not None:
        remote.set_queue_holds_leads(on=queue_holds_leads)
    if assignment_rule is not None:
        remote.set_assignment_rule(on=assignment_rule)
    if cdc is not None:
        remote.set_cdc(entities=["Lead"] if cdc else [])
    if api_limit is not None:
        remote.set_api_limit(limit=api_limit)
    if api_used is not None:
        remote.reset_api_usage(used=api_used)
    click.echo(json.dumps({"access": remote.access(), "api_calls": remote.api_calls()}, indent=2))


@sandbox.command("reset")
@state_dir_option
@click.confirmation_option(
    prompt="Delete the sandbox org in this folder?", help="Do not ask for confirmation."
)
def reset_cmd(state_dir: Path) -> None:
    """Delete the org folder (state, keys, credentials)."""
    if state_dir.exists():
        shutil.rmtree(state_dir)
    click.echo(f"removed {state_dir}")
