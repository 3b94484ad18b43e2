"""The account mirror starts a new full pass when Get Deleted cannot answer for the span
since its last call (the gateway's ReplicationWindowExceeded)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.unit.jobs.fakes import T0, FakeGateway
from worker.jobs.accounts import AccountSync
from worker.sfdc.errors import ReplicationWindowExceeded
from worker.sfdc.mapping import DeletedRecords
from worker.store import accounts_repo as repo
from worker.store.db import make_engine, session_scope, upgrade


class ForgetfulOrg(FakeGateway):
    """An org whose Recycle Bin was emptied: Get Deleted refuses every span."""

    def deleted_accounts(self, start: datetime, end: datetime) -> DeletedRecords:
        raise ReplicationWindowExceeded(
            "Salesforce answered 400", status=400, error_code="INVALID_REPLICATION_DATE"
        )


def test_deletions_out_of_reach_begin_a_new_full_pass(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    sync = AccountSync(delta_every=0)
    assert sync.step(engine, ForgetfulOrg(), T0).complete  # an empty org: loaded at once
    with session_scope(engine) as s:
        assert (repo.sync_state(s).phase, repo.sync_state(s).generation) == ("delta", 1)

    report = sync.step(engine, ForgetfulOrg(), T0 + timedelta(minutes=30))

    with session_scope(engine) as s:
        row = repo.sync_state(s)
        assert (row.phase, row.generation) == ("full", 2)
    assert report.phase == "delta"  # the cycle that found out; the next one re-reads all
