"""Personal data leaves the store: ``leadrouter purge --lead`` (a deletion request) and
retention (the scheduler's daily job), on SQLite and PostgreSQL.

Leads are routed by the real intake job (fake org, real routing core and traces, real
notification rows), then every text column of every table is scanned for the lead's
e-mail, name and company, so a new table that copies lead data is caught too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import SQLModel

from tests.unit.jobs.conftest import REPS, uid
from tests.unit.jobs.fakes import T0, FakeGateway
from worker.commands.purge import purge
from worker.jobs.deps import Deps
from worker.jobs.directory import Directory
from worker.jobs.intake import run_cycle
from worker.notify import parse_notify_section
from worker.routing.config_model import RoutingConfig
from worker.routing_config import load_config
from worker.scheduler import Worker
from worker.sfdc.ids import to18
from worker.sfdc.mapping import UserRow
from worker.store import models  # noqa: F401 - every table registered on the metadata
from worker.store.db import make_engine, session_scope, upgrade
from worker.store.models import OutboxMessage, WorkerHeartbeat
from worker.store.queries.fairness import fairness_report
from worker.store.queries.quality import lead_mix

pytestmark = pytest.mark.integration

TARGET = to18("00Q5e00000ZqXyA")
TARGET_PII = {
    "email": "zelda.quixmarsh@quixbank-holdings.example",
    "name": "Zelda Quixmarsh",
    "company": "Quixmarsh Bank Holdings",
}
CONFIG = f"""
version: 1
intake: {{queues: [Lead_Intake]}}
account_matching: {{enabled: false}}
reps:
{chr(10).join(f"  - {{email: {r}}}" for r in REPS)}
pools:
  sales: {{method: round_robin, members: [{", ".join(REPS)}]}}
rules:
  - name: Banks in Antarctica
    when: [{{field: Company, contains: Bank}}, {{field: Country, equals: AQ}}]
    action: {{pool: sales}}
  - name: Named people
    when: [{{field: Email, regex: "^[a-z]+[.][a-z]+@"}}]
    action: {{pool: sales}}
  - name: Everything
    action: {{pool: sales}}
"""
NOTIFY = {
    "salesforce_url": "https://acme.my.salesforce.com",
    "channels": {"mail": {"type": "email"}},
    "events": {"lead_assigned": {"notify": ["owner"], "channels": ["mail"]}},
}


@dataclass
class Routed:
    url: str
    engine: sa.Engine
    deps: Deps
    config_path: Path
    others: list[dict[str, str]]


def _lead(org: FakeGateway, lead_id: str, first: str, last: str, email: str, company: str) -> None:
    org.add_lead(lead_id, FirstName=first, LastName=last, Email=email, Company=company,
                 Country="DE", LeadSource="Web", Rating="Hot", NumberOfEmployees=250)  # fmt: skip


@pytest.fixture
def routed(store_url: str, tmp_path: Path) -> Iterator[Routed]:
    """Nine leads routed (the target among them), notifications queued, and a worker
    error that quotes the target's company."""
    upgrade(store_url)
    engine = make_engine(store_url)
    path = tmp_path / "routing.yaml"
    path.write_text(CONFIG)
    config = load_config(path)
    org = FakeGateway(users=[UserRow(uid(k), k, k, k.split("@")[0].title(), True) for k in REPS])
    deps = Deps(engine=engine, gateway=org, directory=Directory(org), config=lambda _s: config,
                worker_id="test", now=lambda: org.clock, **org.clock_ports(),
                notify=parse_notify_section(NOTIFY, environ={}))  # fmt: skip
    first, last = TARGET_PII["name"].split()
    _lead(org, TARGET, first, last, TARGET_PII["email"], TARGET_PII["company"])
    others = []
    for i in range(8):
        other = {"email": f"otto.person{i}@firm{i}.example", "name": f"Otto Person{i}",
                 "company": f"Firm Number{i} GmbH"}  # fmt: skip
        _lead(org, to18(f"00Q5e00000Oth{i:02d}"), "Otto", f"Person{i}", other["email"],
              other["company"])  # fmt: skip
        others.append(other)
    assert run_cycle(deps).applied == 9
    with session_scope(engine) as s:
        s.add(WorkerHeartbeat(worker_id="w1", hostname="h", pid=1,
                              last_error=f"INVALID_FIELD: Company '{TARGET_PII['company']}'"))  # fmt: skip
        s.add(OutboxMessage(dedup_key=f"held:{TARGET}:2026-11-20:mail:revops@x.example",
                            event="lead_held", channel="mail", recipient="revops@x.example",
                            payload=json.dumps({"lead": TARGET_PII["name"]}), status="sent"))  # fmt: skip
    yield Routed(store_url, engine, deps, path, others)
    engine.dispose()


def _is_text(column: sa.Column[Any]) -> bool:
    """String, Text and SQLModel's AutoString (a TypeDecorator over String)."""
    kind = column.type
    return isinstance(kind, sa.String) or isinstance(getattr(kind, "impl", None), sa.String)


def text_hits(engine: sa.Engine, value: str) -> set[str]:
    """``table.column`` of every text column holding ``value`` (case-insensitive), for
    every table the models define."""
    hits = set()
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for column in table.columns:
                if not _is_text(column):
                    continue
                found = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(table)
                    .where(sa.func.lower(column).contains(value.lower()))
                ).scalar_one()
                if found:
                    hits.add(f"{table.name}.{column.name}")
    return hits


