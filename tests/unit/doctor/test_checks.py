"""The checks' judgements on a fake org: thresholds, what a FAIL says, the gates, the
output line and JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from worker.doctor import Inputs, Status, exit_code, preflight_failure, run_checks, to_json
from worker.doctor.checks import config_fields, headroom_status, skew_status
from worker.jobs.fields import lead_fields
from worker.routing_config.loader import parse_config as load_config_text
from worker.sfdc.errors import SfdcAuthError
from worker.sfdc.mapping import LeadRow, UserRow
from worker.sfdc.probe import ApiLimits, Identity, ObjectAccess, TopicAccess

NOW = datetime(2026, 12, 6, 23, 40, tzinfo=UTC)
CONFIG = """
version: 1
intake: {queues: [Lead_Intake]}
account_matching: {enabled: false}
reps: [{email: a@x.example}]
pools: {p: {method: round_robin, members: [a@x.example]}}
rules:
  - {name: DE, when: [{field: Country, in: [DE]}], action: {pool: p}}
  - {name: Rest, action: hold}
"""


@dataclass
class FakeOrg:
    versions: list[str] = field(default_factory=lambda: ["58.0", "59.0", "66.0"])
    objects: dict[str, ObjectAccess | None] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)
    queues: dict[str, str] = field(default_factory=lambda: {"Lead_Intake": "00G1"})
    queue_types: dict[str, set[str]] = field(default_factory=lambda: {"00G1": {"Lead"}})
    rules: list[str] = field(default_factory=list)
    limits: ApiLimits = ApiLimits(100_000, 90_000, NOW)
    auth_error: bool = False
    users: list[UserRow] = field(
        default_factory=lambda: [UserRow("005a", "a@x.example", "a@x.example", "A", True)]
    )
    topic: TopicAccess = TopicAccess(True, can_subscribe=True)
    calls: list[str] = field(default_factory=list)

    def api_versions(self) -> list[str]:
        self.calls.append("versions")
        return self.versions

    def identity(self) -> Identity:
        self.calls.append("identity")
        if self.auth_error:
            raise SfdcAuthError("invalid_client: invalid client credentials", status=400)
        return Identity("int@x.example", "005x", "00Dx")

    def describe_object(self, sobject: str) -> ObjectAccess | None:
        self.calls.append(f"describe {sobject}")
        if sobject in self.objects:
            return self.objects[sobject]
        names = [*lead_fields(load_config_text(CONFIG)), "Description"]
        return ObjectAccess(sobject, True, True,
                            {n.lower(): True for n in names if n not in self.hidden})  # fmt: skip

    def org_limits(self) -> ApiLimits:
        self.calls.append("limits")
        return self.limits

    def active_assignment_rules(self, sobject: str) -> list[str]:
        return self.rules

    def queue_ids(self, developer_names: list[str]) -> dict[str, str]:
        return {n: self.queues[n] for n in developer_names if n in self.queues}

    def queue_sobjects(self, queue_ids: list[str]) -> dict[str, set[str]]:
        return {q: self.queue_types.get(q, set()) for q in queue_ids}

    def users_by_email(self, emails: list[str]) -> list[UserRow]:
        return [u for u in self.users if u.email in {e.lower() for e in emails}]

    def next_leads(self, owner_ids: list[str], fields: list[str], limit: int) -> list[LeadRow]:
        return []

    def change_events_topic(self, endpoint: str, topic: str, org_id: str) -> TopicAccess:
        self.calls.append(f"GetTopic {topic} {org_id}")
        return self.topic


def inputs(org: FakeOrg, now: datetime = NOW, version: str = "59.0") -> Inputs:
    return Inputs(probe=org, config=load_config_text(CONFIG), api_version=version,
                  now=lambda: now)  # fmt: skip


def by_name(org: FakeOrg, **kw: object) -> dict[str, object]:
    return {c.name: c for c in run_checks(inputs(org, **kw))}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("remaining", "status"),
    [(100_000, Status.OK), (20_000, Status.OK), (19_999, Status.WARN), (5_000, Status.WARN),
     (4_999, Status.FAIL), (0, Status.FAIL)],
)  # fmt: skip
def test_api_headroom_warns_below_20_and_fails_below_5_percent(remaining, status):
    assert headroom_status(100_000, remaining) is status


@pytest.mark.parametrize(
    ("seconds", "status"),
    [(0, Status.OK), (5, Status.OK), (-5.5, Status.WARN), (60, Status.WARN), (61, Status.FAIL),
     (-3600, Status.FAIL)],
)  # fmt: skip
def test_clock_skew_warns_above_5_and_fails_above_60_seconds(seconds, status):
    assert skew_status(seconds) is status


def test_a_healthy_org_passes_and_exits_zero():
    checks = run_checks(inputs(FakeOrg()))
    assert [c.status for c in checks if c.status is not Status.OK] == [Status.SKIP, Status.SKIP]
    assert exit_code(checks) == 0


def test_the_fields_the_config_reads_come_from_the_one_place():
    config = load_config_text(CONFIG)
    assert config_fields(config) == {"Lead": list(lead_fields(config))}
    assert "Country" in config_fields(config)["Lead"]


def test_a_field_hidden_by_field_level_security_fails_naming_it():
    check = by_name(FakeOrg(hidden={"Country"}))["fields"]
    assert check.status is Status.FAIL and "Lead.Country" in check.detail


def test_a_misspelt_queue_fails_and_the_worker_would_not_start():
    org = FakeOrg(queues={"Lead_Intake_Old": "00G1"})
    failure = preflight_failure(inputs(org))
    assert failure is not None and failure.name == "intake_queues"
    assert "no queue with DeveloperName Lead_Intake" in failure.line()
    assert "Queue Name, not its Label" in failure.line()


def test_a_bad_token_fails_once_and_skips_the_rest_without_asking_salesforce():
    org = FakeOrg(auth_error=True)
    checks = run_checks(inputs(org))
    assert checks[0].status is Status.FAIL and "invalid_client" in checks[0].detail
    assert {c.status for c in checks[1:]} == {Status.SKIP}
    assert org.calls == ["identity"] and exit_code(checks) == 1


def test_an_unsupported_api_version_names_the_latest():
    check = by_name(FakeOrg(), version="70.0")["api_version"]
    assert check.status is Status.FAIL and "LEADROUTER_SF_API_VERSION" in check.fix
    assert "66.0" in check.fix


def test_owner_id_not_updateable_fails_lead_access():
    fields = {"id": False, "ownerid": False}
    check = by_name(FakeOrg(objects={"Lead": ObjectAccess("Lead", True, True, fields)}))
    assert check["lead_access"].status is Status.FAIL
    assert "OwnerId is not updateable" in check["lead_access"].detail


def test_unreadable_objects_are_listed_in_one_line():
    check = by_name(FakeOrg(objects={"Task": None, "Contact": None}))["read_access"]
    assert check.status is Status.FAIL and "Contact, Task" in check.detail


def test_limits_are_asked_once_for_headroom_and_clock():
    org = FakeOrg(limits=ApiLimits(100_000, 3_000, NOW - timedelta(seconds=8)))
    checks = by_name(org)
    assert checks["api_headroom"].status is Status.FAIL
    assert checks["clock_skew"].status is Status.WARN
    assert "8 s ahead of" in checks["clock_skew"].detail
    assert org.calls.count("limits") == 1


def test_an_active_assignment_rule_warns_and_names_the_header():
    check = by_name(FakeOrg(rules=["Standard"]))["assignment_rules"]
    assert check.status is Status.WARN and "Sforce-Auto-Assign: FALSE" in check.detail


def test_line_and_json_shapes():
    checks = run_checks(inputs(FakeOrg(queue_types={"00G1": {"Case"}})))
    line = next(c for c in checks if c.name == "intake_queues").line()
    assert line.startswith("FAIL  intake_queues ") and "  → add Lead" in line
    ok_line = checks[0].line()
    assert ok_line.startswith("ok    token ") and "→" not in ok_line
    data = json.loads(to_json(checks))
    assert data["ok"] is False
    assert {"name", "status", "detail", "fix"} == set(data["checks"][0])
    assert [c["status"] for c in data["checks"]].count("FAIL") == 1


def test_change_data_capture_is_asked_only_in_subscribe_mode():
    org = FakeOrg(topic=TopicAccess(False, problem="not_found", detail="topic not found"))
    assert by_name(org)["change_data_capture"].status is Status.SKIP
    assert not [c for c in org.calls if c.startswith("GetTopic")]
    subscribing = inputs(org)
    subscribing.intake_mode, subscribing.pubsub_endpoint = "subscribe", "pubsub.example:7443"
    (check,) = run_checks(subscribing, ["change_data_capture"])
    assert check.status is Status.FAIL and "not enabled for Lead" in check.detail
    assert "GetTopic /data/LeadChangeEvent 00Dx" in org.calls  # the identity's org id
    subscribing.pubsub_endpoint = None
    (check,) = run_checks(subscribing, ["change_data_capture"])
    assert check.status is Status.FAIL and "LEADROUTER_SF_PUBSUB_ENDPOINT" in check.fix


def test_an_unknown_intake_user_fails_and_unknown_or_inactive_reps_warn():
    org = FakeOrg(users=[UserRow("005a", "a@x.example", "a@x.example", "A", False)])
    check = by_name(org)["users"]
    assert check.status is Status.WARN and "inactive: a@x.example" in check.detail
    assert by_name(FakeOrg(users=[]))["users"].detail.startswith("rep(s) not found: a@x.example")
    with_intake = inputs(FakeOrg())
    with_intake.intake_user_keys = ("web@x.example",)
    failure = preflight_failure(with_intake)
    assert failure is not None and failure.name == "users"
    assert "intake user(s) not found in Salesforce: web@x.example" in failure.detail


def test_a_check_salesforce_did_not_answer_is_marked_transient_and_its_json_says_so():
    from worker.sfdc.errors import SfdcTransientError

    class Outage(FakeOrg):
        def queue_ids(self, names):  # type: ignore[no-untyped-def]
            raise SfdcTransientError("HTTP 503 SERVER_UNAVAILABLE")

    checks = run_checks(inputs(Outage()))
    queues = next(c for c in checks if c.name == "intake_queues")
    assert queues.failed and queues.transient
    assert not any(c.transient for c in checks if c.name != "intake_queues")
    shown = {c["name"]: c for c in json.loads(to_json(checks))["checks"]}
    assert shown["intake_queues"]["transient"] is True
    assert "transient" not in shown["token"]  # the JSON of an answered check is unchanged


def test_a_session_expired_at_sign_in_is_worth_asking_again_a_refused_token_is_not():
    class Expired(FakeOrg):
        def identity(self) -> Identity:
            raise SfdcAuthError("Session expired or invalid", status=401,
                                error_code="INVALID_SESSION_ID")  # fmt: skip

    expired = run_checks(inputs(Expired()))[0]
    refused = run_checks(inputs(FakeOrg(auth_error=True)))[0]
    assert expired.failed and expired.transient
    assert refused.failed and not refused.transient
