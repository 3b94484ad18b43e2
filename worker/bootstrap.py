"""Composition root: settings -> store, Salesforce gateway, config source, jobs, lease.

The only module that knows every concrete adapter. Also sets up structured logging
(``LEADROUTER_LOG_FORMAT=json`` or ``text`` key=value lines); lead PII is never logged at
INFO by the jobs (lead Ids only).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from worker.jobs.contacts import ContactMirror
from worker.jobs.context import Caches
from worker.jobs.deps import Deps
from worker.jobs.directory import Directory
from worker.metrics import Metrics
from worker.root import Root, engine_for
from worker.runtime.budget import Budget
from worker.runtime.checkpoint import WalCheckpointer
from worker.runtime.lease import Lease, lease_for
from worker.settings import Settings
from worker.sfdc.connection import SalesforceConnection
from worker.sfdc.gateway import SimpleSalesforceGateway

if TYPE_CHECKING:
    from worker.sfdc.pubsub.subscriber import Endpoint


def log_timestamp(record: logging.LogRecord) -> str:
    """ISO 8601 in UTC with milliseconds and the offset: ``2026-03-01T09:30:00.123+00:00``
    (local times without an offset cannot be lined up across hosts or a DST change)."""
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def _quoted(text: str) -> str:
    """A double-quoted value: quotes, backslashes and line breaks escaped, so a message
    (which may quote a lead value) can neither end the field nor start a new line."""
    return json.dumps(text, ensure_ascii=False)


class KeyValueFormatter(logging.Formatter):
    """``ts=... level=INFO logger=leadrouter.worker msg="..."``: one line per record."""

    def format(self, record: logging.LogRecord) -> str:
        line = (
            f"ts={log_timestamp(record)} level={record.levelname} logger={record.name} "
            f"msg={_quoted(record.getMessage())}"
        )
        if record.exc_info:
            line += f" exc={_quoted(self.formatException(record.exc_info))}"
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "ts": log_timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for noisy in ("apscheduler", "urllib3", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, SkippedRunIsRoutine) for f in scheduler_log.filters):
        scheduler_log.addFilter(SkippedRunIsRoutine())


class SkippedRunIsRoutine(logging.Filter):
    """A tick that finds the previous run still going is skipped by design
    (``max_instances=1``, ``coalesce``): a cycle working through a large backlog outlasts
    the intake interval. APScheduler says so at WARNING on every tick, which reads like a
    fault to whoever watches the logs; it is DEBUG here."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "maximum number of running instances reached" not in record.getMessage():
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


@dataclass
class App:
    settings: Settings
    deps: Deps
    lease: Lease
    connection: SalesforceConnection | None
    hostname: str
    pid: int
    # the Pub/Sub API, connected on demand (intake mode subscribe); None: no connection
    pubsub: Callable[[], Endpoint] | None = None


def pubsub_for(settings: Settings, connection: SalesforceConnection) -> Callable[[], Endpoint]:
    """Connect to the Pub/Sub API at ``LEADROUTER_SF_PUBSUB_ENDPOINT`` with the
    connection's session (``tenantid``: ``LEADROUTER_SF_ORG_ID``, else the token's org)."""

    def connect_now() -> Endpoint:
        from worker.sfdc.pubsub.subscriber import ConnectionAuth, connect

        ca = settings.sf_ca_bundle.read_bytes() if settings.sf_ca_bundle else None
        auth = ConnectionAuth(connection, settings.sf_org_id)
        return connect(settings.sf_pubsub_endpoint, auth, ca)

    return connect_now


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


SWITCH_INTERVAL = 0.0005  # seconds; see build_app


def start_background(app: App) -> None:
    """What a long-running worker starts before its first cycle: the heap kept out of
    the garbage collector's way, and (SQLite) the log checkpointed on its own thread."""
    app.deps.heap.start()
    if app.deps.checkpoints is not None:
        app.deps.checkpoints.start()


def build_app(settings: Settings, *, gateway: SimpleSalesforceGateway | None = None) -> App:
    """Wire a worker from ``settings`` (a ``gateway`` may be given by benchmarks/tests).

    Raises :class:`worker.routing_config.ConfigError` for a config file with problems
    (routing or notifications)."""
    # A thread asking for the GIL gets it within 0.5 ms instead of 5: the write-back's
    # threads (owner re-read, PATCHes) then run their short steps promptly while the
    # cycle thread decides the next page, keeping the check-then-write window small.
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
    root = Root(settings)
    connection = gateway.connection if gateway is not None else root.connection
    gw = gateway or root.gateway
    engine = root.engine
    source = root.config_source
    deps = Deps(
        engine=engine,
        checkpoints=WalCheckpointer.for_engine(engine),
        gateway=gw,
        directory=Directory(gw),
        caches=Caches(contacts=ContactMirror(max_age=settings.contact_mirror_max_age_seconds)),
        config=source,
        worker_id=new_worker_id(),
        metrics=Metrics(),
        budget=Budget(settings.api_slow_share, settings.api_stop_share),
        notify=source.file().notify,
        instance_url=settings.sf_instance_url,
        intake_user_keys=tuple(
            k.strip().lower() for k in settings.intake_users.split(",") if k.strip()
        ),
    )
    # the whole file is reloaded when it changes: notifications included, no restart
    source.on_load = lambda loaded: setattr(deps, "notify", loaded.notify)
    return App(
        settings=settings,
        deps=deps,
        lease=lease_for(settings.database_url, partial(engine_for, pool=False)),
        connection=connection,
        hostname=socket.gethostname(),
        pid=os.getpid(),
        pubsub=pubsub_for(settings, connection) if connection is not None else None,
    )
