"""Retention: blank lead snapshots older than the config's ``retention_days``."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col

from worker.jobs.deps import Deps
from worker.notify.outbox import purge_outbox
from worker.store import journal_repo
from worker.store.db import session_scope
from worker.store.models import ApiUsage

log = logging.getLogger("leadrouter.purge")


def run_purge(deps: Deps) -> int:
    with session_scope(deps.engine) as s:
        config = deps.config(s)
        cutoff = deps.now() - timedelta(days=config.retention_days)
        count = journal_repo.scrub_before(s, cutoff)
        s.execute(delete(ApiUsage).where(col(ApiUsage.at) < cutoff))
    purged = purge_outbox(deps.engine, cutoff)
    log.info(
        "retention: blanked lead details of %d decisions, purged %d notifications older than %d days",
        count,
        purged,
        config.retention_days,
    )
    return count
