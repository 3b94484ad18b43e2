"""Helpers shared by the CLI commands: settings loading, the store, and one-line errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from worker.settings import Settings, SettingsError, load_settings
from worker.store.db import StoreError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

P = ParamSpec("P")
R = TypeVar("R")

NO_SCHEMA = "the store has no schema yet: run `leadrouter db upgrade`"


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def missing_table(exc: BaseException) -> bool:
    """True when ``exc`` says a table does not exist (SQLite or PostgreSQL): a store
    nobody ran ``db upgrade`` on."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases, memory and ``file:`` URIs)."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        return None
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return None if database.startswith("file:") else Path(database)


def store_engine(database_url: str) -> Engine:
    """An engine for a command that reads the store: :class:`StoreError` with one line
    when there is no store yet (a SQLite file that does not exist is not created), it
    cannot be reached or it has no schema."""
    from worker.root import ready_engine

    path = sqlite_path(database_url)
    if path is not None and not path.exists():
        raise StoreError(f"no store at {path} yet: run `leadrouter db upgrade`")
    return ready_engine(database_url, schema=True)


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn the errors we expect (bad settings, unreachable store, a store without its
    schema...) into one line."""
    try:
        yield
    except (SettingsError, StoreError, FileNotFoundError, PermissionError) as exc:
        raise click.ClickException(str(exc)) from None
    except (OperationalError, ProgrammingError) as exc:
        if missing_table(exc):
            raise click.ClickException(NO_SCHEMA) from None
        text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise click.ClickException(
            f"the store failed: {text[0] if text else type(exc).__name__}"
        ) from None


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with clear_errors():
            return func(*args, **kwargs)

    return wrapper
