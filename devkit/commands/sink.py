"""``leadrouter notify sink``: the demo's local SMTP server and webhook receiver."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from worker.commands._common import one_line_errors


@click.command("sink")
@click.option(
    "--state-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for outbox.log (everything received, one JSON object per line).",
)
@click.option("--smtp-port", default=8025, show_default=True, help="SMTP port (0: any free).")
@click.option(
    "--http-port", default=8026, show_default=True, help="Webhook/page port (0: any free)."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--secret-env",
    default=None,
    help="Environment variable holding the webhook HMAC secret; signatures are then checked.",
)
@one_line_errors
def sink_cmd(
    state_dir: Path, smtp_port: int, http_port: int, host: str, secret_env: str | None
) -> None:
    """Run a local SMTP server and webhook receiver that record what they get (demo)."""
    from devkit.sink import Sink

    secret = None
    if secret_env:
        if not os.environ.get(secret_env):
            raise click.ClickException(f"--secret-env: variable {secret_env} is not set")
        secret = os.environ[secret_env].encode()
    try:
        sink = Sink(
            state_dir, host=host, smtp_port=smtp_port, http_port=http_port, secret=secret
        ).start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}: {exc.strerror or exc}") from None
    click.echo(f"SMTP sink     smtp://{host}:{sink.smtp_port}  (LEADROUTER_SMTP_STARTTLS=false)")
    click.echo(f"webhooks      http://{host}:{sink.http_port}/<anything>")
    click.echo(f"what was sent http://{host}:{sink.http_port}/  and  {state_dir / 'outbox.log'}")
    stop = threading.Event()

    def _stop(_sig: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()
        click.echo("sink stopped")
