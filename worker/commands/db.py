"""``leadrouter db``: schema migrations."""

from __future__ import annotations

import click

from worker.commands._common import one_line_errors, settings_or_exit, sqlite_path
from worker.root import ready_engine
from worker.store.db import current_revision, head_revision, upgrade


@click.group()
def db() -> None:
    """Manage the store's schema (SQLite or PostgreSQL)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@one_line_errors
def upgrade_cmd(revision: str) -> None:
    """Create or upgrade the schema; safe to run again (idempotent)."""
    settings = settings_or_exit()
    path = sqlite_path(settings.database_url)
    if path is not None and not path.parent.parent.is_dir():
        # the database file and its own folder (./var) are made; a mistyped path is not
        raise click.ClickException(
            f"LEADROUTER_DATABASE_URL: folder {path.parent.parent} does not exist "
            f"(db upgrade creates {path.name} and its folder {path.parent.name}/, "
            "not the folders above: check the path or create them)"
        )
    engine = ready_engine(settings.database_url)
    before = current_revision(engine)
    upgrade(settings.database_url, revision)
    after = current_revision(engine)
    if before == after:
        click.echo(f"database already at revision {after}")
    else:
        click.echo(f"database upgraded from {before or 'empty'} to {after}")


@db.command("current")
@one_line_errors
def current_cmd() -> None:
    """Print the schema revision of the database and the newest one known."""
    settings = settings_or_exit()
    path = sqlite_path(settings.database_url)
    if path is not None and not path.exists():
        click.echo(f"current: empty (no store at {path} yet)  head: {head_revision()}")
        return
    engine = ready_engine(settings.database_url)
    click.echo(f"current: {current_revision(engine) or 'empty'}  head: {head_revision()}")
