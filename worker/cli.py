"""The ``leadrouter`` command line.

Commands live in ``worker.commands.*`` and are imported only when used, so that
``leadrouter --help`` is fast and one broken optional part cannot break the others.
Every command turns expected failures into :class:`click.ClickException` (one clear
line, exit status 1), never a traceback.
"""

from __future__ import annotations

import importlib
import logging

import click

from worker import __version__
from worker.files import restrict_umask

# name -> "module:attribute"; the order is the order shown by --help.
COMMANDS: dict[str, str] = {
    "demo": "worker.commands.demo:demo",
    "run": "worker.commands.run:run",
    "db": "worker.commands.db:db",
    "config": "worker.commands.config:config",
    "simulate": "worker.commands.simulate:simulate",
    "sandbox": "worker.commands.sandbox:sandbox",
    "dashboard": "worker.commands.dashboard:dashboard",
    "bench": "worker.commands.bench:bench",
    "soak": "worker.commands.soak:soak",
    "purge": "worker.commands.purge:purge",
    "notify": "worker.commands.notify:notify",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use.

    A command whose module does not exist (yet) is left out of the listing rather
    than breaking every other command.
    """

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lazy = lazy

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
        module_name, attr = self._lazy[name].split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
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
