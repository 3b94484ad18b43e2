"""The latency profile through the HTTPS server, with plain ``requests``: calls take the
profile's time and overlap across connections; past the org's limit of long-running
requests, new ones are refused as Salesforce refuses them."""

from __future__ import annotations

import shutil
import threading
import time

import pytest
import requests
from click.testing import CliRunner

from devkit.commands.sandbox import sandbox as sandbox_group
from devkit.sandbox.harness import start_sandbox

pytestmark = pytest.mark.integration


@pytest.fixture
def slow_org(sandbox_template, tmp_path):
    """A sandbox whose metadata calls (here: /limits) take exactly ``seconds``."""
    handles = []

    def start(seconds: float, **long_running: float):
        calibration = tmp_path / f"calibration-{len(handles)}.yaml"
        lines = [f"calls:\n  metadata: {{p50: {seconds}, p95: {seconds}}}\n"]
        if long_running:
            lines.append(f"long_running: {long_running}\n".replace("'", ""))
        calibration.write_text("".join(lines))
        state = tmp_path / f"org-{len(handles)}"
        shutil.copytree(sandbox_template, state)
        handle = start_sandbox(state, latency=calibration)
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        handle.stop()


def _limits(handle) -> requests.Response:
    with requests.Session() as session:  # its own connection
        session.verify, session.trust_env = str(handle.ca_path), False
        return session.get(
            f"{handle.instance_url}/services/data/v59.0/limits",
            headers={"Authorization": f"Bearer {handle.access_token()}"},
            timeout=30,
        )


def _in_threads(count: int, call) -> tuple[list[requests.Response], list[threading.Thread]]:
    results: list[requests.Response] = []
    threads = [threading.Thread(target=lambda: results.append(call())) for _ in range(count)]
    for t in threads:
        t.start()
    return results, threads


def test_calls_take_the_profiles_time_and_overlap_across_connections(slow_org):
    handle = slow_org(0.6)
    started = time.monotonic()
    assert _limits(handle).status_code == 200
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    results, threads = _in_threads(4, lambda: _limits(handle))
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert [r.status_code for r in results] == [200] * 4
    assert 0.6 <= elapsed < 1.8  # one after another would take 2.4 s


def test_past_the_limit_of_long_running_requests_new_ones_are_refused(slow_org):
    handle = slow_org(1.5, threshold_s=0.4, limit=2)
    results, threads = _in_threads(2, lambda: _limits(handle))
    time.sleep(0.8)  # both have now run longer than the threshold
    refused = _limits(handle)
    assert refused.status_code == 403
    assert refused.json() == [
        {
            "message": "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
            "errorCode": "REQUEST_LIMIT_EXCEEDED",
        }
    ]
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [200, 200]
    assert _limits(handle).status_code == 200  # fewer than the limit again


def test_serve_refuses_a_latency_profile_it_cannot_read(tmp_path):
    result = CliRunner().invoke(
        sandbox_group,
        ["serve", "--state-dir", str(tmp_path / "org"), "--port", "0", "--accounts", "0",
         "--latency", str(tmp_path / "missing.yaml")],
    )  # fmt: skip
    assert result.exit_code == 1 and "latency profile not found" in result.output
