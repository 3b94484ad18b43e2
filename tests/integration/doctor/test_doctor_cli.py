"""``leadrouter doctor`` and ``leadrouter run --once`` from the command line against the
sandbox org: the dry run writes nothing (no PATCH, no journal), a FAIL exits 1, and the
worker refuses to start on the line doctor prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from devkit.sandbox.harness import SandboxHandle
from tests.integration.worker.conftest import CONFIG, sandbox_env
from worker.cli import cli

pytestmark = pytest.mark.integration


@pytest.fixture
def env(sandbox: SandboxHandle, tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "routing.yaml"
    config.write_text(CONFIG)
    return sandbox_env(sandbox, f"sqlite:///{tmp_path}/store.db", config)


@pytest.fixture
def methods(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every HTTP request the command sends: (method, path)."""
    sent: list[tuple[str, str]] = []
    real = requests.Session.send

    def send(self: requests.Session, request: requests.PreparedRequest, **kw: object) -> object:
        sent.append((str(request.method), str(request.path_url).split("?")[0]))
        return real(self, request, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(requests.Session, "send", send)
    return sent


def test_doctor_on_a_ready_org_routes_the_next_ten_leads_and_writes_nothing(
    sandbox: SandboxHandle, env: dict[str, str], tmp_path: Path, methods: list[tuple[str, str]]
) -> None:
    # ~6 s: with no store yet, the dry run migrates a scratch SQLite store (alembic) to
    # read an empty account mirror and routing state from; that is what a first run does
    admin = sandbox.admin()
    admin.create_leads(12)
    queue = admin.intake_queue_id()
    before = {lead["Id"]: (lead["OwnerId"], lead["SystemModstamp"]) for lead in admin.leads()}

    result = CliRunner().invoke(cli, ["doctor"], env=env)

    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split()[1] for line in lines] == [
        "token", "api_version", "lead_access", "read_access", "fields", "intake_queues", "users",
        "assignment_rules", "api_headroom", "clock_skew", "change_data_capture", "dry_run",
    ]  # fmt: skip
    assert lines[-1].startswith("ok    dry_run") and "10 waiting lead(s) routed" in lines[-1]
    assert "10 assign" in lines[-1]
    # nothing written: no PATCH, no Composite, every lead as it was, no store file made
    assert any(p.endswith("/limits/") for _, p in methods)  # the requests were seen
    assert not [m for m in methods if m[0] in ("PATCH", "DELETE")]
    assert not [p for m, p in methods if m == "POST" and p.rstrip("/").endswith("/composite")]
    after = {lead["Id"]: (lead["OwnerId"], lead["SystemModstamp"]) for lead in admin.leads()}
    assert after == before and {owner for owner, _ in after.values()} == {queue}
    assert not (tmp_path / "store.db").exists()


def test_doctor_json_and_a_fail_exits_one(sandbox: SandboxHandle, env: dict[str, str]) -> None:
    sandbox.admin().set_access(hidden_fields={"Lead": ["Country"]})

    result = CliRunner().invoke(cli, ["doctor", "--json", "--no-dry-run"], env=env)

    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False
    fields = next(c for c in data["checks"] if c["name"] == "fields")
    assert fields["status"] == "FAIL" and "Lead.Country" in fields["detail"]
    assert next(c for c in data["checks"] if c["name"] == "dry_run")["status"] == "skip"


def test_run_and_run_once_refuse_a_misspelt_intake_queue_with_doctors_line(
    sandbox: SandboxHandle, env: dict[str, str], tmp_path: Path
) -> None:
    config = Path(env["LEADROUTER_ROUTING_CONFIG"])
    config.write_text(CONFIG.replace("queues: [Lead_Intake]", "queues: [Lead_Intak]"))
    sandbox.admin().create_leads(3)

    doctor = CliRunner().invoke(cli, ["doctor", "--no-dry-run"], env=env)
    once = CliRunner().invoke(cli, ["run", "--once"], env=env)
    daemon = CliRunner().invoke(cli, ["run"], env=env)  # refuses before its scheduler starts

    assert doctor.exit_code == 1 and once.exit_code == 1 and daemon.exit_code == 1
    line = next(x for x in doctor.output.splitlines() if x.startswith("FAIL"))
    assert "no queue with DeveloperName Lead_Intak" in line
    assert once.output.strip().splitlines()[-1] == f"Error: {line}"
    assert daemon.output.strip().splitlines()[-1] == f"Error: {line}"
    queue = sandbox.admin().intake_queue_id()
    assert {lead["OwnerId"] for lead in sandbox.admin().leads()} == {queue}


def test_sandbox_setup_breaks_the_org_and_reset_mends_it(
    sandbox: SandboxHandle, env: dict[str, str]
) -> None:
    from worker.files import write_private

    state = sandbox.state_path.parent
    write_private(state / "sandbox.json", json.dumps(sandbox.info()))  # as `sandbox serve` does
    broken = CliRunner().invoke(cli, [
        "sandbox", "setup", "--state-dir", str(state), "--hide-field", "Lead.Country",
        "--clock-skew", "120", "--queue-without-leads", "--api-limit", "1000", "--api-used", "960",
    ])  # fmt: skip
    assert broken.exit_code == 0, broken.output

    result = CliRunner().invoke(cli, ["doctor", "--no-dry-run"], env=env)

    assert result.exit_code == 1
    failed = [line.split()[1] for line in result.output.splitlines() if line.startswith("FAIL")]
    assert failed == ["fields", "intake_queues", "api_headroom", "clock_skew"]
    mended = CliRunner().invoke(
        cli, ["sandbox", "setup", "--state-dir", str(state), "--reset", "--api-used", "0"]
    )
    assert mended.exit_code == 0, mended.output
    assert CliRunner().invoke(cli, ["doctor", "--no-dry-run"], env=env).exit_code == 0


def test_a_lead_the_router_raises_on_fails_the_dry_run(
    sandbox: SandboxHandle, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from worker.routing import api

    first, *_ = sandbox.admin().create_leads(2)
    real = api.Router.route

    def route(self: api.Router, lead: object, *args: object) -> object:
        if getattr(lead, "id", None) == first:
            raise ZeroDivisionError("a bug")
        return real(self, lead, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(api.Router, "route", route)
    store = f"sqlite:///{tmp_path}/ready.db"
    CliRunner().invoke(cli, ["db", "upgrade"], env={**env, "LEADROUTER_DATABASE_URL": store})

    result = CliRunner().invoke(cli, ["doctor"], env={**env, "LEADROUTER_DATABASE_URL": store})

    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("FAIL  dry_run") and f"raised on {first}: ZeroDivisionError" in line
    assert "1 assign, 1 hold" in line  # the other lead still routed; the failed one held


def test_run_once_from_cron_checks_an_unchanged_setup_once_an_hour(
    sandbox: SandboxHandle, env: dict[str, str], methods: list[tuple[str, str]]
) -> None:
    describes = lambda: sum(p.endswith("/sobjects/Lead/describe") for _, p in methods)  # noqa: E731

    first = CliRunner().invoke(cli, ["run", "--once"], env=env)
    second = CliRunner().invoke(cli, ["run", "--once"], env=env)

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert describes() == 1  # the second run trusted the first's verdict
    config = Path(env["LEADROUTER_ROUTING_CONFIG"])
    config.write_text(CONFIG.replace("queues: [Lead_Intake]", "queues: [Lead_Intak]"))
    changed = CliRunner().invoke(cli, ["run", "--once"], env=env)
    assert changed.exit_code == 1 and "Lead_Intak" in changed.output  # a new config: re-checked
    assert describes() == 2
