"""The composition root: where the store's engine, the Salesforce connection and gateway,
and the routing config source are built, for every entry point.

The worker (:mod:`worker.bootstrap`), the dashboard (:mod:`dashboard.data`), the commands
(``worker/commands``) and the devkit all start here, so a database URL becomes an engine in
one way (pooled for long-running processes, not for one-shot commands), and the config file
plus the dashboard's overrides become the effective config in one way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from worker.config_source import ConfigSource
from worker.settings import Settings
from worker.store.db import StoreError, check_connection, current_revision, make_engine

if TYPE_CHECKING:  # the Salesforce client is imported only by those who talk to Salesforce
    from worker.sfdc.connection import SalesforceConnection
    from worker.sfdc.gateway import SimpleSalesforceGateway


def engine_for(database_url: str, *, pool: bool = True) -> Engine:
    """The store at ``database_url``: the one place an engine is made (apart from the
    migrations' own, which Alembic builds from the same URL)."""
    return make_engine(database_url, pool=pool)


def ready_engine(database_url: str, *, schema: bool = False) -> Engine:
    """An unpooled engine for a one-shot command, checked: :class:`StoreError` with one
    readable line when the database cannot be reached or (``schema``) has no schema yet."""
    engine = engine_for(database_url, pool=False)
    check_connection(engine)
    if schema and current_revision(engine) is None:
        engine.dispose()
        raise StoreError("the store has no schema yet: run `leadrouter db upgrade`")
    return engine


def config_source_for(path: Path, settings: Settings | None = None) -> ConfigSource:
    """The routing config of the file at ``path`` plus the dashboard's overrides, read as
    the worker reads them (one source per file per process: parsed again on change)."""
    return ConfigSource(path, settings=settings)


@dataclass
class Root:
    """What one process is built from, made on first use from its settings.

    ``pool``: long-running processes (the worker, the dashboard) keep a connection pool;
    one-shot commands open a connection per use and leave nothing behind.
    """

    settings: Settings
    pool: bool = True

    @cached_property
    def engine(self) -> Engine:
        return engine_for(self.settings.database_url, pool=self.pool)

    @cached_property
    def config_source(self) -> ConfigSource:
        return config_source_for(self.settings.routing_config, self.settings)

    @cached_property
    def connection(self) -> SalesforceConnection:
        from worker.sfdc.connection import SalesforceConnection

        return SalesforceConnection(self.settings)

    @cached_property
    def gateway(self) -> SimpleSalesforceGateway:
        from worker.sfdc.gateway import SimpleSalesforceGateway

        return SimpleSalesforceGateway(self.connection)
