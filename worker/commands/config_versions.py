"""``leadrouter config export|import|versions|rollback``: the published versions of the
routing section, for teams that keep their config in git.

The published version wins over the config file's routing section (see
:mod:`worker.config_source`); ``import`` validates a file with the checks of
``config check`` and publishes its routing section as a new version, ``export`` writes
any version (default: the published one, else the file's) as YAML, ``rollback`` publishes
an older version again. The worker routes by a newly published version from its next
cycle on.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from worker.commands._common import one_line_errors, settings_or_exit
from worker.store.team_repo import Actor

if TYPE_CHECKING:
    from worker.config_source import ConfigFile
    from worker.settings import Settings


def _base_file(settings: Settings) -> ConfigFile:
    """The config file a version is checked against (its notifications apply)."""
    from worker.root import config_source_for
    from worker.routing_config import ConfigError

    try:
        return config_source_for(settings.routing_config, settings).file()
    except ConfigError as exc:
        raise click.ClickException(
            f"the config file {settings.routing_config} has {len(exc.problems)} problem(s) "
            f"(first: {exc.problems[0] if exc.problems else '?'}); run `leadrouter config check`"
        ) from None


def cli_actor() -> Actor:
    """Whoever runs the command with the store's credentials: an admin, named in history."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(f"cli:{user}"[:120], "admin")


@contextmanager
def _engine() -> Iterator[Engine]:
    from worker.root import ready_engine

    engine = ready_engine(settings_or_exit().database_url, schema=True)
    try:
        yield engine
    except SQLAlchemyError as exc:
        first = str(exc).splitlines()[0][:160]
        raise click.ClickException(
            f"store error ({first}); is the schema current? run `leadrouter db upgrade`"
        ) from None
    finally:
        engine.dispose()


@click.command("export")
@click.option("--version", "number", type=int, help="Version number (default: the published).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="File (default: stdout).",
)
@one_line_errors
def export_cmd(number: int | None, output: Path | None) -> None:
    """Write a version of the routing section as YAML (default: the published one, or
    the config file's when nothing was published)."""
    from worker.config_source import routing_section
    from worker.store import config_versions_repo as repo

    with _engine() as engine:
        version = repo.get_version(engine, number) if number is not None else repo.published(engine)
    if number is not None and version is None:
        raise click.ClickException(f"no version {number} (see `leadrouter config versions`)")
    if version is not None:
        body, what = version.body, f"version {version.number} ({version.status})"
    else:
        path = settings_or_exit().routing_config
        body, _ = routing_section(path.read_text(encoding="utf-8"))
        what = f"the routing section of {path} (nothing published yet)"
    if not body.endswith("\n"):
        body += "\n"
    if output is None:
        click.echo(body, nl=False)
    else:
        output.write_text(body, encoding="utf-8")
    click.echo(f"exported {what}" + (f" to {output}" if output else ""), err=True)


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("-m", "--message", default="", help="Why (shown in the history).")
@one_line_errors
def import_cmd(file: Path, message: str) -> None:
    """Validate FILE with the checks of `config check` and publish its routing section as
    a new version (a `notifications:` section in it is left out: it stays in the config
    file). The worker routes by it from its next cycle."""
    from worker.config_source import check_routing_text, routing_section
    from worker.store import config_versions_repo as repo

    settings = settings_or_exit()
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file}: not UTF-8 text (offset {exc.start})") from None
    base = _base_file(settings)
    numbered, had_notifications = routing_section(text, keep_lines=True)
    routing, errors, warnings = check_routing_text(numbered, base, name=str(file))
    for problem in errors:
        click.echo(f"error: {problem}", err=True)
    for problem in warnings:
        click.echo(f"warning: {problem}", err=True)
    if routing is None:
        raise click.ClickException(f"{file}: {len(errors)} error(s): nothing published")
    if had_notifications:
        click.echo(f"note: the notifications of {file} are left out (the config file's apply)")
    body, _ = routing_section(text)
    with _engine() as engine:
        version = repo.publish(
            engine, actor=cli_actor(), body=body, message=message or f"imported {file.name}"
        )
    click.echo(
        f"published version {version.number}: {len(routing.reps)} reps, "
        f"{len(routing.pools)} pools, {len(routing.rules)} rules; "
        "the worker routes by it from its next cycle"
    )


@click.command("versions")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@one_line_errors
def versions_cmd(limit: int) -> None:
    """The history of published versions: number, status, when (UTC), who, why."""
    from worker.store import config_versions_repo as repo

    with _engine() as engine:
        rows = repo.versions(engine, limit=limit)
    if not rows:
        click.echo("no version published yet: the config file's routing section applies")
        return
    for v in rows:
        when = v.created_at.strftime("%Y-%m-%d %H:%M")
        base = f" (from {v.base_number})" if v.base_number is not None else ""
        message = " ".join(v.message.split())
        click.echo(f"{v.number:>5}  {v.status:<9}  {when}  {v.author}{base}  {message}")


@click.command("rollback")
@click.argument("number", type=int)
@click.option("-m", "--message", default="", help="Why (shown in the history).")
@one_line_errors
def rollback_cmd(number: int, message: str) -> None:
    """Publish version NUMBER again (as a new version; the history keeps both)."""
    from worker.config_source import check_routing_text
    from worker.store import config_versions_repo as repo

    settings = settings_or_exit()
    with _engine() as engine:
        target = repo.get_version(engine, number)
        if target is None:
            raise click.ClickException(f"no version {number} (see `leadrouter config versions`)")
        base = _base_file(settings)
        routing, errors, _ = check_routing_text(target.body, base, name=f"version {number}")
        if routing is None:
            for problem in errors:
                click.echo(f"error: {problem}", err=True)
            raise click.ClickException(f"version {number} no longer passes the checks")
        version = repo.rollback(engine, actor=cli_actor(), number=number, message=message)
    click.echo(f"published version {version.number} (a copy of version {number})")


COMMANDS = (export_cmd, import_cmd, versions_cmd, rollback_cmd)


def register(group: click.Group) -> None:
    for command in COMMANDS:
        group.add_command(command)
