"""Webhook signatures verify (and refuse tampering and replays); retry delays back off."""

from __future__ import annotations

import json
import random

import pytest

from worker.notify import signing
from worker.notify.delivery import backoff_seconds
from worker.notify.model import DeliveryPolicy

SECRET = b"s3cret"
NOW = 1_800_000_000


def _request(stamp: int = NOW, body_stamp: int | None = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {"timestamp": stamp if body_stamp is None else body_stamp, "event": "x"}
    ).encode()
    headers = {
        "x-leadrouter-signature": signing.sign(SECRET, body),
        "X-Leadrouter-Timestamp": str(stamp),
    }
    return body, headers


def test_signature_over_the_raw_body_verifies() -> None:
    body, headers = _request()

    assert headers["x-leadrouter-signature"].startswith("sha256=")
    assert signing.verify(SECRET, body, headers, now=NOW + 10)


def test_tampered_body_or_wrong_secret_fails() -> None:
    body, headers = _request()

    assert not signing.verify(SECRET, body.replace(b'"x"', b'"y"'), headers, now=NOW)
    assert not signing.verify(b"other", body, headers, now=NOW)


def test_replayed_old_request_fails() -> None:
    body, headers = _request()

    assert not signing.verify(SECRET, body, headers, now=NOW + 301)


def test_timestamp_header_must_match_the_signed_body() -> None:
    body, headers = _request(stamp=NOW, body_stamp=NOW - 3600)

    assert not signing.verify(SECRET, body, headers, now=NOW)


def test_backoff_doubles_is_capped_and_jittered_within_half_to_full() -> None:
    policy = DeliveryPolicy(backoff_seconds=30, max_backoff_seconds=300)
    rng = random.Random(7)
    delays = [backoff_seconds(n, policy, rng) for n in (1, 2, 3, 4, 10)]

    ceilings = [30, 60, 120, 240, 300]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))


@pytest.mark.parametrize(("retry_after", "expected"), [(12.0, 12.0), (99999.0, 300.0)])
def test_retry_after_from_the_server_wins_but_is_capped(
    retry_after: float, expected: float
) -> None:
    policy = DeliveryPolicy(backoff_seconds=30, max_backoff_seconds=300)

    assert backoff_seconds(3, policy, random.Random(), retry_after) == expected
