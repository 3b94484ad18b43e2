"""One way to route, proved by a differential test: the same generated leads, accounts,
contacts, reps and starting state through (a) a worker cycle against the sandbox org,
(b) ``leadrouter simulate`` and (c) the dashboard's What-if replay give the same owners
and the same reasons, lead by lead, with the demo routing config (rules on several
fields, territories, tags, account matching with corroboration, weighted pools with
per-pool weights and caps, overflow, holds)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from simple_salesforce import Salesforce
from sqlmodel import Session, select

from dashboard.data import load_known_emails
from dashboard.replay import replay, to_lead
from devkit.sandbox.harness import SandboxHandle
from worker.bootstrap import build_app
from worker.cli import cli
from worker.jobs.fields import lead_fields
from worker.jobs.intake import run_cycle
from worker.routing import KnownEmail
from worker.routing_config import load_config
from worker.settings import Settings
from worker.sfdc import mapping, soql
from worker.store.accounts_repo import account_index
from worker.store.models import JournalRow
from worker.store.queries.replay import recent_routed_leads, rep_directory

pytestmark = pytest.mark.integration

DEMO = Path(__file__).resolve().parents[3] / "config" / "routing.yaml"
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday: NA and EMEA at work, APAC not
LEADS = 400


def _records(sf: Salesforce, query: str) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in r.items() if k != "attributes"} for r in sf.query_all(query)["records"]
    ]


def _export(sf: Salesforce, config_fields: tuple[str, ...], ids: list[str]) -> dict[str, Any]:
    """What the worker read from the org, as files ``simulate`` takes and values What-if
    takes: the leads (every field the worker selects), the accounts and the contacts that
    carry a lead's e-mail, and each rep's user."""
    leads = []
    for query in soql.leads_by_id_queries(ids, config_fields):
        leads += _records(sf, query)
    order = {lead_id: i for i, lead_id in enumerate(ids)}
    leads.sort(key=lambda r: order[r["Id"]])
    accounts = [
        mapping.account(r, {}) for r in _records(sf, soql.accounts_by_id_query(None, 10_000))
    ]
    emails = sorted({str(r["Email"]).lower() for r in leads if r.get("Email")})
    contacts = []
    for query in soql.contacts_queries(emails):
        contacts += _records(sf, query)
    users = {u["Email"].lower(): u for u in _records(sf, "SELECT Id, Email, IsActive FROM User")}
    owner_active = {u["Id"]: u["IsActive"] for u in users.values()}
    return {"leads": leads, "accounts": accounts, "contacts": contacts, "users": users,
            "owner_active": owner_active}  # fmt: skip


def _write_inputs(folder: Path, data: dict[str, Any], reps: list[str]) -> dict[str, Path]:
    paths = {k: folder / f"{k}.json" for k in ("leads", "accounts", "contacts", "reps")}
    leads = [{k: v for k, v in r.items() if k != "CreatedDate"} for r in data["leads"]]
    paths["leads"].write_text(json.dumps(leads))
    paths["accounts"].write_text(json.dumps([
        {"Id": a.id, "Name": a.name, "Website": a.website, "OwnerId": a.owner_id,
         "OwnerActive": data["owner_active"].get(a.owner_id, True),
         "NumberOfEmployees": a.employees, "BillingCountry": a.country, "Phone": a.phone,
         "LastActivityDate": a.last_activity.isoformat() if a.last_activity else None,
         "OpenOpportunities": a.open_opportunities}
        for a in data["accounts"]
    ]))  # fmt: skip
    paths["contacts"].write_text(json.dumps([
        {"Id": c["Id"], "Email": c["Email"], "AccountId": c.get("AccountId"),
         "OwnerId": c["OwnerId"], "OwnerActive": data["owner_active"].get(c["OwnerId"], True)}
        for c in data["contacts"]
    ]))  # fmt: skip
    users = data["users"]
    paths["reps"].write_text(json.dumps({
        k: {"user_id": users[k]["Id"], "sf_active": users[k]["IsActive"]}
        for k in reps if k in users
    }))  # fmt: skip
    return paths


def test_worker_simulate_and_whatif_route_every_lead_alike(
    sandbox: SandboxHandle, settings: Settings, routing_config: Path, sf_client: Salesforce,
    tmp_path: Path,
) -> None:  # fmt: skip
    shutil.copy(DEMO, routing_config)
    config = load_config(routing_config)
    sandbox.admin().create_leads(LEADS)

    # (a) the worker, at a pinned instant, from an empty routing state
    app = build_app(settings)
    app.deps.decide_now = lambda: NOW
    report = run_cycle(app.deps)
    assert report.decided >= LEADS
    with Session(app.deps.engine) as s:
        rows = list(s.exec(select(JournalRow).order_by(JournalRow.id)).all())  # type: ignore[arg-type]
    worker = {r.lead_id: r for r in rows if r.kind == "route"}
    assert len(worker) == LEADS
    ids = list(worker)  # the order the worker decided them in
    methods = {r.method for r in worker.values()}
    assert {"account_owner", "weighted_round_robin", "round_robin", "hold"} <= methods, methods

    data = _export(sf_client, lead_fields(config), ids)

    # (b) simulate, through the CLI, with the same leads, accounts, contacts and reps
    paths = _write_inputs(tmp_path, data, list(config.reps))
    out = tmp_path / "decisions.json"
    result = CliRunner().invoke(cli, [
        "simulate", str(paths["leads"]), "--config", str(routing_config), "--no-overrides",
        "--accounts", str(paths["accounts"]), "--contacts", str(paths["contacts"]),
        "--reps", str(paths["reps"]), "--at", NOW.isoformat(), "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "warning: no lead in the input has" not in result.output
    simulated = {d["lead_id"]: d for d in json.loads(out.read_text())}

    # (c) What-if, replaying the journal with the store's mirrors as the page reads them
    # (the accounts, and the contacts: the same ones the Contact query gives) and the
    # reps' users the worker stored
    queried = [
        KnownEmail(str(c["Email"]).lower(), "contact", c["Id"], c.get("AccountId"),
                   c["OwnerId"], data["owner_active"].get(c["OwnerId"], True))
        for c in data["contacts"]
    ]  # fmt: skip
    journal_rows = recent_routed_leads(app.deps.engine, datetime(2000, 1, 1, tzinfo=UTC))
    leads = [to_lead(r) for r in journal_rows]
    mirror = account_index(app.deps.engine, leads, config.account_matching)
    directory = rep_directory(app.deps.engine)
    contacts = load_known_emails(settings.database_url, leads, directory)
    assert {(k.email, k.record_id, k.account_id, k.owner_id) for k in contacts} == {
        (k.email, k.record_id, k.account_id, k.owner_id) for k in queried
    }
    replayed = replay(
        config, journal_rows, accounts=mirror, known_emails=contacts, directory=directory
    ).decisions

    differences = []
    for lead_id, row in worker.items():
        sim, wif = simulated[lead_id], replayed[lead_id]
        seen = (row.rep_key, row.reason)
        if (sim["rep_key"], sim["reason"]) != seen or (wif.rep_key, wif.reason) != seen:
            differences.append((lead_id, seen, (sim["rep_key"], sim["reason"]),
                                (wif.rep_key, wif.reason)))  # fmt: skip
    assert differences == [], differences[:5]


PHONE_CONFIG = """
version: 1
intake: {queues: [Lead_Intake]}
account_matching: {enabled: true, by_name: true, corroborate_with: [phone]}
reps:
  - {email: sarah.johnson@acme-sales.example}
  - {email: michael.brown@acme-sales.example}
