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

**Which source wins.** The routing section (everything but ``notifications:``) can also
be published as a numbered version in the store: from the dashboard's routing editor, or
with ``leadrouter config import FILE``. The published version, when there is one, wins
over the file's routing section; the file stays the bootstrap (the config-as-code source
that ``config import`` publishes) and always supplies ``notifications:`` (its secrets
come from the environment). With no published version, the file is the config, as before.
The dashboard's per-rep overrides apply on top of whichever wins.

**How the worker picks a version up.** At the start of every cycle :meth:`ConfigSource.__call__`
asks the store for the published version's number (one indexed lookup); the version's
text is read and parsed only when that number changed. A publish or a rollback therefore
routes from the worker's next cycle on, without a restart.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from sqlmodel import Session

from worker.notify.config import NotifyConfigError, parse_notify_section, with_time_zones
from worker.notify.model import NotifySettings
from worker.routing.model import RoutingConfig
from worker.routing_config.loader import CheckResult, check_config, check_text
from worker.routing_config.overrides import apply_valid_overrides
from worker.routing_config.problems import ConfigError, Problem
from worker.routing_config.yamlsrc import YamlSyntaxError, load_yaml
from worker.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from worker.store.config_versions_repo import ConfigVersion
    from worker.store.team_repo import Actor

log = logging.getLogger("leadrouter.config")

Overrides = Mapping[str, Mapping[str, Any]]
_T = TypeVar("_T")


@dataclass(frozen=True, eq=False)
class ConfigFile:
    """One config file, validated: its routing config and its notifications."""

    path: Path
    routing: RoutingConfig
    notify: NotifySettings
    warnings: tuple[Problem, ...] = ()
    # the file's ``notifications:`` section as parsed YAML (a published version's SLAs are
    # checked against it)
    notifications_raw: Any = None
    # the published version whose routing section replaced the file's, or None (the file's)
    version: int | None = None


@dataclass(frozen=True)
class Published:
    """The published version of the routing section: its number and YAML text."""

    number: int
    body: str


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
    raw = result.document.get("notifications") if isinstance(result.document, dict) else None
    loaded = ConfigFile(path, result.config, notify, tuple(result.warnings), raw)
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


def routing_section(text: str, *, keep_lines: bool = False) -> tuple[str, bool]:
    """``text`` without its top-level ``notifications:`` block (it stays in the file):
    (the routing section, whether a block was removed). Comments and layout are kept;
    ``keep_lines`` blanks the block's lines instead, so every other line keeps its number
    (for messages about the file as written). A text that is not YAML is returned as it
    is (the checks then say why)."""
    try:
        data, lines, _ = load_yaml(text)
    except YamlSyntaxError:
        return text, False
    if not isinstance(data, dict) or "notifications" not in data:
        return text, False
    start = lines[("notifications",)]
    after = sorted(n for path, n in lines.items() if len(path) == 1 and n > start)
    kept = text.splitlines(keepends=True)
    end = after[0] - 1 if after else len(kept)
    middle = ["\n"] * (end - start + 1) if keep_lines else []
    return "".join(kept[: start - 1] + middle + kept[end:]), True


