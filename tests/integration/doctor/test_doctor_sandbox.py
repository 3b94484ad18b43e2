"""Each doctor check against the sandbox org, passing and failing: the org is set up
wrong one way at a time through its admin operations (access, clock, queue, rules,
usage), as a real org can be."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from pydantic import SecretStr

from devkit.sandbox.harness import SandboxHandle, start_sandbox
from tests.integration.worker.conftest import CONFIG, sandbox_env
from worker.commands.doctor import effective_config, inputs_for
from worker.doctor import Check, Status, run_checks
from worker.root import Root
from worker.settings import Settings, load_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(sandbox: SandboxHandle, tmp_path: Path) -> Settings:
    config = tmp_path / "routing.yaml"
    config.write_text(CONFIG)
    env = sandbox_env(sandbox, f"sqlite:///{tmp_path}/store.db", config)
    return load_settings(**{k.removeprefix("LEADROUTER_").lower(): v for k, v in env.items()})


@pytest.fixture
def check(settings: Settings) -> Callable[..., Check]:
    def run(name: str, settings: Settings = settings) -> Check:
        gateway = Root(settings, pool=False).gateway
        (result,) = run_checks(inputs_for(settings, gateway, effective_config(settings)), [name])
        return result

    return run


def test_token(check, settings):
    assert check("token").status is Status.OK
    wrong = settings.model_copy(update={"sf_consumer_secret": SecretStr("not-the-secret")})
    failed = check("token", wrong)
    assert failed.status is Status.FAIL and "invalid_client" in failed.detail
    assert "LEADROUTER_SF_INSTANCE_URL" in failed.fix


def test_api_version(check, settings):
    assert check("api_version").status is Status.OK
    failed = check("api_version", settings.model_copy(update={"sf_api_version": "19.0"}))
    assert failed.status is Status.FAIL and "latest v66.0" in failed.detail


def test_lead_access_owner_id_not_updateable(check, sandbox, sf_client):
    assert check("lead_access").status is Status.OK
    sandbox.admin().set_access(readonly_fields={"Lead": ["OwnerId"]})
    failed = check("lead_access")
    assert failed.status is Status.FAIL and "OwnerId is not updateable" in failed.detail
    # and the sandbox refuses the write as Salesforce would (field-level security)
    (lead,) = sandbox.admin().create_leads(1)
    rep = next(iter(sandbox.admin().user_ids().values()))
    body = {"allOrNone": False,
            "records": [{"attributes": {"type": "Lead"}, "id": lead, "OwnerId": rep}]}  # fmt: skip
    (result,) = sf_client.restful("composite/sobjects", method="PATCH", json=body)
    assert result["errors"][0]["statusCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with pytest.raises(Exception, match="INVALID_FIELD_FOR_INSERT_UPDATE"):
        sf_client.Lead.update(lead, {"OwnerId": rep})
    sf_client.Lead.update(lead, {"Title": "CTO"})  # other fields stay writable
    sandbox.admin().set_access(readonly_objects=["Lead"])
    assert "cannot read Leads" not in check("lead_access").detail
    assert "not edit them" in check("lead_access").detail
    sandbox.admin().set_access(hidden_objects=["Lead"])
    assert "cannot read Leads" in check("lead_access").detail


def test_read_access(check, sandbox, sf_client):
    assert check("read_access").status is Status.OK
    sandbox.admin().set_access(hidden_objects=["Task", "Group"])
    failed = check("read_access")
    assert failed.status is Status.FAIL and "cannot read Group, Task" in failed.detail
    # the sandbox refuses a query on an object the user cannot read, as Salesforce does
    with pytest.raises(Exception, match="INVALID_TYPE"):
        sf_client.query("SELECT Id FROM Task")


def test_fields_hidden_by_field_level_security(check, sandbox, sf_client):
    assert check("fields").status is Status.OK
    sandbox.admin().set_access(hidden_fields={"Lead": ["Country"]})
    failed = check("fields")
    assert failed.status is Status.FAIL and "Lead.Country" in failed.detail
    with pytest.raises(Exception, match="INVALID_FIELD"):
        sf_client.query("SELECT Id, Country FROM Lead")


def test_fields_reason_field_must_be_updateable(check, sandbox):
    sandbox.admin().set_access(readonly_fields={"Lead": ["Routing_Reason__c"]})
    failed = check("fields")
    assert failed.status is Status.FAIL and "Routing_Reason__c" in failed.detail


def test_intake_queue_missing(check, settings, tmp_path):
    assert check("intake_queues").status is Status.OK
    misspelt = tmp_path / "misspelt.yaml"
    misspelt.write_text(CONFIG.replace("queues: [Lead_Intake]", "queues: [Lead_Intak]"))
    failed = check("intake_queues", settings.model_copy(update={"routing_config": misspelt}))
    assert failed.status is Status.FAIL and "DeveloperName Lead_Intak" in failed.detail


def test_intake_queue_not_holding_leads(check, sandbox):
    sandbox.admin().set_queue_holds_leads(False)
    failed = check("intake_queues")
    assert failed.status is Status.FAIL and "cannot own Leads" in failed.detail
    sandbox.admin().set_queue_holds_leads(True)
    assert check("intake_queues").status is Status.OK


def test_assignment_rules(check, sandbox):
    assert check("assignment_rules").status is Status.OK
    sandbox.admin().set_assignment_rule(True)
    warned = check("assignment_rules")
    assert warned.status is Status.WARN and "Standard" in warned.detail
    sandbox.admin().set_assignment_rule(False)
    assert check("assignment_rules").status is Status.OK


def test_api_headroom(check, sandbox):
    assert check("api_headroom").status is Status.OK
    sandbox.admin().set_api_limit(10_000)
    sandbox.admin().reset_api_usage(8_500)
    assert check("api_headroom").status is Status.WARN
    sandbox.admin().reset_api_usage(9_700)
    failed = check("api_headroom")
    assert failed.status is Status.FAIL and "of 10,000 daily API requests left" in failed.detail


def test_clock_skew(check, sandbox, sandbox_session):
    assert check("clock_skew").status is Status.OK
    sandbox.admin().set_clock_skew(20)
    assert check("clock_skew").status is Status.WARN
    sandbox.admin().set_clock_skew(-600)
    failed = check("clock_skew")
    assert failed.status is Status.FAIL and "ahead of Salesforce's" in failed.detail
    # the skew is in the Date header of every answer, as a real org's clock would be
    answer = requests.get(sandbox.instance_url + "/services/data/", timeout=5,
                          verify=str(sandbox.ca_path))  # fmt: skip
    assert answer.headers["Date"].endswith("GMT")


def test_change_data_capture_is_skipped_while_the_worker_polls(check):
    skipped = check("change_data_capture")
    assert skipped.status is Status.SKIP and "polls" in skipped.detail


@pytest.fixture
def pubsub_sandbox(sandbox_template: Path, tmp_path: Path) -> Iterator[SandboxHandle]:
    state = tmp_path / "pubsub-sandbox"
    shutil.copytree(sandbox_template, state)
    handle = start_sandbox(state, pubsub_port=0)
    try:
        yield handle
    finally:
        handle.stop()


def test_change_data_capture_over_the_pub_sub_api(pubsub_sandbox, tmp_path):
    config = tmp_path / "cdc.yaml"
    config.write_text(CONFIG)
    env = sandbox_env(pubsub_sandbox, f"sqlite:///{tmp_path}/cdc.db", config)
    settings = load_settings(**{k.removeprefix("LEADROUTER_").lower(): v for k, v in env.items()})
    gateway = Root(settings, pool=False).gateway

    def cdc(endpoint: str | None = pubsub_sandbox.pubsub_endpoint) -> Check:
        inputs = inputs_for(settings, gateway, effective_config(settings))
        inputs.intake_mode, inputs.pubsub_endpoint = "subscribe", endpoint
        (result,) = run_checks(inputs, ["change_data_capture"])
        return result

    assert cdc().status is Status.OK
    pubsub_sandbox.admin().set_cdc([])  # Lead no longer selected in Setup
    failed = cdc()
    assert failed.status is Status.FAIL and "not enabled for Lead" in failed.detail
    assert "Change Data Capture" in failed.fix
    unreachable = cdc("127.0.0.1:9")
    assert unreachable.status is Status.FAIL and "does not answer" in unreachable.detail


def test_users(check, sandbox, settings):
    assert check("users").status is Status.OK
    sandbox.admin().deactivate_user("sarah.johnson@acme-sales.example")
    warned = check("users")
    assert warned.status is Status.WARN and "inactive: sarah.johnson@" in warned.detail
    wrong = settings.model_copy(update={"intake_users": "web-to-lead@acme-sales.example"})
    failed = check("users", wrong)
    assert failed.status is Status.FAIL and "web-to-lead@acme-sales.example" in failed.detail
