"""The worker's /healthz and /metrics server: threaded, loopback by default, /metrics
behind an optional bearer token, and /healthz naming an error kind, never its text."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from tests.unit.jobs.test_cadence import a_worker
from worker import metrics as metrics_module
from worker.jobs.deps import Deps
from worker.metrics import Health, Metrics, serve
from worker.settings import load_settings


@pytest.fixture
def served() -> Iterator[tuple[Metrics, Health, str]]:
    metrics, health = Metrics(), Health(max_age=60)
    server = serve(metrics, health, 0)
    try:
        yield metrics, health, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serves_metrics_and_healthz_on_a_free_port(served: tuple[Metrics, Health, str]) -> None:
    metrics, health, base = served
    metrics.routed.inc(3)

    assert b"leadrouter_leads_routed_total 3.0" in _get(f"{base}/metrics")[1]
    status, body = _get(f"{base}/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    health.max_age = -1
    status, body = _get(f"{base}/healthz")
    assert status == 503 and json.loads(body)["status"] == "stale"
    assert _get(f"{base}/anything-else")[0] == 404


def test_healthz_answers_while_an_idle_connection_is_open(
    served: tuple[Metrics, Health, str],
) -> None:
    _metrics, _health, base = served
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as idle:
        idle.sendall(b"GET /metr")  # half a request line, then nothing

        status, _body = _get(f"{base}/healthz")  # one request at a time: this timed out

    assert status == 200


def test_an_idle_connection_is_dropped(
    served: tuple[Metrics, Health, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics_module._Quiet, "timeout", 0.1)
    port = int(served[2].rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as idle:
        assert idle.recv(1) == b""  # closed by the server, not by our 5 s timeout


def test_it_listens_on_loopback_unless_told_otherwise() -> None:
    server = serve(Metrics(), Health(), 0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.shutdown()
        server.server_close()
    assert load_settings().metrics_host == "127.0.0.1"
    assert load_settings(metrics_host="0.0.0.0").metrics_host == "0.0.0.0"


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer wrong", 401),
        ("Basic czNjcmV0LXRva2Vu", 401),
        ("Bearer s3cret-tökén-wrong", 401),  # non-ASCII: refused, not a TypeError (500)
        ("Bearer s3cret-token", 200),
    ],
)
def test_metrics_needs_the_bearer_token_when_one_is_set(
    authorization: str | None, status: int
) -> None:
    server = serve(Metrics(), Health(), 0, token="s3cret-token")
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        headers = {"Authorization": authorization} if authorization else {}
        if authorization:  # urllib sends str headers as latin-1; send the UTF-8 bytes
            headers = {"Authorization": authorization.encode().decode("latin-1")}
        assert _get(f"{base}/metrics", headers)[0] == status
        assert _get(f"{base}/healthz")[0] == 200  # liveness probes need no token
    finally:
        server.shutdown()
        server.server_close()


def test_healthz_names_the_error_kind_never_its_text(
    make_deps: Callable[..., Deps], monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = a_worker(make_deps(), hours=None)

    def failing_cycle(_deps: Deps, **_: object) -> None:
        raise ValueError("Company 'Müller Hydraulik GmbH' is too long")

    monkeypatch.setattr("worker.scheduler.run_cycle", failing_cycle)
    worker.intake()
    server = serve(worker.app.deps.metrics, worker.health, 0)
    try:
        _status, body = _get(f"http://127.0.0.1:{server.server_port}/healthz")
    finally:
        server.shutdown()
        server.server_close()

    doc = json.loads(body)
    assert doc["error_kind"] == "ValueError"
    assert "Müller" not in body.decode() and "Company" not in body.decode()
    assert worker.health.last_error is not None  # `run --once` still says what failed
