"""The worker queues notifications in the journal's transactions and delivers them to a
real local webhook receiver: against the sandbox org over HTTPS."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.sandbox.faults import FaultConfig
from devkit.sandbox.harness import SandboxHandle
from tests.integration.notify.conftest import Receiver, receiver  # noqa: F401 - fixture
from tests.integration.worker.conftest import CONFIG, MANAGER, REPS
from worker.bootstrap import build_app
from worker.jobs.intake import run_cycle
from worker.notify import deliver_due
from worker.settings import Settings

pytestmark = pytest.mark.integration

NOTIFY = """
notifications:
  allow_local_http: true
  channels:
    hook: {{type: webhook, url: "{url}", secret_env: WORKER_TEST_HOOK_SECRET}}
  events:
    lead_assigned: {{notify: [owner, manager], channels: [hook]}}
"""


def test_an_applied_decision_notifies_its_owner_and_an_unwritten_one_nobody(
    sandbox: SandboxHandle,
    settings: Settings,
    routing_config: Path,
    receiver: Receiver,  # noqa: F811 - the imported fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WORKER_TEST_HOOK_SECRET", "s3cret")
    routing_config.write_text(CONFIG + NOTIFY.format(url=receiver.url("/hook")))
    admin = sandbox.admin()
    routed = admin.create_leads(3)
    app = build_app(settings)
    assert run_cycle(app.deps).applied == 3
    admin.set_faults(FaultConfig(lock_row=1.0).to_dict())  # every record stays locked
    app.deps.lock_retries = 0
    locked = admin.create_leads(2)
    assert run_cycle(app.deps).left_pending == 2  # written by a later cycle, not now
    admin.set_faults({})

    report = deliver_due(app.deps.engine, settings=app.deps.notify)

    hooks = [h.json for h in receiver.on("/hook")]
    assert report.sent == 3 and report.dead == 0
    assert {h["lead"]["id"] for h in hooks} == set(routed)
    assert not {h["lead"]["id"] for h in hooks} & set(locked)
    for hook in hooks:
        assert hook["event"] == "lead_assigned"
        assert hook["lead"]["url"].startswith(sandbox.instance_url)
        owner, manager = hook["recipients"]
        assert owner["role"] == "owner" and owner["email"] in REPS and owner["name"]
        assert manager == {
            "role": "manager",
            "email": MANAGER,
            "name": "Maria Gonzalez",
            "slack": None,
        }


def test_notifications_added_to_the_running_workers_config_apply_at_its_next_cycle(
    sandbox: SandboxHandle,
    settings: Settings,
    routing_config: Path,
    receiver: Receiver,  # noqa: F811 - the imported fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One loader for the whole file: the notifications section is reloaded with the
    routing config when the file changes, not read once at start."""
    monkeypatch.setenv("WORKER_TEST_HOOK_SECRET", "s3cret")
    routing_config.write_text(CONFIG)
    admin = sandbox.admin()
    app = build_app(settings)
    admin.create_leads(2)
    assert run_cycle(app.deps).applied == 2
    assert not app.deps.notify.enabled

    routing_config.write_text(CONFIG + NOTIFY.format(url=receiver.url("/hook")))
    later = admin.create_leads(2)
    assert run_cycle(app.deps).applied == 2

    assert app.deps.notify.enabled
    report = deliver_due(app.deps.engine, settings=app.deps.notify)
    assert report.sent == 2
    assert {h.json["lead"]["id"] for h in receiver.on("/hook")} == set(later)
