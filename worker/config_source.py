"""The effective config, computed here and nowhere else.

The config file holds the routing config and its ``notifications:`` section; it is read
and validated in one go (:func:`check_config_file`), so ``config check`` reports every
problem of the file together, with its line. RevOps' dashboard overrides (per rep, and
per rep per pool) are applied on top by :func:`worker.routing_config.apply_valid_overrides`.
The worker, ``simulate``, What-if, every dashboard page and ``config show`` take their
config from a :class:`ConfigSource`, so they all see the same values.

The file is parsed again only when it changes (modification time and size), the
overrides are read at every call: an edit in the dashboard applies at the worker's next
cycle, an edit of the file (routing or notifications) too, without a restart.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from worker.notify.config import NotifyConfigError, parse_notify_section, with_time_zones
from worker.notify.model import NotifySettings
from worker.routing.model import RoutingConfig
from worker.routing_config.loader import CheckResult, check_config
from worker.routing_config.overrides import apply_valid_overrides
from worker.routing_config.problems import ConfigError, Problem
from worker.settings import Settings

log = logging.getLogger("leadrouter.config")

Overrides = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, eq=False)
class ConfigFile:
    """One config file, validated: its routing config and its notifications."""

    path: Path
    routing: RoutingConfig
    notify: NotifySettings
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True, eq=False)
class Effective:
    """The file plus the overrides that apply to it."""

    file: ConfigFile
    routing: RoutingConfig  # what the router uses
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # overrides left out because they no longer fit the file (a rep removed, a pool
    # renamed); the file's values apply to those reps
    problems: tuple[Problem, ...] = ()

    @property
    def notify(self) -> NotifySettings:
        return self.file.notify


def _notify_problem(result: CheckResult, exc: NotifyConfigError, file: str) -> Problem:
    """The notifier's message (``notifications.x.y: why``) as a problem with its line."""
    text = str(exc)
    where, sep, why = text.partition(": ")
    if not sep or not where.startswith("notifications"):
        return Problem("notifications", text, result.lines.get(("notifications",)), file)
    keys: list[Any] = [int(k) if k.isdigit() else k for k in where.split(".")]
    line = None
    while keys and line is None:
        line = result.lines.get(tuple(keys))
        keys.pop()
    return Problem(where, why, line, file)


def check_config_file(
    path: str | Path,
    *,
    settings: Settings | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[ConfigFile | None, list[Problem], list[Problem]]:
    """Validate the whole file: (the loaded file or None, errors, warnings).

    Raises ``FileNotFoundError`` when there is no such file."""
    path = Path(path)
    result = check_config(path)
    errors = list(result.errors)
    notify: NotifySettings | None = None
    if isinstance(result.document, dict):
        try:
            notify = parse_notify_section(
                result.document.get("notifications"), settings=settings, environ=environ
            )
        except NotifyConfigError as exc:
            errors.append(_notify_problem(result, exc, str(path)))
    if errors or result.config is None or notify is None:
        return None, errors, list(result.warnings)
    notify = with_time_zones(notify, result.config)
    loaded = ConfigFile(path, result.config, notify, tuple(result.warnings))
    return loaded, errors, list(result.warnings)


def load_config_file(
    path: str | Path,
    *,
    settings: Settings | None = None,
    environ: Mapping[str, str] | None = None,
) -> ConfigFile:
    """Raises :class:`ConfigError` listing every problem, or ``FileNotFoundError``."""
    loaded, errors, _ = check_config_file(path, settings=settings, environ=environ)
    if loaded is None:
        raise ConfigError(errors)
    return loaded


def override_data(session: Session) -> dict[str, dict[str, Any]]:
    """The dashboard's stored overrides, by rep key (unreadable rows logged and skipped)."""
    from sqlmodel import select

    from worker.store.models import RepOverride

    out: dict[str, dict[str, Any]] = {}
    for row in session.exec(select(RepOverride)).all():
        try:
            data = json.loads(row.data)
        except ValueError:
            log.warning("ignoring unreadable override for rep %s", row.rep_key)
            continue
        if isinstance(data, dict) and data:
            out[row.rep_key] = data
    return out


class ConfigSource:
    """The effective config of one config file, for one process.

    ``source(session)`` is the routing config the router uses now (the worker calls it
    at the start of every cycle); :meth:`effective` gives the whole picture for screens.
    """

    def __init__(
        self,
        path: Path,
        *,
        settings: Settings | None = None,
        environ: Mapping[str, str] | None = None,
        on_load: Callable[[ConfigFile], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.settings, self.environ, self.on_load = settings, environ, on_load
        self._stamp: tuple[float, int] | None = None
        self._file: ConfigFile | None = None
        self._last: tuple[ConfigFile, str, Effective] | None = None
        self._reported: str | None = None

    def file(self) -> ConfigFile:
        """The file's config, parsed again only when the file changed.

        Raises :class:`ConfigError` or ``FileNotFoundError``."""
        st = os.stat(self.path)
        stamp = (st.st_mtime, st.st_size)
        if self._file is None or stamp != self._stamp:
            self._file = load_config_file(self.path, settings=self.settings, environ=self.environ)
            self._stamp = stamp
            log.info("routing config loaded from %s", self.path)
            if self.on_load is not None:
                self.on_load(self._file)
        return self._file

    def effective(self, overrides: Overrides) -> Effective:
        """The file with ``overrides`` applied; the same object while neither changed (the
        router compiles a config once per object)."""
        loaded = self.file()
        key = json.dumps(overrides, sort_keys=True, default=str)
        if self._last is not None and self._last[0] is loaded and self._last[1] == key:
            return self._last[2]
        routing, problems = apply_valid_overrides(loaded.routing, overrides)
        if problems and key != self._reported:
            self._reported = key
            for p in problems:
                log.warning("dashboard override left out (the file's value applies): %s", p)
        effective = Effective(loaded, routing, dict(overrides), tuple(problems))
        self._last = (loaded, key, effective)
        return effective

    def __call__(self, session: Session) -> RoutingConfig:
        return self.effective(override_data(session)).routing


def stored_overrides(database_url: str) -> tuple[dict[str, dict[str, Any]], str | None]:
    """The overrides saved in the store at ``database_url``, for commands that may run
    before the worker ever did: ``({}, why)`` when there is no store to read (a SQLite
    file that does not exist is not created), never an exception."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from worker.root import engine_for
    from worker.store.db import StoreError

    try:
        url = make_url(database_url)
    except ArgumentError:
        return {}, f"not a database URL: {database_url!r}"
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database and not Path(database).exists():
        return {}, f"no store at {database} yet"
    engine = None
    try:
        engine = engine_for(database_url, pool=False)
        with Session(engine) as session:
            return override_data(session), None
    except (StoreError, SQLAlchemyError) as exc:
        return {}, f"store unavailable: {str(exc).splitlines()[0][:120]}"
    finally:
        if engine is not None:
            engine.dispose()


def intake_mode(settings: Settings, config: RoutingConfig) -> str:
    """``poll`` or ``subscribe``: ``LEADROUTER_INTAKE_MODE`` when set, else the config's
    ``intake.mode``. The worker and ``doctor`` both ask here."""
    return settings.intake_mode or config.intake.mode
