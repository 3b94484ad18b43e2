"""The CLI as a user meets it: real subprocesses, real exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from worker.cli import COMMANDS, cli, plugin_commands

pytestmark = pytest.mark.e2e
PRODUCT = ["run", "db", "config", "simulate", "dashboard", "notify", "purge"]
DEVKIT = ["demo", "sandbox", "bench", "soak"]  # the devkit extra's entry points


def leadrouter(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "worker", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )


def all_commands() -> list[list[str]]:
    """Every command path in the click tree, e.g. ['db', 'upgrade']."""
    found: list[list[str]] = []

    def walk(group: click.Group, prefix: list[str]) -> None:
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None
            found.append([*prefix, name])
            if isinstance(command, click.Group):
                walk(command, [*prefix, name])

    walk(cli, [])
    return found


def test_help_lists_every_command_with_a_one_line_description():
    result = leadrouter("--help")

    assert result.returncode == 0
    listed = {}
    section = result.stdout.split("Commands:")[1]
    assert "..." not in section, "descriptions are cut off"
    for line in section.strip().splitlines():
        name, _, description = line.strip().partition(" ")
        listed[name] = description.strip()
    for name in PRODUCT + DEVKIT:
        assert name in (COMMANDS if name in PRODUCT else plugin_commands())
        assert listed.get(name), f"`leadrouter --help` shows no description for {name}"


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p))
def test_every_command_has_help(path: list[str]):
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, [*path, "--help"])

    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert len(result.output.splitlines()) >= 3


def test_a_bad_database_url_is_one_clear_line_not_a_traceback(tmp_path: Path):
    import os

    env = {**os.environ, "LEADROUTER_DATABASE_URL": "postgres//oops"}
    result = leadrouter("db", "upgrade", env=env, cwd=tmp_path)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "Error: LEADROUTER_DATABASE_URL: not a database URL (expected sqlite:///path.db or "
        "postgresql+psycopg://user@host:5432/db)"
    ]


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path):
    import os

    env = {**os.environ, "LEADROUTER_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/x"}
    result = leadrouter("db", "upgrade", env=env, cwd=tmp_path)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: cannot reach the database:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_db_upgrade_is_idempotent_from_the_command_line(tmp_path: Path):
    import os

    env = {**os.environ, "LEADROUTER_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    first = leadrouter("db", "upgrade", env=env, cwd=tmp_path)
    second = leadrouter("db", "upgrade", env=env, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert "upgraded from empty" in first.stdout
    assert second.returncode == 0
    assert "already at revision" in second.stdout


def test_a_missing_routing_config_is_one_clear_line(tmp_path: Path):
    result = leadrouter("config", "check", str(tmp_path / "nope.yaml"), cwd=tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: routing config not found: {tmp_path / 'nope.yaml'}"


CONFIG = Path(__file__).resolve().parents[2] / "config" / "routing.yaml"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            {"LEADROUTER_SF_CONSUMER_SECRET": "s"},
            "Error: FAIL  token                 cannot reach the Salesforce token URL "
            "https://127.0.0.1:9/services/oauth2/token: ConnectionError  → check "
            "LEADROUTER_SF_INSTANCE_URL",
        ),
        (
            {
                "LEADROUTER_SF_USERNAME": "u@x.example",
                "LEADROUTER_SF_PRIVATE_KEY_FILE": "/nope.key",
            },
            "Error: FAIL  token                 LEADROUTER_SF_PRIVATE_KEY_FILE: cannot read "
            "/nope.key: No such file or directory  → correct the setting the message names",
        ),
    ],
    ids=["unreachable-instance", "missing-private-key"],
)
def test_run_once_names_what_is_wrong_in_one_line(
    tmp_path: Path, extra: dict[str, str], expected: str
):
    import os

    env = {
        **os.environ,
        "LEADROUTER_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "LEADROUTER_SF_INSTANCE_URL": "https://127.0.0.1:9",
        "LEADROUTER_SF_CONSUMER_KEY": "k",
        "LEADROUTER_ROUTING_CONFIG": str(CONFIG),
        **extra,
    }
    result = leadrouter("run", "--once", env=env, cwd=tmp_path)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    # the line `leadrouter doctor` prints for its token check (it starts as the preflight)
    assert result.stderr.strip().splitlines()[-1].startswith(expected)
