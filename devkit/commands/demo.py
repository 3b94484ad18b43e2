"""``leadrouter demo``: the whole product on one machine, nothing to configure.

Starts the sandbox org (seeded, reproducible), migrates a demo store, starts the worker
against the sandbox over HTTPS, feeds the sandbox a steady stream of new leads and rep
activity, starts the dashboard, prints where to look, and stops every process on Ctrl-C.

Everything it writes is owner-only (see :mod:`worker.files`): the state folder, the
stores, the logs and the sign-ins. The passwords are printed in the start-up banner and
kept only in ``demo-credentials.json`` (0600); ``demo.json`` names the users, not their
passwords.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from importlib.util import find_spec
from pathlib import Path

import click
import yaml

from devkit.supervisor import Interrupted, Supervisor, leadrouter_argv, raise_on_signals
from worker.files import private_dir, tighten, write_private

REPO_CONFIG = Path("config/routing.yaml")
DEMO_REP = "sarah.johnson@acme-sales.example"  # the demo's rep user, a rep of the config
CREDENTIALS_FILE = "demo-credentials.json"
# A real day at any hour of any day: 3 new leads a minute (180 an hour) against the demo
# config's round-the-clock SDR pool (6 reps x 40 an hour) and, in working hours, the
# regional pools: most leads are routed even on a weekend night; the held ones are a
# minority with their reason (free mail and no country, or a burst past every cap).
DEMO_LEADS_PER_MINUTE = 3.0
# The simulated reps work 30 % of their untouched leads every 20 s (a first touch in about
# a minute), except 10 % of (lead, owner) pairs they never touch, and one SDR of the
# round-the-clock pool (round robin: one SDR lead in six) is "in a long meeting" and
# touches none: those leads miss the SDR pool's 5-minute SLA, so a re-assignment shows
# within the first minutes of the demo at any hour.
IDLE_REP = "daniel.thomas@acme-sales.example"
ACTIVITY = {"--fraction": "0.3", "--interval": "20", "--neglect": "0.1", "--idle": IDLE_REP}


def _has_notifications(config_path: Path) -> bool:
    """Whether the config has its own ``notifications:`` section (read as YAML: a comment
    that mentions the word is not one)."""
    raw = yaml.safe_load(config_path.read_text())
    return isinstance(raw, dict) and "notifications" in raw


def _available(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _wait_for_file(path: Path, supervisor: Supervisor, timeout: float = 120.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            try:
                data = json.loads(path.read_text())
            except json.JSONDecodeError:
                data = None  # half-written; try again
            if isinstance(data, dict):
                return data
        exited = supervisor.first_exited()
        if exited is not None:
            raise click.ClickException(
                f"{exited.name} stopped during start-up (exit {exited.process.returncode}); "
                f"see {exited.log_path}"
            )
        time.sleep(0.2)
    raise click.ClickException(f"timed out waiting for {path}")


def _worker_env(state_dir: Path, sandbox: dict[str, object], config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADROUTER_")}
    env.update(
        {
            "LEADROUTER_DATABASE_URL": f"sqlite:///{state_dir / 'leadrouter.db'}",
            "LEADROUTER_SF_INSTANCE_URL": str(sandbox["instance_url"]),
            "LEADROUTER_SF_TOKEN_URL": str(sandbox["token_url"]),
            "LEADROUTER_SF_CA_BUNDLE": str(sandbox["ca_path"]),
            "LEADROUTER_SF_CONSUMER_KEY": str(sandbox["client_id"]),
            "LEADROUTER_SF_CONSUMER_SECRET": str(sandbox["client_secret"]),
            "LEADROUTER_SF_AUTH_FLOW": "client_credentials",
            "LEADROUTER_ROUTING_CONFIG": str(config.resolve()),
            "LEADROUTER_LOG_FORMAT": "text",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could listen on ``host:port`` now (as Streamlit does, with
    SO_REUSEADDR: a closed connection's TIME_WAIT does not count as in use)."""
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


