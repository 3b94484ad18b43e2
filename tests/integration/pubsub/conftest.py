"""A sandbox org serving the Pub/Sub API, a test client, and a REST client that names
itself in ``Sforce-Call-Options`` (as the worker's writes do)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from devkit.sandbox.harness import SandboxHandle, start_sandbox
from tests.integration.pubsub.client import PubSubClient
from worker.settings import load_settings
from worker.sfdc.connection import SalesforceConnection

KEEPALIVE_S = 0.5
CLIENT_OPTIONS = {"Sforce-Call-Options": "client=leadrouter", "Sforce-Auto-Assign": "FALSE"}


@pytest.fixture
def pubsub_sandbox(sandbox_template: Path, tmp_path: Path) -> Iterator[SandboxHandle]:
    state = tmp_path / "sandbox"
    shutil.copytree(sandbox_template, state)
    handle = start_sandbox(state, pubsub_port=0, keepalive_s=KEEPALIVE_S)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def client(pubsub_sandbox: SandboxHandle) -> Iterator[PubSubClient]:
    client = PubSubClient(pubsub_sandbox)
    yield client
    client.close()


class Rest:
    """sObject Rows calls as the integration user, API v62.0, naming the client."""

    def __init__(self, sandbox: SandboxHandle) -> None:
        self.base = f"{sandbox.instance_url}/services/data/v62.0/sobjects/Lead"
        self.session = requests.Session()
        self.session.verify = str(sandbox.ca_path)
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Bearer {sandbox.access_token()}"

    def create(self, headers: dict[str, str] | None = None, **values: Any) -> str:
        response = self.session.post(self.base, json=values, headers=headers or CLIENT_OPTIONS)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def update(self, lead_id: str, headers: dict[str, str] | None = None, **values: Any) -> None:
        response = self.session.patch(
            f"{self.base}/{lead_id}", json=values, headers=headers or CLIENT_OPTIONS
        )
        assert response.status_code == 204, response.text

    def delete(self, lead_id: str) -> None:
        response = self.session.delete(f"{self.base}/{lead_id}", headers=CLIENT_OPTIONS)
        assert response.status_code == 204, response.text


@pytest.fixture
def rest(pubsub_sandbox: SandboxHandle) -> Iterator[Rest]:
    rest = Rest(pubsub_sandbox)
    yield rest
    rest.session.close()


def connection_to(sandbox: SandboxHandle, tmp_path: Path) -> SalesforceConnection:
    """The worker's own connection to the sandbox's REST API (client credentials; its
    store in ``tmp_path``)."""
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'store.db'}",
        sf_instance_url=sandbox.instance_url,
        sf_token_url=sandbox.token_url,
        sf_ca_bundle=str(sandbox.ca_path),
        sf_consumer_key=sandbox.client_id,
        sf_consumer_secret=sandbox.client_secret,
        sf_auth_flow="client_credentials",
    )
    return SalesforceConnection(settings)
