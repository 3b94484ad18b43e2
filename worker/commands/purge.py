"""``leadrouter purge``: erase personal data now.

``--lead ID`` (repeatable) answers a data-subject deletion request: every stored trace of
the lead's personal data goes (journal snapshot, lead values quoted in traces, reasons and
errors, its notifications), while the non-personal audit facts stay (decision id, rep,
pool, rule, status, times), so fairness counts do not move. ``--expired`` runs the daily
retention purge now (``retention_days`` of the routing config, default 90). Both are
idempotent; ``--dry-run`` counts and rolls back. Output names lead Ids and counts only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from sqlalchemy.engine import Engine
from sqlmodel import Session

from worker.commands._common import one_line_errors, settings_or_exit, store_engine
from worker.notify.outbox import purge_lead_messages, purge_outbox_in
from worker.sfdc.ids import MalformedId, normalise  # pure: the Id checksum
from worker.store import privacy


def erase_lead(session: Session, lead: str) -> privacy.PurgeCounts:
    """Everything one deletion request changes, in the caller's transaction."""
    found = privacy.lead_traces(session, lead)
    counts = privacy.scrub_lead(session, lead, found)
    counts.add("notification_outbox", purge_lead_messages(session, lead, found.decision_ids))
    return counts


def erase_expired(session: Session, cutoff: datetime) -> privacy.PurgeCounts:
    """The retention purge (what the worker's daily job does), in one transaction."""
    counts = privacy.scrub_expired(session, cutoff)
    counts.add("notification_outbox", purge_outbox_in(session, cutoff))
    return counts


def lead_id(value: str) -> str:
    """The canonical 18-character Lead Id of ``value`` (15 or 18 characters), or a
    ClickException saying what is wrong with it."""
    text = value.strip()
    try:
        canonical = normalise(text)
    except MalformedId:
        raise click.ClickException(
            f"--lead {value!r} is not a Salesforce Id (15 or 18 letters and digits, "
            "with a valid 3-letter checksum when 18)"
        ) from None
    if not canonical.startswith("00Q"):
        raise click.ClickException(f"--lead {value!r} is not a Lead Id (they start with 00Q)")
    return canonical


def _retention_days() -> int:
    from worker.routing_config import ConfigError, load_config

    path = settings_or_exit().routing_config
    try:
        return load_config(path).retention_days
    except ConfigError as exc:
        first = str(exc).strip().splitlines()[0]
        raise click.ClickException(f"{first} (run `leadrouter config check`)") from None


def _engine() -> Engine:
    return store_engine(settings_or_exit().database_url)  # creates no SQLite file


def _line(label: str, counts: privacy.PurgeCounts, dry_run: bool) -> str:
    verb = "would change" if dry_run else "changed"
    listed = ", ".join(f"{table} {n}" for table, n in sorted(counts.tables.items()))
    return f"{label}: {verb} {listed}" + ("" if counts.total else " (nothing left to erase)")


@click.command()
@click.option("--lead", "leads", multiple=True, metavar="ID",
              help="Salesforce Lead Id (15 or 18 characters); repeat for several leads.")  # fmt: skip
@click.option("--expired", is_flag=True,
              help="Run the retention purge now (retention_days of the routing config).")  # fmt: skip
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Count what would change; change nothing.")
@one_line_errors
def purge(leads: tuple[str, ...], expired: bool, yes: bool, dry_run: bool) -> None:
    """Erase lead personal data: a deletion request (--lead) or the retention purge now
    (--expired). Decisions stay for the audit, without the lead's name, e-mail, company."""
    if not leads and not expired:
        raise click.UsageError("give --lead ID (a deletion request) or --expired (retention)")
    ids = list(dict.fromkeys(lead_id(v) for v in leads))
    days = _retention_days() if expired else 0
    engine = _engine()
    what = [f"{len(ids)} lead(s)"] * bool(ids) + [f"data older than {days} days"] * expired
    if not (yes or dry_run):
        click.confirm(f"Erase personal data of {' and '.join(what)}?", abort=True)
    with Session(engine) as session:
        for lead in ids:
            click.echo(_line(lead, erase_lead(session, lead), dry_run))
        if expired:
            cutoff = datetime.now(UTC) - timedelta(days=days)
            click.echo(_line(f"older than {days} days", erase_expired(session, cutoff), dry_run))
        if dry_run:
            session.rollback()
        else:
            session.commit()
    engine.dispose()
