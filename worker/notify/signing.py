"""HMAC signatures for generic webhooks, and how a receiver verifies them.

Every POST carries::

    X-Leadrouter-Signature: sha256=<hex HMAC-SHA256 of the raw request body, keyed with the secret>
    X-Leadrouter-Timestamp: <unix seconds when this attempt was sent>
    X-Leadrouter-Delivery:  <stable id of the message, the same on every retry>

The body is JSON and repeats the timestamp as ``"timestamp"`` and the delivery id as
``"delivery_id"``, so the signature covers both. A receiver:

1. computes ``hmac.new(secret, raw_body, hashlib.sha256).hexdigest()`` over the bytes
   exactly as received (before any JSON parsing) and compares it, as bytes, to the
   header with ``hmac.compare_digest`` (on ``str`` it raises ``TypeError`` for
   non-ASCII input);
2. parses the body and checks ``body["timestamp"]`` equals the timestamp header and is
   within 5 minutes of its clock (rejects replays of old requests);
3. checks ``body["delivery_id"]`` equals the ``X-Leadrouter-Delivery`` header: the header
   is not signed, so without this a replay within the 5 minutes under a new header would
   pass as a new message;
4. ignores a delivery id it has already processed (a retry after a lost response
   delivers the same message twice; a replay repeats the signed id).

:func:`verify` does all but the last (which needs the receiver's memory of ids for the
5-minute window).
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
    """True when the signature matches, the request is fresh, and its delivery id header
    is the signed one (so de-duplicating on it catches a replay)."""
    header = _get(headers, SIGNATURE_HEADER)
    if header is None or not hmac.compare_digest(_bytes(header), _bytes(sign(secret, body))):
        return False
    stamp, delivery = _get(headers, TIMESTAMP_HEADER), _get(headers, DELIVERY_HEADER)
    try:
        signed = json.loads(body)
        claimed, signed_id = int(signed["timestamp"]), signed["delivery_id"]
        sent = int(stamp or "")
    except (ValueError, KeyError, TypeError, OverflowError):  # Infinity is valid JSON
        return False
    if not isinstance(signed_id, str) or delivery is None:
        return False
    same_id = hmac.compare_digest(_bytes(delivery), _bytes(signed_id))
    return same_id and claimed == sent and abs(now - sent) <= tolerance


def _bytes(text: str) -> bytes:
    """UTF-8 bytes for :func:`hmac.compare_digest`, which raises TypeError on non-ASCII
    ``str``; lone surrogates (undecodable header bytes) are kept, not an error."""
    return text.encode("utf-8", "surrogatepass")


def _get(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None
