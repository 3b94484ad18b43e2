"""The account mirror against the sandbox org over HTTPS, on SQLite and PostgreSQL:
account matching at any org size (the store holds the accounts), the full pass paged
over cycles and resumed after a crash, changes by ``SystemModstamp``, deletions by sObject
Get Deleted (merges included; past the retention window a new full pass), and owners
deactivated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from devkit.sandbox.harness import SandboxHandle
from tests.integration.test_account_index_property import check_derived_tables
from tests.integration.worker.conftest import MIRROR_CONFIG, REPS, sandbox_env
from worker.bootstrap import App, build_app
from worker.jobs.accounts import AccountSync
from worker.jobs.intake import run_cycle
from worker.settings import load_settings
from worker.store import accounts_repo
from worker.store.db import make_engine, session_scope, upgrade
from worker.store.models import JournalRow, MirroredAccount

pytestmark = pytest.mark.integration


def _lead(sf: Any, queue: str, company: str, **fields: object) -> str:
    body = {"LastName": "Meyer", "Company": company, "OwnerId": queue} | fields
    return str(sf.Lead.create(body)["id"])


def _decision(app: App, lead_id: str) -> JournalRow:
    with Session(app.deps.engine) as s:
        return s.exec(select(JournalRow).where(JournalRow.lead_id == lead_id)).one()


def test_why_an_org_above_the_old_in_memory_threshold_still_matches_fuzzy_names_corroborated(
    sandbox: SandboxHandle, sf_client: Any, mirror_app: App
) -> None:
    """250,000 accounts used to switch matching to exact ``Name =`` queries without
    country or phone: a near-identical name corroborated by country or phone found no
    account and the lead went to the round-robin instead of the account's owner."""
    admin = sandbox.admin()
    queue = admin.intake_queue_id()
    owner = admin.user_ids()[REPS[2]]
    sf_client.Account.create({"Name": "Globex Industrials Corp", "BillingCountry": "Germany",
                              "OwnerId": owner})  # fmt: skip
    sf_client.Account.create({"Name": "Initrode Logistic Systems GmbH", "Phone": "+49 30 1234567",
                              "OwnerId": owner})  # fmt: skip
    by_country = _lead(sf_client, queue, "Globex Industrial, Inc.", Email="ana@gmail.com",
                       Country="DE")  # fmt: skip
    by_phone = _lead(sf_client, queue, "Initrode Logistics Systems", Email="bo@yahoo.com",
                     Phone="+49 (30) 123-4567")  # fmt: skip
    app = mirror_app
    app.deps.gateway.count_accounts = lambda: 250_000  # type: ignore[method-assign]
    run_cycle(app.deps)
    for lead_id, why in ((by_country, "country"), (by_phone, "phone")):
        row = _decision(app, lead_id)
        assert row.method == "account_owner", (why, row.reason)
        assert row.owner_id == owner
        assert f"same {why}" in row.trace


def _mirror(engine: Any) -> dict[str, MirroredAccount]:
    with Session(engine) as s:
        return {a.id: a for a in s.exec(select(MirroredAccount)).all()}


def _org_accounts(sandbox: SandboxHandle) -> dict[str, dict[str, Any]]:
    return {r["Id"]: r for r in sandbox.admin().org.store.rows("Account")}


def _same_as_org(app: App, sandbox: SandboxHandle) -> None:
    mirror, org = _mirror(app.deps.engine), _org_accounts(sandbox)
    assert mirror.keys() == org.keys()
    for i, row in org.items():
        assert (mirror[i].name, mirror[i].website, mirror[i].owner_id, mirror[i].country) == (
            row["Name"], row["Website"], row["OwnerId"], row["BillingCountry"]
        )  # fmt: skip


def _steps(sync: AccountSync, app: App, now: datetime, n: int) -> list[Any]:
    return [sync.step(app.deps.engine, app.deps.gateway, now) for _ in range(n)]


def test_the_full_pass_is_paged_over_cycles_and_says_the_mirror_is_incomplete_meanwhile(
    sandbox: SandboxHandle, mirror_app: App, clock: list[datetime]
) -> None:
    app = mirror_app
    sync = AccountSync(page=120, pages_per_cycle=1)
    first = sync.step(app.deps.engine, app.deps.gateway, clock[0])
    assert (first.phase, first.read, first.complete) == ("full", 120, False)
    with session_scope(app.deps.engine) as s:
        note = accounts_repo.status(s).note()
    assert "still loading (120 of about 300 accounts)" in note
    reports = _steps(sync, app, clock[0], 2)
    assert [r.read for r in reports] == [120, 60]
    assert reports[-1].complete
    _same_as_org(app, sandbox)


