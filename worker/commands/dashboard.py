"""``leadrouter dashboard``: serve the Streamlit dashboard, hash passwords, fake data.

``start_dashboard`` and ``write_users_file`` are also the contract with ``leadrouter demo``.
"""

from __future__ import annotations

import getpass
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import click

from worker.commands._common import one_line_errors, settings_or_exit
from worker.files import private_file, write_private
from worker.settings import networks_text
from worker.store.team_repo import ROLES

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    return str(PasswordHasher().hash(password))


def write_users_file(
    path: Path, users: Mapping[str, tuple[str, str]], reps: Mapping[str, str] | None = None
) -> None:
    """Write a users file (YAML) for ``users``: username -> (role, plain password); a rep
    user's rep key (their e-mail in the routing config or Salesforce user Id) in ``reps``.

    Only argon2 hashes are written; the file is created readable by its owner only.
    """
    import yaml

    for name, (role, _pw) in users.items():
        if role not in ROLES:
            raise ValueError(f"user {name!r}: role must be {' or '.join(ROLES)}, not {role!r}")
    reps = reps or {}
    entries = [
        {"username": name, "role": role, "password_hash": hash_password(pw)}
        | ({"rep": reps[name]} if role == "rep" else {})
        for name, (role, pw) in users.items()
    ]
    write_private(path, yaml.safe_dump(entries, sort_keys=False))


def streamlit_argv(port: int, address: str = "127.0.0.1") -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless=true",
        f"--server.port={port}",
        f"--server.address={address}",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--server.runOnSave=false",
        "--client.showErrorDetails=type",  # no tracebacks (paths, SQL) in the browser
        "--client.toolbarMode=minimal",
        "--theme.base=light",
    ]


def process_env(env: Mapping[str, str]) -> dict[str, str]:
    """The Streamlit process's environment: ours, ``env``, and the proxies to believe."""
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    # uvicorn believes X-Forwarded-For from these peers only (its default: localhost, so
    # any local process could name itself a new client on every sign-in attempt); the
    # dashboard trusts client addresses for throttling only when this matches its settings
    proxies = full_env.get("LEADROUTER_TRUSTED_PROXIES", "")
    full_env["FORWARDED_ALLOW_IPS"] = networks_text(proxies)
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(APP.parents[1]), full_env.get("PYTHONPATH", "")) if p
    )
    return full_env


def start_dashboard(
    *, port: int, env: Mapping[str, str], log_path: Path | None = None, address: str = "127.0.0.1"
) -> subprocess.Popen[bytes]:
    """Start Streamlit headless on ``port`` as a child process with ``env`` added to ours.

    Output goes to ``log_path`` (or is discarded). The process gets its own process
    group so :func:`stop_dashboard` can end it and its children cleanly.
    """
    full_env = process_env(env)
    out = private_file(log_path).open("ab") if log_path else subprocess.DEVNULL
    try:
        return subprocess.Popen(
            streamlit_argv(port, address),
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=str(APP.parents[1]),
        )
    finally:
        if log_path:
            out.close()  # type: ignore[union-attr]


