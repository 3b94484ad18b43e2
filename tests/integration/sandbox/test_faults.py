"""Fault injection: a retrying client meets every fault kind and the org stays consistent."""

from __future__ import annotations

import pytest
import requests

from devkit.sandbox.faults import FaultConfig

pytestmark = pytest.mark.integration


class RetryingClient:
    """A minimal client that re-authenticates on 401 and retries transient failures."""

    def __init__(self, sandbox, session: requests.Session) -> None:
        self.sandbox = sandbox
        self.session = session
        self.seen: set[str] = set()
        self.token = self._token()

    def _token(self) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.sandbox.client_id,
            "client_secret": self.sandbox.client_secret,
        }
        return self.session.post(self.sandbox.token_url, data=form, timeout=10).json()[
            "access_token"
        ]

    def call(self, method: str, path: str, **kwargs):
        for _ in range(30):
            headers = {"Authorization": f"Bearer {self.token}", "Sforce-Auto-Assign": "FALSE"}
            try:
                response = self.session.request(
                    method, self.sandbox.instance_url + path, headers=headers, timeout=10, **kwargs
                )
            except requests.ConnectionError:
                self.seen.add("reset")
                continue
            if response.status_code == 401:
                self.seen.add("INVALID_SESSION_ID")
                self.token = self._token()
                continue
            if response.status_code in (500, 503):
                self.seen.add(response.json()[0]["errorCode"])
                continue
            return response
        raise AssertionError("no success after 30 attempts")


def test_a_retrying_client_sees_every_fault_and_all_or_none_never_half_applies(
    sandbox, sandbox_session
):
    admin = sandbox.admin()
    ids = admin.create_leads(count=100)
    target = admin.user_ids()["priya.sharma@acme-sales.example"]
    admin.set_faults(FaultConfig.uniform(0.2, slow_seconds=0.01, seed=3))
    client = RetryingClient(sandbox, sandbox_session)
    for _ in range(200):
        client.call(
            "GET", "/services/data/v59.0/query/", params={"q": "SELECT Id FROM Lead LIMIT 5"}
        )
    for start in range(0, 100, 10):
        batch = ids[start : start + 10]
        while True:
            body = {
                "allOrNone": True,
                "records": [
                    {"attributes": {"type": "Lead"}, "id": i, "OwnerId": target} for i in batch
                ],
            }
            results = client.call(
                "PATCH", "/services/data/v59.0/composite/sobjects", json=body
            ).json()
            owners = {admin.get_lead(i)["OwnerId"] for i in batch}
            assert len(owners) == 1, "an allOrNone collection was half applied"
            if all(r["success"] for r in results):
                break
            codes = {r["errors"][0]["statusCode"] for r in results}
            assert codes <= {"UNABLE_TO_LOCK_ROW", "ALL_OR_NONE_OPERATION_ROLLED_BACK"}
            client.seen.add("UNABLE_TO_LOCK_ROW")
    counts = admin.fault_counts()
    assert {
        "server_unavailable",
        "internal_error",
        "reset",
        "reset_after",
        "slow",
        "expire_session",
        "lock_row",
    } <= set(counts)
    assert {
        "SERVER_UNAVAILABLE",
        "UNKNOWN_EXCEPTION",
        "reset",
        "INVALID_SESSION_ID",
        "UNABLE_TO_LOCK_ROW",
    } <= client.seen
    assert {admin.get_lead(i)["OwnerId"] for i in ids} == {target}


def test_faults_can_be_changed_at_runtime_over_the_admin_endpoint(sandbox, sandbox_session):
    from devkit.sandbox.remote import RemoteAdmin

    remote = RemoteAdmin(sandbox.instance_url, sandbox.admin_token, sandbox.ca_path)
    remote.set_faults(config={"server_unavailable": 1.0})
    token = sandbox.access_token()
    response = sandbox_session.get(
        f"{sandbox.instance_url}/services/data/v59.0/limits",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 503 and response.json()[0]["errorCode"] == "SERVER_UNAVAILABLE"
    remote.set_faults(config={})
    assert (
        sandbox_session.get(
            f"{sandbox.instance_url}/services/data/v59.0/limits",
            headers={"Authorization": f"Bearer {token}"},
        ).status_code
        == 200
    )
    assert len(remote.create_leads(count=3)) == 3


@pytest.mark.parametrize("token", [b"nope", "jeton-ü".encode(), "令牌".encode()])
def test_admin_endpoint_refuses_a_wrong_token(sandbox, sandbox_session, token):
    response = sandbox_session.post(
        f"{sandbox.instance_url}/__sandbox/api_calls",
        json={},
        headers={"X-Sandbox-Admin-Token": token},  # non-ASCII: a 401, not a TypeError (500)
    )
    assert response.status_code == 401
