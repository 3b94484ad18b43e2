"""The demo sink checks webhook signatures with :func:`worker.notify.signing.verify`: a
non-ASCII header is an invalid signature (not a crashed request) and a replay under a new
delivery header is flagged."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devkit.sink import Sink
from worker.notify import signing

pytestmark = pytest.mark.integration
SECRET = b"sink-secret"


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[Sink]:
    started = Sink(tmp_path, secret=SECRET).start()
    yield started
    started.stop()


def _post(sink: Sink, body: bytes, headers: dict[str, bytes | str]) -> int:
    url = f"http://127.0.0.1:{sink.http_port}/hook"
    return requests.post(url, data=body, headers=headers, timeout=5).status_code


def _signed(delivery: str) -> tuple[bytes, dict[str, bytes | str]]:
    stamp = int(time.time())
    body = json.dumps({"delivery_id": delivery, "timestamp": stamp, "event": "lead_held"})
    return body.encode(), {
        signing.SIGNATURE_HEADER: signing.sign(SECRET, body.encode()),
        signing.TIMESTAMP_HEADER: str(stamp),
        signing.DELIVERY_HEADER: delivery,
    }


def test_a_replay_under_a_new_delivery_header_is_flagged(sink: Sink) -> None:
    body, headers = _signed("lead_held:00Q1:hook")

    assert _post(sink, body, headers) == 200
    assert _post(sink, body, {**headers, signing.DELIVERY_HEADER: "fresh-id"}) == 200

    assert [e["signature_valid"] for e in sink.log.entries()] == [True, False]


def test_a_non_ascii_signature_is_invalid_not_a_crash(sink: Sink) -> None:
    body, headers = _signed("lead_held:00Q2:hook")

    status = _post(sink, body, {**headers, signing.SIGNATURE_HEADER: "sha256=ü".encode()})

    assert status == 200
    assert [e["signature_valid"] for e in sink.log.entries()] == [False]
