"""HMAC signatures for generic webhooks, and how a receiver verifies them.

Every POST carries::

    X-Leadrouter-Signature: sha256=<hex HMAC-SHA256 of the raw request body, keyed with the secret>
    X-Leadrouter-Timestamp: <unix seconds when this attempt was sent>
    X-Leadrouter-Delivery:  <stable id of the message, the same on every retry>

The body is JSON and repeats the timestamp as ``"timestamp"``, so the signature covers
it. A receiver:

1. computes ``hmac.new(secret, raw_body, hashlib.sha256).hexdigest()`` over the bytes
   exactly as received (before any JSON parsing) and compares it to the header with
   ``hmac.compare_digest``;
2. parses the body and checks ``body["timestamp"]`` equals the timestamp header and is
   within 5 minutes of its clock (rejects replays of old requests);
3. ignores a ``X-Leadrouter-Delivery`` id it has already processed (a retry after a lost
   response can deliver the same message twice).

:func:`verify` does all three but the last (which needs the receiver's memory).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

SIGNATURE_HEADER = "X-Leadrouter-Signature"
TIMESTAMP_HEADER = "X-Leadrouter-Timestamp"
DELIVERY_HEADER = "X-Leadrouter-Delivery"
TOLERANCE_SECONDS = 300


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(
    secret: bytes,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float,
    tolerance: float = TOLERANCE_SECONDS,
) -> bool:
    """True when the signature matches and the request is fresh (not a replay)."""
    header = _get(headers, SIGNATURE_HEADER)
    if header is None or not hmac.compare_digest(header, sign(secret, body)):
        return False
    stamp = _get(headers, TIMESTAMP_HEADER)
    try:
        claimed = int(json.loads(body)["timestamp"])
        sent = int(stamp or "")
    except (ValueError, KeyError, TypeError):
        return False
    return claimed == sent and abs(now - sent) <= tolerance


def _get(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None