def check_routing_text(
    text: str, base: ConfigFile, *, name: str = "draft"
) -> tuple[RoutingConfig | None, list[Problem], list[Problem]]:
    """Validate a routing section (a draft, an import, a stored version) with the checks
    of ``config check``, against the notifications of ``base`` (the file): (the config or
    None, errors, warnings), each problem with its line in ``text``."""
    _, had_notifications = routing_section(text)
    if had_notifications:
        line = load_yaml(text)[1].get(("notifications",))
        why = "stays in the config file (secrets come from the environment): remove it here"
        return None, [Problem("notifications", why, line, name)], []
    combined = text
    if base.notifications_raw is not None:
        combined = (
            text.rstrip("\n")
            + "\n"
            + yaml.safe_dump(
                {"notifications": base.notifications_raw}, sort_keys=False, allow_unicode=True
            )
        )
    result = check_text(combined, name)
    return result.config, list(result.errors), list(result.warnings)


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
        # (number, the file it was checked against, the file with that version's routing)
        self._version: tuple[int, ConfigFile, ConfigFile] | None = None
        self._reported_version: int | None = None
        self._body: Published | None = None  # the published version read last

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

    def routing_file(self, published: Published | None = None) -> ConfigFile:
        """The file, or the file with its routing section replaced by the ``published``
        version (parsed once per version and file). A published version that no longer
        passes the checks (the file's notifications changed under it) is logged and the
        file's routing applies."""
        loaded = self.file()
        if published is None:
            return loaded
        cached = self._version
        if cached is not None and cached[0] == published.number and cached[1] is loaded:
            return cached[2]
        name = f"published version {published.number}"
        routing, errors, warnings = check_routing_text(published.body, loaded, name=name)
        if routing is None:
            if self._reported_version != published.number:
                self._reported_version = published.number
                first = errors[0] if errors else "invalid"
                log.error("%s left out, the file's routing applies: %s", name, first)
            return loaded
        version = replace(loaded, routing=routing, warnings=tuple(warnings),
                          version=published.number)  # fmt: skip
        self._version = (published.number, loaded, version)
        log.info("routing config: %s", name)
        return version

    def effective(self, overrides: Overrides, published: Published | None = None) -> Effective:
        """The file (or the ``published`` version, which wins over the file's routing) with
        ``overrides`` applied; the same object while none changed (the router compiles a
        config once per object)."""
        loaded = self.routing_file(published)
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

    def draft(
        self, text: str, overrides: Overrides, *, name: str = "draft"
    ) -> tuple[Effective | None, list[Problem], list[Problem]]:
        """A routing section not (yet) published, checked as ``config check`` would and
        with ``overrides`` applied as the worker would: (the effective config or None,
        errors, warnings). Nothing is cached."""
        loaded = self.file()
        routing, errors, warnings = check_routing_text(text, loaded, name=name)
        if routing is None:
            return None, errors, warnings
        file = replace(loaded, routing=routing, warnings=tuple(warnings), version=None)
        applied, problems = apply_valid_overrides(routing, overrides)
        return Effective(file, applied, dict(overrides), tuple(problems)), errors, warnings

    def published_in(self, session: Session) -> Published | None:
        """The store's published version: its number is looked up every call, its text
        read only when the number is not the one parsed last."""
        from worker.store import config_versions_repo

        number = config_versions_repo.published_number(session)
        if number is None:
            return None
        if self._body is not None and self._body.number == number:
            return self._body
        body = config_versions_repo.version_body(session, number)
        if body is None:
            return None
        self._body = Published(number, body)
        return self._body

    def __call__(self, session: Session) -> RoutingConfig:
        return self.effective(override_data(session), self.published_in(session)).routing


def stored_overrides(database_url: str) -> tuple[dict[str, dict[str, Any]], str | None]:
    """The overrides saved in the store at ``database_url``, for commands that may run
    before the worker ever did: ``({}, why)`` when there is no store to read (a SQLite
    file that does not exist is not created), never an exception."""
    data, why = _read_store(database_url, override_data)
    return (data or {}), why


def stored_published(database_url: str) -> tuple[Published | None, str | None]:
    """The store's published version for commands (``config show``/``check``, ``simulate``),
    or ``(None, why)`` when there is no store to read; never an exception."""

    def read(session: Session) -> Published | None:
        from worker.store import config_versions_repo

        number = config_versions_repo.published_number(session)
        body = None if number is None else config_versions_repo.version_body(session, number)
        return None if number is None or body is None else Published(number, body)

    return _read_store(database_url, read)


def _read_store(database_url: str, read: Callable[[Session], _T]) -> tuple[_T | None, str | None]:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from worker.root import engine_for
    from worker.store.db import StoreError

    try:
        url = make_url(database_url)
    except ArgumentError:
        return None, f"not a database URL: {database_url!r}"
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database and not Path(database).exists():
        return None, f"no store at {database} yet"
    engine = None
    try:
        engine = engine_for(database_url, pool=False)
        with Session(engine) as session:
            return read(session), None
    except (StoreError, SQLAlchemyError) as exc:
        return None, f"store unavailable: {str(exc).splitlines()[0][:120]}"
    finally:
        if engine is not None:
            engine.dispose()


def intake_mode(settings: Settings, config: RoutingConfig) -> str:
    """``poll`` or ``subscribe``: ``LEADROUTER_INTAKE_MODE`` when set, else the config's
    ``intake.mode``. The worker and ``doctor`` both ask here."""
    return settings.intake_mode or config.intake.mode


def publish_routing(
    engine: Engine,
    source: ConfigSource,
    *,
    actor: Actor | None,
    body: str,
    message: str = "",
    draft_revision: int | None = None,
    base_number: int | None = None,
) -> ConfigVersion:
    """Validate ``body`` (a routing section) with the checks of ``config check`` against
    the file's notifications and publish it as the next version: what the dashboard's
    Publish button and the tests call. The worker routes by it from its next cycle.

    Raises :class:`ConfigError` (every problem, with its line) and nothing is published;
    the store's ``StaleDraft``, ``PublishConflict`` or ``PermissionDenied`` likewise."""
    from worker.store import config_versions_repo

    routing, errors, _ = check_routing_text(body, source.file(), name="draft")
    if routing is None:
        raise ConfigError(errors)
    return config_versions_repo.publish(
        engine, actor=actor, body=body, message=message, draft_revision=draft_revision,
        base_number=base_number,
    )  # fmt: skip
