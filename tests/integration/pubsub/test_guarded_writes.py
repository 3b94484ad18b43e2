"""Guarded owner writes against the sandbox org, through the worker's gateway and real
simple-salesforce: the query and the PATCH that references it in one Composite call;
the PATCH runs only while the lead is still ours to write, and honours its
precondition."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devkit.sandbox.harness import SandboxHandle
from tests.integration.pubsub.conftest import connection_to
from tests.integration.worker.conftest import MANAGER, REPS
from worker.sfdc.gateway import SimpleSalesforceGateway
from worker.sfdc.mapping import GuardedUpdate, OwnerUpdate, parse_datetime
from worker.sfdc.outcomes import WriteKind

pytestmark = pytest.mark.integration


def stamp(lead: dict[str, object]) -> datetime:
    at = parse_datetime(lead["LastModifiedDate"])
    assert at is not None
    return at


def test_a_guarded_write_runs_only_while_the_lead_is_ours_and_unchanged(
    pubsub_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    admin = pubsub_sandbox.admin()
    users, queue = admin.user_ids(), admin.intake_queue_id()
    rep, manager = users[REPS[0]], users[MANAGER]
    free, taken, changed, converted, gone, *more = admin.create_leads(8)
    created = {i: stamp(admin.get_lead(i)) for i in (free, taken, changed, converted, gone, *more)}
    time.sleep(1.2)  # Salesforce's clock leaves the creation second
    admin.change_owner(taken, manager)  # a person took it
    admin.set_lead_status(changed, "Working - Contacted")  # changed since the event
    admin.convert_lead(converted)
    admin.delete_lead(gone)
    gateway = SimpleSalesforceGateway(connection_to(pubsub_sandbox, tmp_path))
    gateway.queue_ids(["Lead_Intake"])  # signed in, Salesforce's clock read
    calls = admin.api_calls()
    ids = [free, taken, changed, converted, gone, *more]
    results = gateway.update_owners_guarded(
        [GuardedUpdate(OwnerUpdate(i, rep), frozenset({queue}), created[i]) for i in ids]
    )
    assert admin.api_calls() - calls == 2  # 8 leads: two Composite calls of up to 5
    kinds = {r.lead_id: r.kind for r in results}
    assert kinds == {
        free: WriteKind.WRITTEN,
        taken: WriteKind.OWNER_CHANGED,  # the guard query found no lead of ours
        changed: WriteKind.OWNER_CHANGED,  # 412: changed after the event's stamp
        converted: WriteKind.OWNER_CHANGED,
        gone: WriteKind.OWNER_CHANGED,
        **dict.fromkeys(more, WriteKind.WRITTEN),
    }
    by_id = {r.lead_id: r for r in results}
    assert by_id[taken].error_code == "PROCESSING_HALTED"
    assert by_id[changed].error_code == "PRECONDITION_FAILED"
    assert admin.get_lead(taken)["OwnerId"] == manager
    assert admin.get_lead(changed)["OwnerId"] == queue
    assert {admin.get_lead(i)["OwnerId"] for i in (free, *more)} == {rep}


def test_the_server_time_is_a_lower_bound_on_salesforces_clock(
    pubsub_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    gateway = SimpleSalesforceGateway(connection_to(pubsub_sandbox, tmp_path))
    assert gateway.server_time() is None  # no answer yet: nothing known
    gateway.queue_ids(["Lead_Intake"])
    bound = gateway.server_time()
    assert bound is not None
    assert bound <= datetime.now(UTC) + timedelta(milliseconds=50)


def test_a_persons_change_in_the_creation_second_is_caught_by_the_guard(
    pubsub_sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The precondition cannot see a change stamped in the same second as the event's
    (second precision): the guard query, run after that second, does."""
    admin = pubsub_sandbox.admin()
    users, queue = admin.user_ids(), admin.intake_queue_id()
    for _ in range(5):  # until the person's change falls in the creation second
        (lead,) = admin.create_leads(1)
        created = stamp(admin.get_lead(lead))
        admin.change_owner(lead, users[MANAGER])
        if stamp(admin.get_lead(lead)) == created:
            break
    else:
        pytest.fail("no change landed in its lead's creation second in 5 tries")
    time.sleep(1.2)
    gateway = SimpleSalesforceGateway(connection_to(pubsub_sandbox, tmp_path))
    (result,) = gateway.update_owners_guarded(
        [GuardedUpdate(OwnerUpdate(lead, users[REPS[0]]), frozenset({queue}), created)]
    )
    assert result.error_code == "PROCESSING_HALTED"
    assert admin.get_lead(lead)["OwnerId"] == users[MANAGER]
