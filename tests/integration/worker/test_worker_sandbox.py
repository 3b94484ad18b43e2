"""``run_cycle`` and ``leadrouter run --once`` against the sandbox org over HTTPS."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from devkit.sandbox.faults import FaultConfig
from devkit.sandbox.harness import SandboxHandle
from tests.integration.worker.conftest import MANAGER, check_invariants, journal, sandbox_env
from worker.bootstrap import App
from worker.jobs.intake import run_cycle
from worker.jobs.sla import run_sla_sweep

pytestmark = pytest.mark.integration


def test_routes_intake_leads_and_the_journal_matches_salesforce(
    sandbox: SandboxHandle, make_app: Callable[[], App]
) -> None:
    sandbox.admin().create_leads(250)
    app = make_app()
    report = run_cycle(app.deps)
    assert report.applied == 250
    assert check_invariants(app, sandbox) == {"applied": 250}
    lead = sandbox.admin().leads()[0]
    assert lead["Routing_Reason__c"]  # the configured audit field is written too
    # 1 page, a context query per 200, 10 Composite calls of 25 conditional writes, and
    # 1 owner re-read (2 when the leads were re-read in the second they were created)
    assert report.api_calls <= 16


def test_a_human_change_between_read_and_write_is_never_overwritten(
    sandbox: SandboxHandle, make_app: Callable[[], App]
) -> None:
    admin = sandbox.admin()
    ids = admin.create_leads(40)
    human = admin.user_ids()[MANAGER]
    app = make_app()
    real = app.deps.gateway.current_owners
    taken = dict.fromkeys(ids[::8], human)

    def human_first(lead_ids):  # type: ignore[no-untyped-def]
        for lead_id in taken:
            admin.change_owner(lead_id, human)
        app.deps.gateway.current_owners = real  # type: ignore[method-assign]
        return real(lead_ids)

    app.deps.gateway.current_owners = human_first  # type: ignore[method-assign]
    report = run_cycle(app.deps)
    assert report.skipped == len(taken)
    check_invariants(app, sandbox, humans=taken)
    skipped = [r for r in journal(app) if r.status == "skipped"]
    assert {r.error for r in skipped} == {"owner changed by someone else"}


def test_5000_leads_with_20_percent_faults_end_with_exactly_one_owner_each(
    sandbox: SandboxHandle, make_app: Callable[[], App]
) -> None:
    admin = sandbox.admin()
    admin.create_leads(5_000)
    admin.set_faults(FaultConfig.uniform(0.20, slow_seconds=0.05, seed=5).to_dict())
    app = make_app()
    human = admin.user_ids()[MANAGER]
    queue = admin.intake_queue_id()
    humans: dict[str, str] = {}
    real = app.deps.gateway.current_owners
    calls = 0

    def humans_meanwhile(lead_ids):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls in (1, 3):  # mid-cycle: humans take leads of the page being written
            for lead_id in list(lead_ids)[::40]:
                if admin.get_lead(lead_id)["OwnerId"] == queue:
                    admin.change_owner(lead_id, human)
                    humans[lead_id] = human
        return real(lead_ids)

    app.deps.gateway.current_owners = humans_meanwhile  # type: ignore[method-assign]
    started = time.monotonic()
    for cycle in range(40):
        report = run_cycle(app.deps)
        if report.read == 0 and report.left_pending == 0 and cycle > 0:
            break
    counts = admin.fault_counts()
    admin.set_faults({})
    run_cycle(app.deps)  # one clean cycle: reconcile whatever the last faults left
    elapsed = time.monotonic() - started
    statuses = check_invariants(app, sandbox, humans=humans)
    # one owner re-read per page means fewer requests to hit: still plenty of faults
    assert sum(counts.values()) > 50 and sum(1 for n in counts.values() if n) >= 4, counts
    assert humans and statuses["skipped"] >= len(humans) > 0
    assert statuses["applied"] == 5_000 - statuses["skipped"]
    print(f"5000 leads, faults {counts}, {elapsed:.1f}s, journal {dict(statuses)}")


def test_untouched_leads_move_after_the_sla_and_touched_ones_stay(
    sandbox: SandboxHandle, make_app: Callable[[], App]
) -> None:
    admin = sandbox.admin()
    ids = admin.create_leads(6)
    app = make_app()
    run_cycle(app.deps)
    first = {r.lead_id: r.owner_id for r in journal(app)}
    admin.log_task(ids[0])
    admin.set_lead_status(ids[1], "Working - Contacted")
    real_now = app.deps.now
    app.deps.now = lambda: real_now() + timedelta(minutes=11)
    report = run_sla_sweep(app.deps)
    assert (report.touched, report.moved, report.applied) == (2, 4, 4)
    owners = {lead["Id"]: lead["OwnerId"] for lead in admin.leads()}
    assert all(owners[i] == first[i] for i in ids[:2])
    assert all(owners[i] not in (first[i], admin.intake_queue_id()) for i in ids[2:])
    app.deps.now = lambda: real_now() + timedelta(minutes=23)
    assert run_sla_sweep(app.deps).escalated == 4
    manager = admin.user_ids()[MANAGER]
    assert all(lead["OwnerId"] == manager for lead in admin.leads() if lead["Id"] in ids[2:])
    kinds = [r.kind for r in journal(app) if r.lead_id == ids[2]]
    assert kinds == ["route", "sla_reassign", "escalate"]
    touched = [r for r in journal(app) if r.lead_id in ids[:2]]
    assert all(r.first_touch_at is not None for r in touched)


def test_run_once_cli_routes_and_exits(
    sandbox: SandboxHandle, sqlite_url: str, routing_config: Path
) -> None:
    sandbox.admin().create_leads(30)
    env = {**os.environ, **sandbox_env(sandbox, sqlite_url, routing_config)}
    done = subprocess.run(
        [sys.executable, "-m", "worker", "run", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "applied 30" in done.stdout
    queue = sandbox.admin().intake_queue_id()
    assert all(lead["OwnerId"] != queue for lead in sandbox.admin().leads())


def test_absurd_leads_are_routed_or_held_with_a_reason_and_never_stop_a_cycle(
    sandbox: SandboxHandle, make_app: Callable[[], App], sf_client: Any
) -> None:
    queue = sandbox.admin().intake_queue_id()
    odd = [
        {"LastName": "Ünïcødé 李", "Company": "x' OR Name LIKE '%", "Email": "a'b@例え.jp"},
        {"LastName": "NoEmail", "Company": "\\' ; DROP TABLE Lead; --", "Country": "🏳️‍🌈"},
        {
            "LastName": "Big",
            "Company": "Z" * 255,
            "Website": "http://[::1",
            "NumberOfEmployees": 2_000_000_000,
        },
        {"LastName": "Blank", "Company": " ", "State": "%_%", "PostalCode": "'"},
    ]
    for fields in odd:
        sf_client.Lead.create({**fields, "OwnerId": queue})
    app = make_app()
    report = run_cycle(app.deps)
    assert report.decided == len(odd)
    rows = journal(app)
    assert all(r.status in {"applied", "held", "skipped"} and r.reason for r in rows)
    check_invariants(app, sandbox)


def test_a_second_worker_on_the_same_sqlite_file_is_refused_clearly(
    sandbox: SandboxHandle, sqlite_url: str, routing_config: Path
) -> None:
    env = {**os.environ, **sandbox_env(sandbox, sqlite_url, routing_config)}
    first = subprocess.Popen([sys.executable, "-m", "worker", "run"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        lock = Path(sqlite_url.removeprefix("sqlite:///") + ".lock")
        deadline = time.monotonic() + 30
        while (
            not (lock.exists() and lock.read_text().startswith("pid"))
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        second = subprocess.run([sys.executable, "-m", "worker", "run", "--once"], env=env,
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert second.returncode == 1
        assert "SQLite supports a single worker" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        first.terminate()
        first.wait(20)


def test_org_assignment_rules_do_not_override_our_owner(
    sandbox: SandboxHandle, make_app: Callable[[], App]
) -> None:
    admin = sandbox.admin()
    manager = admin.user_ids()[MANAGER]
    admin.set_assignment_rule(on=True, owner_id=manager)  # fires unless Sforce-Auto-Assign: FALSE
    admin.create_leads(20)
    app = make_app()
    assert run_cycle(app.deps).applied == 20
    assert all(lead["OwnerId"] != manager for lead in admin.leads())
    check_invariants(app, sandbox)


def test_the_owner_reread_tells_our_write_from_a_persons_by_last_modified_by(
    sandbox: SandboxHandle, make_app: Callable[[], App]
) -> None:
    """After a crash, "owner is already our rep" is our write only if WE modified the lead
    last: the user of the token's identity URL, as Salesforce sets ``LastModifiedById``."""
    admin = sandbox.admin()
    ours, theirs = admin.create_leads(2)
    app = make_app()
    assert run_cycle(app.deps).applied == 2
    owners = app.deps.gateway.current_owners([ours, theirs])
    assert owners[ours].modified_by_us is owners[theirs].modified_by_us is True
    admin.change_owner(theirs, owners[theirs].owner_id, by=admin.user_ids()[MANAGER])
    owners = app.deps.gateway.current_owners([ours, theirs])
    assert (owners[ours].modified_by_us, owners[theirs].modified_by_us) == (True, False)