def wait_until_serving(process: subprocess.Popen[bytes], port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException(f"the dashboard exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise click.ClickException(f"the dashboard did not open port {port} within {timeout:.0f} s")


def stop_dashboard(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the dashboard's process group, then SIGKILL if it does not exit in time."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)
    except ProcessLookupError:
        pass


@click.group()
def dashboard() -> None:
    """The Streamlit dashboard: distribution log, fairness audit, team settings, what-if."""


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


@dashboard.command("serve")
@click.option(
    "--port",
    default=8501,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option(
    "--address", default="127.0.0.1", show_default=True, help="Address to bind (0.0.0.0 for all)."
)
@one_line_errors
def serve(port: int, address: str) -> None:
    """Run the dashboard until Ctrl-C (needs a users file or single sign-on)."""
    settings = settings_or_exit()
    if settings.dashboard_users_file is None and not settings.sso_roles:
        raise click.ClickException(
            "LEADROUTER_DASHBOARD_USERS_FILE is not set: create a users file "
            "(see `leadrouter dashboard hash-password --help`), or set up single sign-on "
            "(LEADROUTER_DASHBOARD_SSO_ROLES, docs/security.md)"
        )
    if settings.dashboard_users_file and not settings.dashboard_users_file.is_file():
        raise click.ClickException(
            f"users file not found: {settings.dashboard_users_file} "
            "(add the first user: leadrouter dashboard add-user NAME --role admin)"
        )
    env = {"LEADROUTER_TRUSTED_PROXIES": settings.trusted_proxies}  # .env included
    process = start_dashboard(port=port, env=env, address=address)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops Streamlit too, like Ctrl-C
    try:
        wait_until_serving(process, port)
        click.echo(f"Dashboard: http://{address}:{port}  (Ctrl-C to stop)")
        process.wait()
    except KeyboardInterrupt:
        click.echo("stopping the dashboard...")
    finally:
        stop_dashboard(process)
    if process.returncode not in (0, -signal.SIGTERM, None):
        raise click.ClickException(f"the dashboard exited with status {process.returncode}")


def _read_password(password_stdin: bool) -> str:
    """The password from standard input, or asked twice without echo; at least 8
    characters."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Repeat: "):
            raise click.ClickException("the passwords differ")
    if len(password) < 8:
        raise click.ClickException("password too short: use at least 8 characters")
    return password


@dashboard.command("hash-password")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def hash_password_cmd(password_stdin: bool) -> None:
    """Print an argon2 hash for a users file entry (the password is never echoed)."""
    click.echo(hash_password(_read_password(password_stdin)))


def upsert_user(
    path: Path, name: str, role: str, password_hash: str, rep: str | None = None
) -> bool:
    """Add ``name`` to the users file at ``path`` (created when missing), or give the
    existing entry ``role`` and ``password_hash`` (and ``rep``, a rep user's own key: their
    e-mail in the routing config or their Salesforce user Id; other roles have none); the
    other entries are kept as they are.
    The file is rewritten atomically, readable by its owner only. True when the user was
    new. ValueError naming the file when its content is not a list of users."""
    import json

    import yaml

    as_json = path.suffix == ".json"
    entries: list[object] = []
    if path.exists():
        text = path.read_text(encoding="utf-8")
        try:
            raw = json.loads(text) if as_json else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: not valid YAML/JSON ({str(exc).splitlines()[0]})") from None
        if raw is not None and not isinstance(raw, list):
            raise ValueError(f"{path}: expected a list of users")
        entries = list(raw or [])
    entry: dict[str, str] = {"username": name, "role": role, "password_hash": password_hash}
    if rep is not None:
        entry["rep"] = rep
    for i, old in enumerate(entries):
        if isinstance(old, dict) and old.get("username") == name:
            kept = {k: v for k, v in old.items() if k != "rep"}
            entries[i] = {**kept, **entry}
            new = False
            break
    else:
        entries.append(entry)
        new = True
    text = (
        json.dumps(entries, indent=2) + "\n"
        if as_json
        else yaml.safe_dump(entries, sort_keys=False)
    )
    write_private(path, text)
    return new


@dashboard.command("add-user")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice(ROLES),
    help="What the user may do in the dashboard.",
)
@click.option(
    "--rep",
    "rep_key",
    default=None,
    help="For --role rep: the rep's key in the routing config (e-mail) or Salesforce user Id.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--file",
    "users_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Users file to write (default: LEADROUTER_DASHBOARD_USERS_FILE).",
)
@one_line_errors
def add_user_cmd(
    name: str, role: str, rep_key: str | None, password_stdin: bool, users_file: Path | None
) -> None:
    """Add user NAME to the users file, or change an existing user's role and password.

    The password is asked twice (never echoed) or read from standard input; only its
    argon2 hash is written, and the file is readable by its owner only."""
    path = users_file or settings_or_exit().dashboard_users_file
    if path is None:
        raise click.ClickException(
            "no users file: set LEADROUTER_DASHBOARD_USERS_FILE or pass --file PATH"
        )
    if not name.strip() or name != name.strip():
        raise click.ClickException(f"NAME: {name!r} is empty or has spaces around it")
    rep_key = (rep_key or "").strip() or None
    if role == "rep" and rep_key is None:
        raise click.ClickException(
            "--rep: a rep user needs their key (their e-mail in the routing config or "
            "their Salesforce user Id)"
        )
    if role != "rep" and rep_key is not None:
        raise click.ClickException(f"--rep: only for --role rep, not {role}")
    password_hash = hash_password(_read_password(password_stdin))
    try:
        new = upsert_user(path, name, role, password_hash, rep_key)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{path}: {'added' if new else 'updated'} {name} ({role})")
