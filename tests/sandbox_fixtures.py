"""Pytest fixtures for a running sandbox org (registered in ``tests/conftest.py``).

- ``sandbox``: a fresh org per test (roster users, intake queue, 300 accounts with
  contacts and opportunities, no leads), copied from a template seeded once per worker.
- ``sandbox_session``: a ``requests.Session`` that trusts the sandbox CA (and ignores
  ``REQUESTS_CA_BUNDLE``, like the worker's production path).
- ``sf_client``: ``simple_salesforce.Salesforce`` logged in as the integration user.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce

from devkit.sandbox.harness import SandboxHandle, start_sandbox

TEMPLATE_ACCOUNTS = 300


@pytest.fixture(scope="session")
def sandbox_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded state folder (keys, credentials, SQLite) that tests copy."""
    path = tmp_path_factory.mktemp("sandbox-template")
    start_sandbox(path, seed=7, accounts=TEMPLATE_ACCOUNTS).stop()
    return path


@pytest.fixture
def sandbox(sandbox_template: Path, tmp_path: Path) -> Iterator[SandboxHandle]:
    state = tmp_path / "sandbox"
    shutil.copytree(sandbox_template, state)
    handle = start_sandbox(state)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def sandbox_session(sandbox: SandboxHandle) -> Iterator[requests.Session]:
    session = requests.Session()
    session.verify = str(sandbox.ca_path)
    session.trust_env = False
    yield session
    session.close()


@pytest.fixture
def sf_client(sandbox: SandboxHandle, sandbox_session: requests.Session) -> Salesforce:
    return Salesforce(
        session_id=sandbox.access_token(),
        instance_url=sandbox.instance_url,
        session=sandbox_session,
    )
