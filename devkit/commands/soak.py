"""``leadrouter soak``: the worker under chaos against a sandbox org, then a verdict.

The logic lives in :mod:`devkit.soak`; this is the command line around it.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from worker.commands._common import one_line_errors


@click.command()
@click.option("--profile", "profile_name", type=click.Choice(["quick", "long"]), default="quick",
              show_default=True, help="quick: CI-sized (~1.5 min); long: 100,000 leads.")  # fmt: skip
@click.option("--leads", type=int, default=None, help="Leads to create (profile's by default).")
@click.option("--rate", type=float, default=None, help="New leads per second.")
@click.option("--fault-rate", type=float, default=None, help="Share of API requests that fail.")
@click.option("--kills", type=int, default=None, help="SIGKILLs of the active worker.")
@click.option("--workers", type=int, default=None, help="1, or 2 on PostgreSQL (failover).")
@click.option("--database-url", default=None,
              help="An EMPTY store (default: a fresh SQLite file in a temporary folder).")  # fmt: skip
@click.option("--seed", type=int, default=None, help="Seed of the org, the people and the chaos.")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the org, logs and SQLite store in this folder.")  # fmt: skip
@click.option("--conditional-writes/--unconditional-writes", "conditional", default=None,
              help="Owner writes with If-Unmodified-Since (writeback.conditional, the "
                   "default), or the opt-out without a precondition.")  # fmt: skip
@click.option("--latency", default=None, metavar="none|real|FILE",
              help="The sandbox's latency profile (default none).")  # fmt: skip
@click.option("--intake", type=click.Choice(["poll", "subscribe"]), default="poll",
              show_default=True,
              help="The workers' intake mode: poll, or subscribe (change events over the "
                   "sandbox's Pub/Sub API, with gap, overflow and dropped-stream faults).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@one_line_errors
def soak(profile_name: str, leads: int | None, rate: float | None, fault_rate: float | None,
         kills: int | None, workers: int | None, database_url: str | None, seed: int | None,
         keep: Path | None, conditional: bool | None, latency: str | None, intake: str,
         as_json: bool) -> None:  # fmt: skip
    """Run the worker(s) against a sandbox org under faults, kills and busy people;
    check every lead against the journal. Exit status 1 when an invariant fails."""
    from devkit.soak.profile import resolve

    try:
        profile = resolve(profile_name, leads=leads, rate=rate, fault_rate=fault_rate,
                          kills=kills, workers=workers, seed=seed,
                          conditional=conditional, latency=_latency(latency),
                          intake=intake)  # fmt: skip
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    url = _database_url(database_url, profile.workers)
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        result = _run(profile, keep, url)
    else:
        with tempfile.TemporaryDirectory(prefix="leadrouter-soak-") as tmp:
            result = _run(profile, Path(tmp), url)
    if as_json:
        click.echo(json.dumps(result))
    else:
        from devkit.soak.report import text_lines

        click.echo("\n".join(text_lines(result)))
    failures = result["failures"]
    if isinstance(failures, list) and failures:
        raise click.ClickException("soak failed: " + "; ".join(map(str, failures)))


def _latency(spec: str | None) -> str | None:
    """The profile checked here (a mistake stops the soak before any process starts);
    a file's absolute path, as the sandbox runs in another folder."""
    if spec is None or spec in ("none", "real"):
        return spec
    from devkit.sandbox.latency import LatencyProfile

    LatencyProfile.load(spec)
    return str(Path(spec).resolve())


def _database_url(given: str | None, workers: int) -> str | None:
    if given is None:
        if workers > 1:
            raise click.ClickException(
                "--workers 2 needs --database-url postgresql+psycopg://... (SQLite allows one worker)"
            )
        return None
    if given.startswith("postgresql://") or given.startswith("postgres://"):
        given = "postgresql+psycopg://" + given.split("://", 1)[1]
    if given.startswith("sqlite") and workers > 1:
        raise click.ClickException("--workers 2 needs PostgreSQL: SQLite allows one worker")
    return given


def _run(profile: object, folder: Path, url: str | None) -> dict[str, object]:
    from sqlalchemy.engine import make_url

    from devkit.soak.campaign import SoakError, run_campaign
    from devkit.soak.profile import Profile
    from devkit.soak.report import summary
    from devkit.soak.verdict import judge

    assert isinstance(profile, Profile)
    database_url = url or f"sqlite:///{folder / 'soak.db'}"
    try:
        run = run_campaign(profile, folder, database_url, lambda text: click.echo(text, err=True))
    except SoakError as exc:
        raise click.ClickException(str(exc)) from None
    return summary(profile, run, judge(run.evidence), make_url(database_url).get_backend_name())
