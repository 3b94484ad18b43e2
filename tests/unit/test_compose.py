"""docker-compose.yml runs only real CLI commands and works as written: validated by
`docker compose config` where Docker Compose is installed, by parsing it everywhere (no
Docker engine runs in CI, so this is how we know the compose file does not rot)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, cast

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


# --- the stack works as written (issue 21) ------------------------------------------------
TEXT = (ROOT / "docker-compose.yml").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()
VARIABLE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::?[-?][^}]*)?\}")


def example_variables() -> set[str]:
    """Variables .env.example sets or shows (commented out)."""
    return set(re.findall(r"^#?\s*([A-Z_][A-Z0-9_]*)=", ENV_EXAMPLE, re.MULTILINE))


def interpolated(env: dict[str, str]) -> dict[str, Any]:
    """The compose file with ${VAR}, ${VAR:-default} and ${VAR:?message} resolved from
    ``env``, as `docker compose config` resolves them (a missing required one fails)."""

    def value(match: re.Match[str]) -> str:
        name, rest = match.group(1), match.group(0)[len(match.group(1)) + 2 : -1]
        if name in env and env[name] != "":
            return env[name]
        if rest.startswith(":-"):
            return rest[2:]
        if rest.startswith(":?"):
            raise AssertionError(f"{name} is required: {rest[2:]}")
        return ""

    return cast(dict[str, Any], yaml.safe_load(VARIABLE.sub(value, TEXT)))


def env_from_example() -> dict[str, str]:
    return dict(re.findall(r"^([A-Z_][A-Z0-9_]*)=(.*)$", ENV_EXAMPLE, re.MULTILINE))


def test_env_example_names_every_variable_the_compose_file_uses() -> None:
    used = set(VARIABLE.findall(TEXT))
    assert used, "the pattern found no ${VAR} at all"
    assert used - example_variables() == set(), ".env.example misses some"
    required = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*):\?", TEXT))
    assert required <= set(env_from_example()), "required ones must be set, not commented out"


def test_the_compose_file_resolves_with_the_example_env() -> None:
    compose = interpolated(env_from_example())
    assert set(compose["services"]) == {"postgres", "migrate", "worker", "dashboard", "sandbox"}
    for name, service in compose["services"].items():
        assert "image" in service or "build" in service, name
    with pytest.raises(AssertionError, match="POSTGRES_PASSWORD is required"):
        interpolated({})


def compose_cli() -> list[str] | None:
    for argv in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(argv[0]) is None:
            continue
        probe = subprocess.run([*argv, "version"], capture_output=True, check=False)  # noqa: S603
        if probe.returncode == 0:
            return argv
    return None


@pytest.mark.skipif(compose_cli() is None, reason="no docker compose here: parsed instead")
def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    argv = compose_cli()
    assert argv is not None
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = subprocess.run(  # noqa: S603
        [*argv, "--profile", "demo", "config", "--quiet"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_the_dashboard_listens_on_every_interface_of_its_container() -> None:
    dashboard = COMPOSE["services"]["dashboard"]
    command = dashboard["command"]
    assert command[command.index("--address") + 1] == "0.0.0.0"  # noqa: S104
    published = interpolated(env_from_example())["services"]["dashboard"]["ports"]
    assert published == ["127.0.0.1:8501:8501"]
    assert command[command.index("--port") + 1] == published[0].rsplit(":", 1)[1]


def bind_mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            out.append((source, target))
    return out


def test_config_and_the_users_file_are_mounted_not_baked() -> None:
    assert "COPY config" not in DOCKERFILE
    compose = interpolated(env_from_example())
    for name in ("migrate", "worker", "dashboard"):
        assert ("./config", "/app/config") in bind_mounts(compose["services"][name]), name
    assert "/app/config/routing.yaml" in DOCKERFILE  # LEADROUTER_ROUTING_CONFIG
    users_dir = "/data/users"
    assert f"LEADROUTER_DASHBOARD_USERS_FILE={users_dir}/" in DOCKERFILE
    assert f"dashboard-users:{users_dir}" in compose["services"]["dashboard"]["volumes"]
    assert "dashboard-users" in compose["volumes"]


def test_every_mounted_path_exists_in_the_repo_or_is_documented() -> None:
    compose = interpolated(env_from_example())
    docs = ENV_EXAMPLE + (ROOT / "README.md").read_text()
    for name, service in compose["services"].items():
        for source, _target in bind_mounts(service):
            where = (ROOT / source).resolve()
            assert where.exists() or source in docs, f"{name}: {source} is neither"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in compose["volumes"], f"{name}: volume {source} undeclared"


def test_worker_and_dashboard_have_healthchecks_on_their_real_endpoints() -> None:
    services = COMPOSE["services"]
    worker_check = " ".join(services["worker"]["healthcheck"]["test"])
    port = services["worker"]["environment"]["LEADROUTER_METRICS_PORT"]
    assert f"http://127.0.0.1:{port}/healthz" in worker_check
    assert services["worker"]["environment"]["LEADROUTER_METRICS_HOST"] == "0.0.0.0"  # noqa: S104
    dashboard_check = " ".join(services["dashboard"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8501/_stcore/health" in dashboard_check
    for check in (worker_check, dashboard_check):
        assert check.startswith("CMD python -c ")  # the slim image has no curl
        compile(check.removeprefix("CMD python -c "), "<healthcheck>", "exec")


def test_the_image_runs_as_an_unprivileged_user() -> None:
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE, re.MULTILINE)
    assert users, "no USER in the Dockerfile: the image would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert DOCKERFILE.index("USER") > DOCKERFILE.index("pip install --no-cache-dir --no-deps")


def dockerfile_stages() -> dict[str, str]:
    """Each ``FROM … AS name`` stage of the Dockerfile and the text up to the next one."""
    text = (ROOT / "Dockerfile").read_text()
    parts = re.split(r"^FROM\s+\S+\s+AS\s+(\w+)\s*$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_product_services_build_the_product_stage_and_the_sandbox_the_devkit_one() -> None:
    stages = dockerfile_stages()
    assert set(stages) == {"product", "demo"}
    copies = [line for line in stages["product"].splitlines() if line.startswith("COPY")]
    assert copies and not any("devkit" in line for line in copies)  # the product image
    assert "COPY devkit" in stages["demo"] and "[devkit]" in stages["demo"]
    for name in ("migrate", "worker", "dashboard"):
        assert interpolated(env_from_example())["services"][name]["build"]["target"] == "product"
    assert COMPOSE["services"]["sandbox"]["build"]["target"] == "demo"
