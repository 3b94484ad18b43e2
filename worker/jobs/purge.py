"""Retention: blank lead snapshots older than the config's ``retention_days``."""

from __future__ import annotations

import logging
from datetime import timedelta

from worker.jobs.deps import Deps
from worker.store import journal_repo
from worker.store.db import session_scope

log = logging.getLogger("leadrouter.purge")


def run_purge(deps: Deps) -> int:
    with session_scope(deps.engine) as s:
        config = deps.config(s)
        cutoff = deps.now() - timedelta(days=config.retention_days)
        count = journal_repo.scrub_before(s, cutoff)
    log.info(
        "retention: blanked lead details of %d decisions older than %d days",
        count,
        config.retention_days,
    )
    return count