def fairness_facts(engine: sa.Engine) -> tuple[Any, ...]:
    start, end = T0 - timedelta(days=400), T0 + timedelta(days=1)
    report = fairness_report(engine, "sales", start, end)
    mix = sorted(tuple(sorted(r.items())) for r in lead_mix(engine, "sales", start, end))
    return report.decisions, report.reps, report.jain, report.verdict, mix


def run_purge_cli(r: Routed, *args: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", r.url)
    monkeypatch.setenv("LEADROUTER_ROUTING_CONFIG", str(r.config_path))
    return CliRunner().invoke(purge, list(args))


def test_the_scan_finds_the_lead_where_the_worker_put_it(routed: Routed) -> None:
    """The scan below must be able to fail: before a purge it sees the lead's data in the
    journal snapshot, the trace, the notifications and the worker's error."""
    hits = {k: text_hits(routed.engine, v) for k, v in TARGET_PII.items()}
    assert {"decision.lead_email", "decision.trace"} <= hits["email"]
    assert {"decision.lead_company", "notification_outbox.payload",
            "worker_heartbeat.last_error"} <= hits["company"]  # fmt: skip
    assert {"decision.lead_name", "notification_outbox.payload"} <= hits["name"]


def test_purge_leaves_no_trace_of_the_lead_and_fairness_unchanged(
    routed: Routed, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = fairness_facts(routed.engine)
    result = run_purge_cli(routed, "--lead", TARGET, "--yes", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert TARGET in result.output and "decision 1" in result.output
    assert "notification_outbox 2" in result.output and "worker_heartbeat 1" in result.output
    for value in TARGET_PII.values():
        assert text_hits(routed.engine, value) == set(), value
    assert fairness_facts(routed.engine) == before
    for other in routed.others:  # a deletion request touches that lead only
        assert "decision.lead_email" in text_hits(routed.engine, other["email"])
    with routed.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM decision WHERE lead_id = :l"), {"l": TARGET})
        kept = row.mappings().one()
    assert kept["status"] == "applied" and kept["rep_key"] in REPS and kept["pool"] == "sales"
    assert kept["lead_country"] == "DE"  # coarse attributes the leftover-leads check needs


def test_purge_is_idempotent_and_takes_the_15_character_id(
    routed: Routed, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run_purge_cli(routed, "--lead", TARGET[:15], "--yes", monkeypatch=monkeypatch)
    again = run_purge_cli(routed, "--lead", TARGET, "--yes", monkeypatch=monkeypatch)
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    assert "decision 1" in first.output
    assert "nothing left to erase" in again.output


def test_dry_run_counts_and_changes_nothing(
    routed: Routed, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_purge_cli(routed, "--lead", TARGET, "--dry-run", monkeypatch=monkeypatch)
    assert result.exit_code == 0 and "would change decision 1" in result.output
    assert "decision.lead_company" in text_hits(routed.engine, TARGET_PII["company"])


@pytest.mark.parametrize(
    "bad", ["00Q123", "00Q5e00000ZqXyA!!!", "00Q5e00000ZqXyAZZZ", "0015e00000ZqXyA"]
)
def test_a_malformed_id_is_one_line_and_erases_nothing(
    routed: Routed, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    result = run_purge_cli(
        routed, "--lead", TARGET, "--lead", bad, "--yes", monkeypatch=monkeypatch
    )
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and bad in result.output
    assert "decision.lead_company" in text_hits(routed.engine, TARGET_PII["company"])


def test_retention_job_blanks_old_rows_only(routed: Routed) -> None:
    """The scheduler's ``purge`` job with the config's default retention (90 days)."""
    assert (
        RoutingConfig(reps={}, pools={}, rules=()).retention_days == 90
        and load_config(routed.config_path).retention_days == 90
    )
    old, young = routed.others[0], routed.others[1]
    with routed.engine.begin() as conn:
        for who, days in ((TARGET_PII, 91), (old, 120), (young, 89)):
            conn.execute(
                sa.text("UPDATE decision SET decided_at = :at WHERE lead_email = :e"),
                {"at": T0 - timedelta(days=days), "e": who["email"]},
            )
    before = fairness_facts(routed.engine)
    worker = Worker(app=SimpleNamespace(deps=routed.deps), active=True)  # type: ignore[arg-type]
    worker.purge()
    for value in (TARGET_PII["email"], TARGET_PII["name"], old["email"], old["company"]):
        assert not {h for h in text_hits(routed.engine, value) if h.startswith("decision.")}, value
    assert "decision.lead_email" in text_hits(routed.engine, young["email"])
    assert fairness_facts(routed.engine) == before
    again = retention_again(routed)
    assert again == 0, "retention is idempotent"


def retention_again(r: Routed) -> int:
    from worker.store import journal_repo

    with session_scope(r.engine) as s:
        return journal_repo.scrub_before(s, T0 - timedelta(days=90))


def test_purge_expired_runs_retention_now(routed: Routed, monkeypatch: pytest.MonkeyPatch) -> None:
    old = routed.others[0]
    with routed.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE decision SET decided_at = :at WHERE lead_email = :e"),
            {"at": T0 - timedelta(days=400), "e": old["email"]},
        )
    result = run_purge_cli(routed, "--expired", "--yes", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert "older than 90 days: changed" in result.output and "decision 1" in result.output
    assert not any(h.startswith("decision.") for h in text_hits(routed.engine, old["email"]))


def test_purge_needs_a_lead_or_expired(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(purge, [])
    assert result.exit_code == 2 and "--lead" in result.output
