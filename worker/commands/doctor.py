"""``leadrouter doctor``: check the configured org before going live, one line per check
with a fix hint; exit status 1 when any check fails. Nothing is written to Salesforce."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from worker.commands._common import one_line_errors, settings_or_exit

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from worker.doctor import Check, Inputs
    from worker.routing.model import RoutingConfig
    from worker.settings import Settings


def now_utc() -> datetime:
    return datetime.now(UTC)


def effective_config(settings: Settings) -> RoutingConfig:
    """The config the worker would route with: the file plus the dashboard's overrides."""
    from worker.config_source import stored_overrides
    from worker.root import config_source_for
    from worker.routing_config import ConfigError

    if not settings.routing_config.exists():
        raise click.ClickException(
            f"LEADROUTER_ROUTING_CONFIG: file not found: {settings.routing_config}"
        )
    data, _why = stored_overrides(settings.database_url)
    try:
        return config_source_for(settings.routing_config, settings).effective(data).routing
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def intake_user_keys(settings: Settings) -> tuple[str, ...]:
    return tuple(k.strip().lower() for k in settings.intake_users.split(",") if k.strip())


def inputs_for(settings: Settings, gateway: object, config: RoutingConfig) -> Inputs:
    """The checks' inputs; ``gateway`` must answer :class:`OrgProbe` (the worker's does)."""
    from worker.doctor import Inputs
    from worker.sfdc.gateway import OrgProbe

    probe = cast(OrgProbe, gateway)
    from worker.config_source import intake_mode

    return Inputs(
        probe=probe, config=config, api_version=settings.sf_api_version, now=now_utc,
        intake_mode=intake_mode(settings, config), pubsub_endpoint=settings.sf_pubsub_endpoint,
        org_id=settings.sf_org_id, intake_user_keys=intake_user_keys(settings),
    )  # fmt: skip


@contextmanager
def store_for_dry_run(database_url: str) -> Iterator[Engine]:
    """The store the worker uses when it has a schema (its account mirror and routing
    state), else an empty one in a temporary directory: a dry run writes to neither."""
    from sqlalchemy.engine import make_url

    from worker.root import engine_for, ready_engine
    from worker.store.db import StoreError, upgrade

    url = make_url(database_url)
    database = url.database or ""
    missing = url.get_backend_name() == "sqlite" and (not database or not Path(database).exists())
    if not missing:
        try:
            engine = ready_engine(database_url, schema=True)
        except StoreError:
            pass
        else:
            try:
                yield engine
            finally:
                engine.dispose()
            return
    with tempfile.TemporaryDirectory(prefix="leadrouter-doctor-") as tmp:
        scratch = f"sqlite:///{Path(tmp) / 'doctor.sqlite'}"
        upgrade(scratch)
        engine = engine_for(scratch, pool=False)
        try:
            yield engine
        finally:
            engine.dispose()


def doctor_checks(settings: Settings, *, dry_run: bool = True) -> list[Check]:
    from worker.doctor import run_checks
    from worker.doctor.dry_run import dry_run as route_next
    from worker.root import Root

    if settings.sf_auth_flow is None:
        raise click.ClickException(
            "no Salesforce credentials: set LEADROUTER_SF_INSTANCE_URL and a key/secret, "
            "JWT key or session id"
        )
    config = effective_config(settings)
    gateway = Root(settings, pool=False).gateway
    inputs = inputs_for(settings, gateway, config)
    with store_for_dry_run(settings.database_url) as engine:
        if dry_run:
            keys = intake_user_keys(settings)
            inputs.dry_run = lambda: route_next(
                gateway, engine, config, now_utc, intake_user_keys=keys
            )
        return run_checks(inputs)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.option(
    "--no-dry-run", is_flag=True, help="Skip routing the next leads waiting in the intake."
)
@one_line_errors
def doctor(as_json: bool, no_dry_run: bool) -> None:
    """Check the configured Salesforce org is ready: access, fields, queues, limits, clock.

    One line per check (ok, warn, FAIL or skip) with what to do about it; the exit status
    is 1 when any check fails. Reads only: no owner is written and nothing is stored.
    """
    from worker.doctor import exit_code, to_json

    settings = settings_or_exit()
    checks = doctor_checks(settings, dry_run=not no_dry_run)
    if as_json:
        click.echo(to_json(checks))
    else:
        for check in checks:
            click.echo(check.line())
    raise SystemExit(exit_code(checks))
