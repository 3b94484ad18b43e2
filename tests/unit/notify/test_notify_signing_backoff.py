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
    signed = {"delivery_id": "lead_assigned:00Q1:hook", "event": "x"}
    body = json.dumps({**signed, "timestamp": stamp if body_stamp is None else body_stamp})
    headers = {
        "x-leadrouter-signature": signing.sign(SECRET, body.encode()),
        "X-Leadrouter-Timestamp": str(stamp),
        "X-Leadrouter-Delivery": "lead_assigned:00Q1:hook",
    }
    return body.encode(), headers


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


def test_a_replay_under_a_new_delivery_header_is_refused() -> None:
    """The header is not signed: a receiver de-duplicating on it would take a replay
    within the 5 minutes, sent with a fresh id, for a new message."""
    body, headers = _request()
    assert signing.verify(SECRET, body, headers, now=NOW + 240)

    replay = {**headers, "X-Leadrouter-Delivery": "lead_assigned:00Q1:hook-again"}

    assert not signing.verify(SECRET, body, replay, now=NOW + 240)


def test_a_request_without_the_delivery_header_or_signed_id_is_refused() -> None:
    body, headers = _request()
    del headers["X-Leadrouter-Delivery"]
    assert not signing.verify(SECRET, body, headers, now=NOW)
    unsigned_id = json.dumps({"timestamp": NOW, "event": "x"}).encode()
    headers = {"X-Leadrouter-Signature": signing.sign(SECRET, unsigned_id),
               "X-Leadrouter-Timestamp": str(NOW), "X-Leadrouter-Delivery": "d"}  # fmt: skip
    assert not signing.verify(SECRET, unsigned_id, headers, now=NOW)


@pytest.mark.parametrize(
    "header", ["X-Leadrouter-Signature", "X-Leadrouter-Delivery", "X-Leadrouter-Timestamp"]
)
@pytest.mark.parametrize("value", ["sha256=ü", "Ünïcödé", "\udcff", "秘密"])
def test_non_ascii_headers_are_refused_not_a_type_error(header: str, value: str) -> None:
    body, headers = _request()
    headers = {k: v for k, v in headers.items() if k.lower() != header.lower()}

    assert not signing.verify(SECRET, body, {**headers, header: value}, now=NOW)


def test_an_infinite_timestamp_is_refused() -> None:
    body = b'{"delivery_id": "d", "timestamp": Infinity}'
    headers = {"X-Leadrouter-Signature": signing.sign(SECRET, body),
               "X-Leadrouter-Timestamp": "1", "X-Leadrouter-Delivery": "d"}  # fmt: skip

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