def _people_right_after_our_read(app: App, admin: Any, taken: dict[str, str]) -> None:
    """People re-own ``taken`` the moment our owner re-read's answer is in: after our
    check, before our PATCH (once: the re-reads that follow see them)."""
    real = app.deps.gateway.current_owners

    def read_then_people(lead_ids):  # type: ignore[no-untyped-def]
        owners = real(lead_ids)
        for lead_id, person in taken.items():
            admin.change_owner(lead_id, person)
        app.deps.gateway.current_owners = real  # type: ignore[method-assign]
        return owners

    app.deps.gateway.current_owners = read_then_people  # type: ignore[method-assign]


def _refused(app: App) -> float:
    value: float = app.deps.metrics.errors.labels(kind="PRECONDITION_FAILED")._value.get()
    return value


def test_by_default_a_person_who_takes_a_queued_lead_after_our_reread_keeps_it(
    sandbox: SandboxHandle, make_app: Callable[[], App]
) -> None:
    """Default settings: people take leads still in the intake queue AFTER our owner
    re-read, before our PATCH. Salesforce refuses our write (412: the lead changed since
    the re-read), the re-read that follows sees the person, and the lead is theirs."""
    admin = sandbox.admin()
    ids = admin.create_leads(60)
    human = admin.user_ids()[MANAGER]
    app = make_app()
    # a later second than the leads' creation, by more than a fresh connection's bound on
    # Salesforce's clock may lag (its first answers bound it only to the second): none is
    # held back for one, so the people's changes are refused (412), not seen by a re-read
    time.sleep(2.5)
    taken = dict.fromkeys(ids[::6], human)
    _people_right_after_our_read(app, admin, taken)
    report = run_cycle(app.deps)
    assert [i for i in taken if admin.get_lead(i)["OwnerId"] != human] == []
    check_invariants(app, sandbox, humans=taken)
    assert report.applied == 60 - len(taken) and report.skipped == len(taken)
    assert _refused(app) == len(taken)  # each of ours refused; the re-read saw the person
    changed = [r for r in journal(app) if r.error == "owner changed by someone else"]
    assert sorted(r.lead_id for r in changed) == sorted(taken)