pools:
  sales: {members: [michael.brown@acme-sales.example], fallback: [hold]}
rules:
  - {name: Everything, action: {pool: sales}}
"""


def test_the_worker_reads_the_phone_that_corroborates_a_company_name(
    sandbox: SandboxHandle, settings: Settings, routing_config: Path, sf_client: Salesforce
) -> None:
    """Phone corroboration is the default: the worker must select Lead.Phone."""
    routing_config.write_text(PHONE_CONFIG)
    sarah = sandbox.admin().user_ids()["sarah.johnson@acme-sales.example"]
    sf_client.Account.create(
        {"Name": "Zyxwv Widgets GmbH", "Phone": "+49 30 1234567", "OwnerId": sarah}
    )
    queue = sandbox.admin().intake_queue_id()
    lead = sf_client.Lead.create(
        {"LastName": "Keller", "Company": "Zyxwv Widgets", "Phone": "+49 (30) 123 4567",
         "Email": "k.keller@gmail.com", "OwnerId": queue},
        headers={"Sforce-Auto-Assign": "FALSE"},
    )["id"]  # fmt: skip
    app = build_app(settings)
    assert run_cycle(app.deps).applied == 1
    assert sandbox.admin().get_lead(lead)["OwnerId"] == sarah
    with Session(app.deps.engine) as s:
        row = s.exec(select(JournalRow)).one()
    assert row.method == "account_owner" and "company name" in row.reason
    assert json.loads(row.lead_fields or "{}")["Phone"] == "+49 (30) 123 4567"
