"""docker-compose.yml runs only real CLI commands (no Docker engine runs here, so this is
how we know the compose file does not rot)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
import yaml

from worker.cli import cli

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def leadrouter_commands() -> list[tuple[str, list[str]]]:
    return [
        (name, service["command"])
        for name, service in COMPOSE["services"].items()
        if service.get("image", "").startswith("leadrouter")
    ]


def resolve(argv: list[str]) -> click.Command:
    """Walk the click tree like the shell would, and parse the options for real."""
    command: click.Command = cli
    ctx = click.Context(cli, info_name="leadrouter")
    args = list(argv)
    while isinstance(command, click.Group) and args:
        sub = command.get_command(ctx, args[0])
        assert sub is not None, f"leadrouter has no command {args[0]!r}"
        command, args = sub, args[1:]
        ctx = click.Context(command, info_name=command.name, parent=ctx)
    command.parse_args(ctx, args)
    return command


@pytest.mark.parametrize(("service", "argv"), leadrouter_commands())
def test_every_compose_command_is_a_real_cli_command(service: str, argv: list[str]) -> None:
    assert not isinstance(resolve(argv), click.Group), f"{service}: {argv} names a group"


def test_required_secrets_fail_fast_when_unset() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "${POSTGRES_PASSWORD:?" in text
    assert "${LEADROUTER_SF_INSTANCE_URL:?" in text


def test_postgres_is_healthchecked_and_migration_runs_before_the_worker() -> None:
    services = COMPOSE["services"]
    assert "healthcheck" in services["postgres"]
    assert (
        services["worker"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    )
    assert services["sandbox"]["profiles"] == ["demo"]