def test_changes_and_deletions_reach_the_mirror_and_a_merge_removes_the_losers(
    sandbox: SandboxHandle, sf_client: Any, mirror_app: App, clock: list[datetime]
) -> None:
    app = mirror_app
    sync = AccountSync(delta_every=0)
    _steps(sync, app, clock[0], 2)  # the full pass, then the deltas from before it began
    ids = sorted(_org_accounts(sandbox))
    clock[0] += timedelta(seconds=30)
    sf_client.Account.update(ids[0], {"Name": "Renamed Holdings", "BillingCountry": "France"})
    sf_client.Account.delete(ids[1])
    new = sf_client.Account.create({"Name": "Brand New Co", "Website": "brand-new.co.uk"})["id"]
    sandbox.admin().merge_accounts(ids[2], [ids[3], ids[4]])
    clock[0] += timedelta(minutes=2)  # Get Deleted covers whole minutes up to now
    _steps(sync, app, clock[0], 1)
    mirror = _mirror(app.deps.engine)
    assert mirror[ids[0]].name == "Renamed Holdings" and mirror[ids[0]].country == "France"
    assert mirror[ids[0]].name_key == "renamed"
    assert mirror[new].domain == "brand-new.co.uk"
    assert not {ids[1], ids[3], ids[4]} & mirror.keys()
    _same_as_org(app, sandbox)
    with Session(app.deps.engine) as s:  # the name's fuzzy blocks moved with it
        assert accounts_repo.name_blocks(s, ["renamed"]) == {"renamed": (["renamed"], ["renamed"])}


def test_a_crash_mid_pass_resumes_at_the_last_committed_page(
    sandbox: SandboxHandle, mirror_app: App, clock: list[datetime]
) -> None:
    app = mirror_app
    real = app.deps.gateway.accounts_page
    calls = 0

    def dies_on_the_third_page(after_id: str | None, limit: int) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt  # the process dies between pages
        return real(after_id, limit)

    app.deps.gateway.accounts_page = dies_on_the_third_page  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        AccountSync(page=100, pages_per_cycle=10).step(app.deps.engine, app.deps.gateway, clock[0])
    assert len(_mirror(app.deps.engine)) == 200
    app.deps.gateway.accounts_page = real  # type: ignore[method-assign]
    seen: list[str | None] = []

    def recording(after_id: str | None, limit: int) -> Any:
        seen.append(after_id)
        return real(after_id, limit)

    app.deps.gateway.accounts_page = recording  # type: ignore[method-assign]
    report = AccountSync(page=100, pages_per_cycle=10).step(  # a new process
        app.deps.engine, app.deps.gateway, clock[0]
    )
    assert report.complete and seen[0] == sorted(_org_accounts(sandbox))[199]
    _same_as_org(app, sandbox)


def test_deletions_past_what_salesforce_keeps_start_a_new_full_pass_that_drops_them(
    sandbox: SandboxHandle, sf_client: Any, mirror_app: App, clock: list[datetime]
) -> None:
    app = mirror_app
    sync = AccountSync(delta_every=0)
    _steps(sync, app, clock[0], 2)
    gone = sorted(_org_accounts(sandbox))[7]
    clock[0] += timedelta(minutes=1)
    sf_client.Account.delete(gone)
    assert sandbox.admin().purge_deleted("Account") == 1  # the Recycle Bin emptied
    clock[0] += timedelta(minutes=3)
    report = sync.step(app.deps.engine, app.deps.gateway, clock[0])
    assert report.phase == "delta"  # Get Deleted refused the span: a full pass began
    with Session(app.deps.engine) as s:
        row = accounts_repo.sync_state(s)
    assert (row.phase, row.generation, row.complete) == ("full", 2, True)
    assert gone in _mirror(app.deps.engine)  # still there while the pass runs
    final = sync.step(app.deps.engine, app.deps.gateway, clock[0])
    assert final.phase == "full" and final.deleted == 1
    _same_as_org(app, sandbox)


