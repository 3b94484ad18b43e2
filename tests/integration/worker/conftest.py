"""The worker against the sandbox org over HTTPS: a small routing config (no working
hours, so the outcome does not depend on the time of day), settings for the sandbox, and
helpers that compare the journal with Salesforce lead by lead."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from devkit.sandbox.harness import SandboxHandle
from worker.bootstrap import App, build_app
from worker.settings import Settings, load_settings
from worker.store.db import upgrade
from worker.store.models import JournalRow

D = "acme-sales.example"
REPS = [f"{n}@{D}" for n in ("sarah.johnson", "michael.brown", "emily.davis", "james.wilson",
                              "daniel.thomas", "olivia.moore")]  # fmt: skip
MANAGER = f"maria.gonzalez@{D}"

CONFIG = f"""
version: 1
intake: {{queues: [Lead_Intake]}}
writeback: {{reason_field: Routing_Reason__c}}
account_matching: {{enabled: false}}
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
"""


def sandbox_env(sandbox: SandboxHandle, database_url: str, config: Path) -> dict[str, str]:
    return {
        "LEADROUTER_DATABASE_URL": database_url,
        "LEADROUTER_SF_INSTANCE_URL": sandbox.instance_url,
        "LEADROUTER_SF_TOKEN_URL": sandbox.token_url,
        "LEADROUTER_SF_CA_BUNDLE": str(sandbox.ca_path),
        "LEADROUTER_SF_CONSUMER_KEY": sandbox.client_id,
        "LEADROUTER_SF_CONSUMER_SECRET": sandbox.client_secret,
        "LEADROUTER_SF_AUTH_FLOW": "client_credentials",
        "LEADROUTER_ROUTING_CONFIG": str(config),
        "LEADROUTER_INTAKE_INTERVAL_SECONDS": "0.5",
        "LEADROUTER_IDLE_INTERVAL_SECONDS": "0.5",
    }


@pytest.fixture
def routing_config(tmp_path: Path) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(CONFIG)
    return path


@pytest.fixture
def settings(sandbox: SandboxHandle, sqlite_url: str, routing_config: Path) -> Settings:
    env = sandbox_env(sandbox, sqlite_url, routing_config)
    upgrade(sqlite_url)
    return load_settings(**{k.removeprefix("LEADROUTER_").lower(): v for k, v in env.items()})


@pytest.fixture
def make_app(settings: Settings, sandbox: SandboxHandle) -> Callable[[], App]:
    def build() -> App:
        return build_app(settings)

    return build


# --- the mirrors' tests (accounts, contacts): account matching on, the org's clock movable
MIRROR_CONFIG = f"""
version: 1
intake: {{queues: [Lead_Intake]}}
account_matching: {{enabled: true}}
reps:
{chr(10).join(f"  - {{email: {r}}}" for r in REPS)}
pools:
  sales:
    method: round_robin
    members: [{", ".join(REPS)}]
    fallback: [hold]
rules:
  - name: Everything
    action: {{pool: sales}}
"""


@pytest.fixture
def clock(sandbox: SandboxHandle) -> Iterator[list[datetime]]:
    """The org's clock, moved by the test (``clock[0]``): Get Deleted covers whole minutes."""
    org = sandbox.admin().org
    now = [datetime.now(UTC).replace(microsecond=0)]
    real = org.clock
    org.clock = lambda: now[0]
    yield now
    org.clock = real


@pytest.fixture
def mirror_app(sandbox: SandboxHandle, store_url: str, tmp_path: Path) -> App:
    """The worker on ``store_url`` (SQLite, then PostgreSQL) with :data:`MIRROR_CONFIG`."""
    config = tmp_path / "routing.yaml"
    config.write_text(MIRROR_CONFIG)
    upgrade(store_url)
    env = sandbox_env(sandbox, store_url, config)
    settings = load_settings(**{k.removeprefix("LEADROUTER_").lower(): v for k, v in env.items()})
    return build_app(settings)


def journal(app: App) -> list[JournalRow]:
    with Session(app.deps.engine) as s:
        return list(s.exec(select(JournalRow).order_by(JournalRow.id)).all())  # type: ignore[arg-type]


def check_invariants(
    app: App, sandbox: SandboxHandle, humans: dict[str, str] | None = None
) -> Counter[str]:
    """Every lead has one owner that the journal explains; nobody overwrote a human."""
    admin = sandbox.admin()
    queue = admin.intake_queue_id()
    owners = {lead["Id"]: lead["OwnerId"] for lead in admin.leads()}
    rows = journal(app)
    applied: dict[str, list[JournalRow]] = {}
    for row in rows:
        assert row.status != "pending", f"decision {row.id} left pending"
        if row.status == "applied":
            applied.setdefault(row.lead_id, []).append(row)
    for lead_id, owner in owners.items():
        if humans and lead_id in humans:
            assert owner == humans[lead_id], f"{lead_id}: human's owner overwritten"
            continue
        if owner == queue:
            assert lead_id not in applied, f"{lead_id}: journal says applied, still in queue"
            continue
        assert [r.owner_id for r in applied[lead_id]][-1:] == [owner], f"{lead_id}: journal != SF"
        assert len(applied[lead_id]) == 1, f"{lead_id}: assigned {len(applied[lead_id])} times"
    return Counter(r.status for r in rows)
