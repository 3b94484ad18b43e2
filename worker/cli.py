"""The ``leadrouter`` command line.

The product's commands live in ``worker.commands.*``; more come from the entry points of
the ``leadrouter.commands`` group (the test rig's ``demo``, ``sandbox``, ``bench``,
``soak``, ``notify sink`` and ``dashboard fake-data``, installed with the ``devkit``
extra): a dotted name such as ``notify.sink`` adds a subcommand to a group. Every command
is imported only when used, so that ``leadrouter --help`` is fast and one broken optional
part cannot break the others; a command whose libraries are not installed is left out.
Every command turns expected failures into :class:`click.ClickException` (one clear
line, exit status 1), never a traceback.
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points

import click

from worker import __version__
from worker.files import restrict_umask

# name -> "module:attribute"; the order is the order shown by --help.
COMMANDS: dict[str, str] = {
    "run": "worker.commands.run:run",
    "db": "worker.commands.db:db",
    "config": "worker.commands.config:config",
    "simulate": "worker.commands.simulate:simulate",
    "doctor": "worker.commands.doctor:doctor",
    "dashboard": "worker.commands.dashboard:dashboard",
    "purge": "worker.commands.purge:purge",
    "notify": "worker.commands.notify:notify",
}
PLUGINS = "leadrouter.commands"  # entry-point group of further commands


def plugin_commands() -> dict[str, str]:
    """Entry points of :data:`PLUGINS`: name (``group.sub`` for a subcommand) -> target."""
    return {ep.name: ep.value for ep in entry_points(group=PLUGINS)}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use.

    A command whose module does not exist (yet) is left out of the listing rather
    than breaking every other command.
    """

    def __init__(
        self, *args: object, lazy: dict[str, str], plugins: bool = False, **kwargs: object
    ) -> None:
        """``plugins``: also the commands of the :data:`PLUGINS` entry points (the root)."""
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        found = plugin_commands() if plugins else {}
        self._optional = {n: t for n, t in found.items() if "." not in n}
        self._lazy = self._optional | lazy
        self._subs = {n: t for n, t in found.items() if "." in n}

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = [n for n in self._lazy if self._load(n) is not None]
        return names + sorted(super().list_commands(ctx))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            return self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list with each command's first sentence in full (click cuts it at
        ~45 characters with "..."); long lines wrap instead."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=200)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def _load(self, name: str) -> click.Command | None:
        command = _import(self._lazy[name], optional=name in self._optional)
        if isinstance(command, click.Group):
            for sub, target in self._subs.items():
                group, _, sub_name = sub.partition(".")
                if group == name and sub_name not in command.commands:
                    found = _import(target, optional=True)
                    if found is not None:
                        command.add_command(found, sub_name)
        return command


def _import(target: str, *, optional: bool) -> click.Command | None:
    """The command at ``module:attribute``; None when its module is missing, or (an
    ``optional`` command, from an extra) any library it needs is not installed."""
    module_name, attr = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name or optional:
            return None
        raise
    command = getattr(module, attr)
    assert isinstance(command, click.Command)
    return command


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    plugins=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="leadrouter")
def cli() -> None:
    """leadrouter: fair, explainable lead routing for Salesforce."""


def main() -> None:
    """Console-script entry point."""
    restrict_umask()  # stores, logs, keys and credentials: owner-only (worker.files)
    logging.captureWarnings(True)
    cli()
