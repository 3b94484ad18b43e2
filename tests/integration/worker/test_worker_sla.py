"""Every routed lead has an SLA clock, against the sandbox org over HTTPS, on SQLite and
PostgreSQL: a lead that went to its account's owner is reminded and escalated to the
owner's manager when untouched, and stays with its owner; a pool lead is re-assigned."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from simple_salesforce import Salesforce
from sqlmodel import Session, select

from devkit.sandbox.harness import SandboxHandle
from tests.integration.worker.conftest import MANAGER, REPS, journal, sandbox_env
from worker.bootstrap import build_app
from worker.jobs.intake import run_cycle
from worker.jobs.sla import run_sla_sweep
from worker.settings import load_settings
from worker.store.db import upgrade
from worker.store.models.outbox import OutboxMessage

pytestmark = pytest.mark.integration

CONFIG = f"""
version: 1
intake: {{queues: [Lead_Intake]}}
account_matching: {{enabled: true, route_to_owner: true, by_name: false}}
sla: {{minutes: 30}}
reps:
{chr(10).join(f"  - {{email: {r}}}" for r in [*REPS, MANAGER])}
pools:
  sales:
    method: round_robin
    members: [{", ".join(REPS)}]
    fallback: [hold]
    sla: {{minutes: 10, max_hops: 1, escalate_to: {{rep: {MANAGER}}}}}
rules:
  - name: Everything
    action: {{pool: sales}}
notifications:
  channels: {{mail: {{type: email}}}}
  events:
    sla_missed: {{notify: [owner], channels: [mail]}}
    sla_escalated: {{notify: [manager], channels: [mail]}}
"""


def _an_account_of_someone_outside_the_config(sf: Salesforce) -> dict[str, str]:
    """An account with a web site, owned by an active user who is no configured rep and
    has a manager: the sweep must find that manager through Salesforce."""
    configured = {r.lower() for r in [*REPS, MANAGER]}
    rows = sf.query_all(
        "SELECT Id, Name, Website, OwnerId, Owner.Email, Owner.Manager.Email FROM Account "
        "WHERE Website != null AND Owner.IsActive = true"
    )["records"]
    for row in rows:
        owner = row["Owner"] or {}
        manager = (owner.get("Manager") or {}).get("Email")
        if manager and str(owner.get("Email")).lower() not in configured:
            domain = str(row["Website"]).split("//")[-1].removeprefix("www.").split("/")[0]
            return {"owner_id": row["OwnerId"], "owner": str(owner["Email"]).lower(),
                    "manager": str(manager).lower(), "domain": domain}  # fmt: skip
    raise AssertionError("the seeded org has no account owned by a non-rep with a manager")


def test_an_account_owners_untouched_lead_is_reminded_escalated_and_kept(
    sandbox: SandboxHandle, sf_client: Salesforce, store_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "routing.yaml"
    config.write_text(CONFIG)
    upgrade(store_url)
    env = sandbox_env(sandbox, store_url, config)
    settings = load_settings(**{k.removeprefix("LEADROUTER_").lower(): v for k, v in env.items()})
    app = build_app(settings)
    admin = sandbox.admin()
    account = _an_account_of_someone_outside_the_config(sf_client)
    queue = admin.intake_queue_id()
    owned = sf_client.Lead.create({"LastName": "Ortiz", "Company": "Partner Co",
                                   "Email": f"jo.ortiz@{account['domain']}", "OwnerId": queue,
                                   "LeadSource": "Partner Referral"})["id"]  # fmt: skip
    pooled = sf_client.Lead.create({"LastName": "Pool", "Company": "Nobody Ltd",
                                    "Email": "sla-pool-lead-7@gmail.com", "OwnerId": queue})["id"]  # fmt: skip
    assert run_cycle(app.deps).applied == 2
    route = {r.lead_id: r for r in journal(app)}
    assert (route[owned].method, route[owned].pool) == ("account_owner", None)
    assert route[owned].owner_id == account["owner_id"]
    assert route[owned].sla_due_at is not None and route[owned].sla_state == "open"
    first_pool_owner = route[pooled].owner_id

    real_now = app.deps.now
    app.deps.now = lambda: real_now() + timedelta(minutes=31)
    report = run_sla_sweep(app.deps)

    assert (report.moved, report.owners_reminded, report.managers_told) == (1, 1, 1)
    kinds = {r.lead_id: [x.kind for x in journal(app) if x.lead_id == r.lead_id]
             for r in route.values()}  # fmt: skip
    assert kinds == {owned: ["route", "escalate_manager"], pooled: ["route", "sla_reassign"]}
    assert admin.get_lead(owned)["OwnerId"] == account["owner_id"]  # not moved
    assert admin.get_lead(pooled)["OwnerId"] not in (first_pool_owner, queue)  # as before
    (note,) = [r for r in journal(app) if r.kind == "escalate_manager"]
    assert note.reason.startswith("SLA of 30 min missed: reminded ")
    assert "; escalated to their manager " in note.reason
    with Session(app.deps.engine) as s:
        queued = {(m.event, m.recipient) for m in s.exec(select(OutboxMessage)).all()}
    assert ("sla_missed", account["owner"]) in queued
    assert ("sla_escalated", account["manager"]) in queued

    app.deps.now = lambda: real_now() + timedelta(hours=5)
    again = run_sla_sweep(app.deps)
    assert again.managers_told == 0  # told once: the clock ended with the escalation
    assert admin.get_lead(owned)["OwnerId"] == account["owner_id"]
