"""``leadrouter config``: check the routing config file and show the effective config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from worker.commands._common import one_line_errors, settings_or_exit, sqlite_path, store_engine
from worker.commands.config_versions import register as register_version_commands
from worker.store.db import StoreError

if TYPE_CHECKING:
    from worker.config_source import Published


def _path_or_setting(path: Path | None) -> Path:
    target = path if path is not None else settings_or_exit().routing_config
    source = "" if path is not None else " (LEADROUTER_ROUTING_CONFIG)"
    if target.is_dir():
        hint = target / "routing.yaml"
        raise click.ClickException(
            f"routing config {target}{source} is a directory, not a file"
            + (f": did you mean {hint}?" if hint.is_file() else "")
        )
    if not target.is_file():
        raise click.ClickException(f"routing config not found: {target}{source}")
    return target


@click.group()
def config() -> None:
    """Check or show the routing config (reps, pools, territories, rules)."""


@config.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit status 1).")
@one_line_errors
def check_cmd(path: Path | None, strict: bool) -> None:
    """Validate PATH (default: LEADROUTER_ROUTING_CONFIG) and print every problem at once."""
    from worker.config_source import check_config_file
    from worker.root import config_source_for
    from worker.routing_config.problems import Problem

    target = _path_or_setting(path)
    loaded, errors, warnings = check_config_file(target)
    published = None
    if loaded is not None and path is None:
        # the overrides saved in the dashboard must still fit the file
        data = _stored_overrides(quiet=True)
        published = _stored_published(quiet=True)
        effective = config_source_for(target).effective(data, published)
        if published is not None and effective.file.version is None:
            errors.append(
                Problem(
                    "(store)",
                    f"published version {published.number} no longer "
                    "passes the checks with this file: the file's routing applies",
                )
            )
        warnings += [
            replace(
                p, message=f"dashboard override left out, the file's value applies: {p.message}"
            )
            for p in effective.problems
        ]
    for problem in errors:
        click.echo(f"error: {problem}", err=True)
    for problem in warnings:
        click.echo(f"warning: {problem}", err=True)
    if errors or (strict and warnings):
        raise click.ClickException(f"{target}: {len(errors)} error(s), {len(warnings)} warning(s)")
    assert loaded is not None
    cfg = loaded.routing
    click.echo(
        f"{target}: OK - {len(cfg.reps)} reps, {len(cfg.pools)} pools, "
        f"{len(cfg.territories)} territories, {len(cfg.rules)} rules"
        + (f", {len(warnings)} warning(s)" if warnings else "")
    )
    if published is not None:
        click.echo(
            f"note: published version {published.number} wins over this file's routing "
            "section (`leadrouter config versions`)"
        )


@config.command("show")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--overrides/--no-overrides",
    default=True,
    show_default=True,
    help="Apply the dashboard's per-rep overrides from the store.",
)
@one_line_errors
def show_cmd(path: Path | None, overrides: bool) -> None:
    """Print the effective routing config as YAML (loadable by `config check`)."""
    from worker.root import config_source_for
    from worker.routing_config import ConfigError, dump_config

    target = _path_or_setting(path)
    try:
        data = _stored_overrides() if overrides else {}
        published = _stored_published() if path is None else None
        effective = config_source_for(target).effective(data, published)
    except ConfigError as exc:
        first = exc.problems[0] if exc.problems else "invalid config"
        raise click.ClickException(f"{first} (and {len(exc.problems) - 1} more)") from None
    if data:
        click.echo(f"# with dashboard overrides for {len(data)} rep(s)", err=True)
    for p in effective.problems:
        click.echo(f"# dashboard override left out, the file's value applies: {p}", err=True)
    click.echo(dump_config(effective.routing), nl=False)


def _stored_overrides(quiet: bool = False) -> dict[str, dict[str, object]]:
    """Overrides saved by the dashboard; none (with a note) when there is no store, or
    one without its schema (nothing is created: a missing SQLite file stays missing)."""
    from worker.config_source import stored_overrides

    url = settings_or_exit().database_url
    why = _store_problem(url)
    data: Mapping[str, dict[str, object]] = {}
    if why is None:
        data, why = stored_overrides(url)
    if why and not quiet:
        click.echo(f"# no dashboard overrides applied ({why})", err=True)
    return dict(data)


def _store_problem(database_url: str) -> str | None:
    """Why the store cannot give overrides, in one line; None when it can."""
    path = sqlite_path(database_url)
    if path is not None and not path.exists():
        return f"no store at {path} yet"
    try:
        store_engine(database_url).dispose()
    except StoreError as exc:
        return str(exc)
    return None


def _stored_published(quiet: bool = False) -> Published | None:
    """The published version of the routing section (it wins over the file's), if any."""
    from worker.config_source import stored_published

    published, _ = stored_published(settings_or_exit().database_url)
    if published is not None and not quiet:
        click.echo(f"# routing section: published version {published.number}", err=True)
    return published


register_version_commands(config)  # export, import, versions, rollback