def test_an_owner_deactivated_in_salesforce_marks_their_accounts(
    sandbox: SandboxHandle, mirror_app: App, clock: list[datetime]
) -> None:
    app = mirror_app
    sync = AccountSync(delta_every=0)
    _steps(sync, app, clock[0], 2)
    org = _org_accounts(sandbox)
    owner = next(r["OwnerId"] for r in org.values() if r["OwnerId"])
    clock[0] += timedelta(minutes=1)
    sandbox.admin().deactivate_user(owner)
    clock[0] += timedelta(minutes=2)
    _steps(sync, app, clock[0], 1)
    mirror = _mirror(app.deps.engine)
    assert any(a.owner_id == owner for a in mirror.values())
    users = {r["Id"]: bool(r["IsActive"]) for r in sandbox.admin().org.store.rows("User")}
    assert {i: a.owner_active for i, a in mirror.items()} == {
        i: users[a.owner_id] for i, a in mirror.items() if a.owner_id
    }


def test_get_deleted_answers_as_documented(
    sandbox: SandboxHandle, sf_client: Any, clock: list[datetime]
) -> None:
    victim = sorted(_org_accounts(sandbox))[0]
    clock[0] = clock[0].replace(second=30)
    sf_client.Account.delete(victim)
    deleted_at = clock[0]
    clock[0] += timedelta(minutes=5)
    start = (deleted_at - timedelta(minutes=2)).isoformat()
    end = clock[0].isoformat()
    answer = sf_client.restful("sobjects/Account/deleted/", params={"start": start, "end": end})
    assert answer["deletedRecords"] == [
        {"id": victim, "deletedDate": deleted_at.strftime("%Y-%m-%dT%H:%M:%S.000+0000")}
    ]
    assert answer["latestDateCovered"] == clock[0].strftime("%Y-%m-%dT%H:%M:00.000+0000")
    assert answer["earliestDateAvailable"] <= start.replace("+00:00", ".000+0000")
    too_short = {"start": end, "end": (clock[0] + timedelta(seconds=50)).isoformat()}
    with pytest.raises(Exception) as refused:
        sf_client.restful("sobjects/Account/deleted/", params=too_short)
    assert json.dumps(getattr(refused.value, "content", "")).count("INVALID_REPLICATION_DATE")
    long_ago = {"start": (clock[0] - timedelta(days=20)).isoformat(), "end": end}
    with pytest.raises(Exception) as old:
        sf_client.restful("sobjects/Account/deleted/", params=long_ago)
    assert "INVALID_REPLICATION_DATE" in json.dumps(getattr(old.value, "content", ""))


SYNC_LOOP = """
from datetime import UTC, datetime

from worker.bootstrap import build_app
from worker.jobs.accounts import AccountSync
from worker.settings import load_settings

app = build_app(load_settings())
sync = AccountSync(page=20, pages_per_cycle=1)
while True:
    report = sync.step(app.deps.engine, app.deps.gateway, datetime.now(UTC))
    print(report.read, report.complete, flush=True)
    if report.complete:
        break
"""


@pytest.mark.slow
def test_kill_9_during_the_full_pass_then_a_restart_ends_with_the_org_mirrored(
    sandbox: SandboxHandle, sqlite_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "routing.yaml"
    config.write_text(MIRROR_CONFIG)
    upgrade(sqlite_url)
    env = {**os.environ, **sandbox_env(sandbox, sqlite_url, config)}
    first = subprocess.Popen([sys.executable, "-c", SYNC_LOOP], env=env, stdout=subprocess.PIPE)
    assert first.stdout is not None
    for _ in range(4):  # four pages of 20 committed (the fifth may be mid-transaction)
        assert first.stdout.readline().split()[0] == b"20"
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    with Session(make_engine(sqlite_url)) as s:
        loaded = accounts_repo.count(s)
        assert 80 <= loaded < 300 and not accounts_repo.status(s).complete
    done = subprocess.run([sys.executable, "-c", SYNC_LOOP], env=env, capture_output=True,
                          timeout=120, check=True)  # fmt: skip
    assert sum(int(line.split()[0]) for line in done.stdout.splitlines()) == 300 - loaded
    app = build_app(load_settings(**{k.removeprefix("LEADROUTER_").lower(): v
                                     for k, v in sandbox_env(sandbox, sqlite_url, config).items()}))  # fmt: skip
    _same_as_org(app, sandbox)
    with Session(app.deps.engine) as s:
        check_derived_tables(s)
