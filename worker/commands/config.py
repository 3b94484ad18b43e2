"""``leadrouter config``: check the routing config file and show the effective config."""

from __future__ import annotations

from pathlib import Path

import click

from worker.commands._common import one_line_errors, settings_or_exit


def _path_or_setting(path: Path | None) -> Path:
    target = path if path is not None else settings_or_exit().routing_config
    if not target.is_file():
        source = "" if path is not None else " (LEADROUTER_ROUTING_CONFIG)"
        raise click.ClickException(f"routing config not found: {target}{source}")
    return target


@click.group()
def config() -> None:
    """Check or show the routing config (reps, pools, territories, rules)."""


def _notification_problems(target: Path) -> list[str]:
    """The ``notifications:`` section is checked by the notifier's own loader."""
    from worker.notify import load_notify_settings
    from worker.notify.config import NotifyConfigError

    if not target.exists():
        return []
    try:
        load_notify_settings(target)
    except NotifyConfigError as exc:  # file-level problems were reported by check_config
        return [f"{target} {exc}"] if str(exc).startswith("notifications") else []
    except Exception:  # noqa: BLE001 - routing problems are reported by check_config
        return []
    return []


@config.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit status 1).")
@one_line_errors
def check_cmd(path: Path | None, strict: bool) -> None:
    """Validate PATH (default: LEADROUTER_ROUTING_CONFIG) and print every problem at once."""
    from worker.config_loader import check_config

    target = _path_or_setting(path)
    result = check_config(target)
    errors = list(result.errors) + _notification_problems(target)
    for problem in errors:
        click.echo(f"error: {problem}", err=True)
    for problem in result.warnings:
        click.echo(f"warning: {problem}", err=True)
    if errors or (strict and result.warnings):
        n, w = len(errors), len(result.warnings)
        raise click.ClickException(f"{target}: {n} error(s), {w} warning(s)")
    cfg = result.config
    assert cfg is not None
    click.echo(
        f"{target}: OK - {len(cfg.reps)} reps, {len(cfg.pools)} pools, "
        f"{len(cfg.territories)} territories, {len(cfg.rules)} rules"
        + (f", {len(result.warnings)} warning(s)" if result.warnings else "")
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
    from worker.config_loader import ConfigError, apply_overrides, dump_config, load_config

    target = _path_or_setting(path)
    try:
        cfg = load_config(target)
        if overrides:
            data = _stored_overrides()
            if data:
                cfg = apply_overrides(cfg, data)
                click.echo(f"# with dashboard overrides for {len(data)} rep(s)", err=True)
    except ConfigError as exc:
        first = exc.problems[0] if exc.problems else "invalid config"
        raise click.ClickException(f"{first} (and {len(exc.problems) - 1} more)") from None
    click.echo(dump_config(cfg), nl=False)


def _stored_overrides() -> dict[str, dict[str, object]]:
    """Overrides saved by the dashboard; none (with a note) when the store is unavailable."""
    from sqlalchemy.exc import SQLAlchemyError

    from worker.store.db import StoreError, make_engine
    from worker.store.team_repo import load_overrides

    settings = settings_or_exit()
    try:
        engine = make_engine(settings.database_url, pool=False)
        return {k: dict(v.data) for k, v in load_overrides(engine).items()}
    except (StoreError, SQLAlchemyError) as exc:
        reason = str(exc).splitlines()[0][:120]
        click.echo(f"# no dashboard overrides applied (store unavailable: {reason})", err=True)
        return {}