def test_by_default_a_person_who_takes_a_lead_in_the_second_it_was_created_keeps_it(
    sandbox: SandboxHandle, make_app: Callable[[], App]
) -> None:
    """The same, with leads re-read at once, most likely in the second they were
    created: a person's change in that second would not move their stamps, so the
    precondition alone could not see it. Those leads are re-read once Salesforce's clock
    has left that second, well within a second, and the people's owners stand."""
    admin = sandbox.admin()
    human = admin.user_ids()[MANAGER]
    app = make_app()
    run_cycle(app.deps)  # signed in, caches warm: the next cycle starts at once
    ids = admin.create_leads(30)
    taken = dict.fromkeys(ids[::3], human)
    _people_right_after_our_read(app, admin, taken)
    waits: list[float] = []
    real_sleep = app.deps.sleep
    app.deps.sleep = lambda seconds: (waits.append(seconds), real_sleep(seconds))[1]
    report = run_cycle(app.deps)
    assert [i for i in taken if admin.get_lead(i)["OwnerId"] != human] == []
    check_invariants(app, sandbox, humans=taken)
    assert report.applied == 30 - len(taken) and report.skipped == len(taken)
    # a fraction of a second waited, not seconds (the waits, not the wall clock: the
    # machine may be busy)
    assert sum(waits) < 2.0, waits


