"""Helpers shared by the CLI commands: settings loading and one-line errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

import click

from worker.settings import Settings, SettingsError, load_settings
from worker.store.db import StoreError

P = ParamSpec("P")
R = TypeVar("R")


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn the errors we expect (bad settings, unreachable store...) into one line."""
    try:
        yield
    except (SettingsError, StoreError, FileNotFoundError, PermissionError) as exc:
        raise click.ClickException(str(exc)) from None


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with clear_errors():
            return func(*args, **kwargs)

    return wrapper