DEMO_NOTIFICATIONS = """
# --- added by `leadrouter demo`: notifications go to the local sink ---------------------
# (documented in config/notifications.example.yaml)
notifications:
  enabled: true
  allow_local_http: true   # the sink listens on 127.0.0.1 without TLS
  reminder_at: 0.7
  channels:
    email: {{type: email}}
    sales-slack: {{type: slack, url: "http://127.0.0.1:{http}/slack"}}
    crm-webhook:
      type: webhook
      url: "http://127.0.0.1:{http}/hook"
      secret_env: LEADROUTER_WEBHOOK_SECRET
  events:
    lead_assigned: {{notify: [owner], channels: [email, sales-slack]}}
    sla_reminder: {{notify: [owner], channels: [email, sales-slack]}}
    sla_reassigned: {{notify: [previous_owner, owner, manager], channels: [email, sales-slack]}}
    sla_missed: {{notify: [owner], channels: [email, sales-slack]}}
    sla_escalated: {{notify: [manager], channels: [email, sales-slack]}}
    lead_held: {{notify: [revops], channels: [email, crm-webhook]}}
    api_allocation: {{notify: [revops], channels: [email, crm-webhook]}}
  revops: [maria.gonzalez@acme-sales.example]
"""


def _start_notify_sink(
    supervisor: Supervisor, state_dir: Path, config: Path, env: dict[str, str]
) -> str:
    """Start the SMTP + webhook sink and point a copy of the config at it; return its URL."""
    smtp_port, http_port = _free_port(), _free_port()
    env.update(
        {
            "LEADROUTER_SMTP_HOST": "127.0.0.1",
            "LEADROUTER_SMTP_PORT": str(smtp_port),
            "LEADROUTER_SMTP_STARTTLS": "false",
            "LEADROUTER_SMTP_FROM": "leadrouter-demo@acme-sales.example",
            "LEADROUTER_WEBHOOK_SECRET": secrets.token_hex(16),
        }
    )
    supervisor.start(
        "notify-sink",
        leadrouter_argv(
            "notify",
            "sink",
            "--state-dir",
            str(state_dir / "notify"),
            "--smtp-port",
            str(smtp_port),
            "--http-port",
            str(http_port),
            "--secret-env",
            "LEADROUTER_WEBHOOK_SECRET",
        ),
        env=env,
    )
    demo_config = state_dir / "routing.yaml"
    write_private(demo_config, config.read_text() + DEMO_NOTIFICATIONS.format(http=http_port))
    env["LEADROUTER_ROUTING_CONFIG"] = str(demo_config.resolve())
    return f"http://127.0.0.1:{http_port}/"


def _demo_users(state_dir: Path) -> dict[str, tuple[str, str]]:
    """username -> (role, password); generated once per state dir, then reused."""
    path = state_dir / CREDENTIALS_FILE
    if path.exists():
        tighten(path)  # written by an older version
        stored = json.loads(path.read_text())
        return {u: (r, p) for u, (r, p) in stored.items()}
    users = {
        "admin": ("admin", secrets.token_urlsafe(9)),
        "viewer": ("viewer", secrets.token_urlsafe(9)),
        "sarah": ("rep", secrets.token_urlsafe(9)),  # a rep: her own leads, her availability
    }
    write_private(path, json.dumps(users))
    return users


@click.command()
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/demo"),
    show_default=True,
    help="Where the sandbox org, the store and the logs live.",
)
@click.option(
    "--port",
    "--dashboard-port",
    "dashboard_port",
    default=8501,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Dashboard port (`make demo PORT=8600`).",
)
@click.option("--sandbox-port", default=0, help="Sandbox org port (default: any free port).")
@click.option(
    "--leads-per-minute",
    default=DEMO_LEADS_PER_MINUTE,
    show_default=True,
    help="New leads the demo creates (the demo config's round-the-clock SDRs take 240 an hour).",
)
@click.option("--seed", default=42, show_default=True, help="Seed of the demo org's data.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=REPO_CONFIG,
    show_default=True,
    help="Routing config the worker uses.",
)
@click.option("--fresh", is_flag=True, help="Delete the state dir first (new org, empty log).")
def demo(
    state_dir: Path,
    dashboard_port: int,
    sandbox_port: int,
    leads_per_minute: float,
    seed: int,
    config_path: Path,
    fresh: bool,
) -> None:
    """Run the demo: sandbox org + worker + dashboard; Ctrl-C stops everything."""
    if not config_path.exists():
        raise click.ClickException(f"routing config not found: {config_path}")
    if not port_is_free(dashboard_port):  # before starting anything, and before the banner
        raise click.ClickException(
            f"port {dashboard_port} is in use (another dashboard or demo?): "
            f"pass another one, e.g. `leadrouter demo --port {dashboard_port + 1}` "
            f"or `make demo PORT={dashboard_port + 1}`"
        )
    if fresh and state_dir.exists():
        import shutil

        shutil.rmtree(state_dir)
    private_dir(state_dir)
    supervisor = Supervisor(log_dir=state_dir / "logs")
    raise_on_signals()
    try:
        _run(
            supervisor, state_dir, dashboard_port, sandbox_port, leads_per_minute, seed, config_path
        )
    except Interrupted:
        click.echo("\nstopping...")
    finally:
        supervisor.stop_all()
        click.echo("demo stopped; every process has exited.")