def test_the_scheduled_worker_leaves_a_lead_of_this_second_pending_and_the_person_keeps_it(
    sandbox: SandboxHandle, make_app: Callable[[], App]
) -> None:
    """As the long-running worker runs (``Deps.settling`` on): leads re-read in the
    second they were created are left pending instead of holding the cycle, and the
    next cycle, when that second is over, writes them; the people's owners stand."""
    admin = sandbox.admin()
    human = admin.user_ids()[MANAGER]
    app = make_app()
    run_cycle(app.deps)
    app.deps.settling.enabled = True
    ids = admin.create_leads(30)
    taken = dict.fromkeys(ids[::3], human)
    _people_right_after_our_read(app, admin, taken)
    first = run_cycle(app.deps)
    at = app.deps.settling.due()
    if at is not None:  # (None: the re-read came in a later second already)
        time.sleep(max(0.0, at - time.monotonic()))
    second = run_cycle(app.deps)
    assert [i for i in taken if admin.get_lead(i)["OwnerId"] != human] == []
    check_invariants(app, sandbox, humans=taken)
    assert first.applied + second.applied == 30 - len(taken)
    assert first.skipped + second.skipped == len(taken)


def test_by_default_an_owned_lead_a_person_moves_during_our_sla_move_stays_theirs(
    sandbox: SandboxHandle, make_app: Callable[[], App]
) -> None:
    """An SLA hop writes over an owner of ours (a rep), not the queue: a person who
    moves the lead between our re-read and our PATCH keeps it just the same."""
    admin = sandbox.admin()
    ids = admin.create_leads(8)
    app = make_app()
    assert run_cycle(app.deps).applied == 8
    human = admin.user_ids()[MANAGER]
    time.sleep(2.5)  # our first writes' second is over (see the queued-lead test)
    real_now = app.deps.now
    app.deps.now = lambda: real_now() + timedelta(minutes=11)  # every SLA is missed
    taken = dict.fromkeys(ids[::2], human)
    _people_right_after_our_read(app, admin, taken)
    report = run_sla_sweep(app.deps)
    assert [i for i in taken if admin.get_lead(i)["OwnerId"] != human] == []
    assert report.moved == 8 and report.applied == 8 - len(taken)
    assert _refused(app) == len(taken)
    hops = [r for r in journal(app) if r.kind == "sla_reassign"]
    assert {r.lead_id for r in hops if r.status == "skipped"} == set(taken)


def test_the_unconditional_opt_out_overwrites_a_change_inside_the_write_window(
    sandbox: SandboxHandle, settings: Any, tmp_path: Path
) -> None:
    """``writeback.conditional: false`` (sObject Collections, no precondition): the
    window the default closes, which the journal and the soak measure."""
    from tests.integration.worker.conftest import CONFIG
    from worker.bootstrap import build_app

    admin = sandbox.admin()
    ids = admin.create_leads(60)
    human = admin.user_ids()[MANAGER]
    path = tmp_path / "routing-unconditional.yaml"
    path.write_text(CONFIG.replace("{reason_field: Routing_Reason__c}",
                                   "{reason_field: Routing_Reason__c, conditional: false}"))  # fmt: skip
    app = build_app(settings.model_copy(update={"routing_config": path}))
    time.sleep(1.1)
    taken = dict.fromkeys(ids[::6], human)
    _people_right_after_our_read(app, admin, taken)
    run_cycle(app.deps)
    assert [i for i in taken if admin.get_lead(i)["OwnerId"] != human] == list(taken)
    assert _refused(app) == 0