def _run(
    supervisor: Supervisor,
    state_dir: Path,
    dashboard_port: int,
    sandbox_port: int,
    leads_per_minute: float,
    seed: int,
    config_path: Path,
) -> None:
    sandbox_dir = state_dir / "sandbox"
    info_path = sandbox_dir / "sandbox.json"
    info_path.unlink(missing_ok=True)
    click.echo("starting the sandbox org...")
    supervisor.start(
        "sandbox",
        leadrouter_argv(
            "sandbox",
            "serve",
            "--state-dir",
            str(sandbox_dir),
            "--port",
            str(sandbox_port),
            "--seed",
            str(seed),
        ),
    )
    sandbox = _wait_for_file(info_path, supervisor)
    env = _worker_env(state_dir, sandbox, config_path)

    from worker.store.db import upgrade

    upgrade(env["LEADROUTER_DATABASE_URL"])

    started = ["sandbox org"]
    notify_url = None
    if _available("worker.commands.notify") and not _has_notifications(config_path):
        notify_url = _start_notify_sink(supervisor, state_dir, config_path, env)
        started.append("notification sink")
    if _available("worker.commands.run"):
        supervisor.start("worker", leadrouter_argv("run"), env=env)
        started.append("worker")
    if leads_per_minute > 0:
        supervisor.start(
            "leads",
            leadrouter_argv(
                "sandbox",
                "leads",
                "--state-dir",
                str(sandbox_dir),
                "--rate",
                str(leads_per_minute / 60.0),
            ),
            env=env,
        )
        supervisor.start(
            "activity",
            leadrouter_argv(
                "sandbox",
                "activity",
                "--state-dir",
                str(sandbox_dir),
                *(part for option in ACTIVITY.items() for part in option),
            ),
            env=env,
        )
        started += ["lead generator", "rep activity"]

    users = _demo_users(state_dir)
    dashboard_url = None
    if _available("worker.commands.dashboard"):
        from worker.commands.dashboard import start_dashboard, write_users_file

        users_file = state_dir / "dashboard-users.yaml"
        write_users_file(users_file, users, {"sarah": DEMO_REP})
        env["LEADROUTER_DASHBOARD_USERS_FILE"] = str(users_file)
        env["LEADROUTER_SF_INSTANCE_URL"] = str(sandbox["instance_url"])
        log_path = supervisor.log_dir / "dashboard.log"
        process = start_dashboard(port=dashboard_port, env=env, log_path=log_path)
        supervisor.adopt("dashboard", process, log_path)
        dashboard_url = f"http://127.0.0.1:{dashboard_port}"
        started.append("dashboard")

    summary = {
        "dashboard_url": dashboard_url,
        "sandbox_url": sandbox["instance_url"],
        "database_url": env["LEADROUTER_DATABASE_URL"],
        "users": {name: role for name, (role, _pw) in users.items()},
        "credentials": str(state_dir / CREDENTIALS_FILE),
        "notifications_url": notify_url,
        "routing_config": env["LEADROUTER_ROUTING_CONFIG"],
        "logs": str(supervisor.log_dir),
        "pid": os.getpid(),
    }
    write_private(state_dir / "demo.json", json.dumps(summary, indent=2))
    _banner(summary, users, started)
    while True:
        exited = supervisor.first_exited()
        if exited is not None:
            raise click.ClickException(
                f"{exited.name} stopped (exit {exited.process.returncode}); see {exited.log_path}"
            )
        time.sleep(0.5)


def _banner(
    summary: dict[str, object], users: dict[str, tuple[str, str]], started: list[str]
) -> None:
    lines = [
        "",
        "leadrouter demo is running: " + ", ".join(started),
        f"  Dashboard:   {summary['dashboard_url'] or '(not available)'}",
    ]
    for name, (role, password) in users.items():
        lines.append(f"  Sign in:     {name} / {password}   ({role})")
    lines += [
        f"  Sent alerts: {summary['notifications_url'] or '(notifications off)'}",
        f"  Sandbox org: {summary['sandbox_url']}",
        f"  Store:       {summary['database_url']}",
        f"  Logs:        {summary['logs']}",
        "  Press Ctrl-C to stop.",
        "",
    ]
    click.echo("\n".join(lines))
    sys.stdout.flush()
