"""The session token that survives a reload: signed, expiring, revocable."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from dashboard import session

SECRET = b"k" * 32
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
TTL = timedelta(hours=12)


def test_a_fresh_token_names_its_user_and_preferences() -> None:
    token = session.make_token("admin", SECRET, NOW, TTL, {"pref_time_zone": "Asia/Tokyo"})
    read = session.read_token(token, SECRET, NOW + timedelta(hours=11))
    assert read is not None and read.username == "admin"
    assert read.prefs == {"pref_time_zone": "Asia/Tokyo"}
    assert read.expires == NOW + TTL


def test_an_expired_token_is_refused() -> None:
    token = session.make_token("admin", SECRET, NOW, TTL)
    assert session.read_token(token, SECRET, NOW + TTL) is None
    assert session.read_token(token, SECRET, NOW + TTL - timedelta(seconds=1)) is not None


def test_a_tampered_token_is_refused() -> None:
    token = session.make_token("viewer", SECRET, NOW, TTL)
    payload, mac = token.split(".")
    raw = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for change in ({"u": "admin"}, {"exp": raw["exp"] + 86_400}):
        forged = base64.urlsafe_b64encode(json.dumps({**raw, **change}).encode()).decode()
        assert session.read_token(f"{forged.rstrip('=')}.{mac}", SECRET, NOW) is None
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    assert session.read_token(f"{payload}.{flipped}", SECRET, NOW) is None
    assert session.read_token(token, b"another secret of thirty-two by", NOW) is None


def test_garbage_is_refused_without_an_error() -> None:
    for junk in (None, "", "abc", "a.b.c", "!!!.???", "x" * 5000):
        assert session.read_token(junk, SECRET, NOW) is None
    unsigned = base64.urlsafe_b64encode(b"not json").decode()
    assert session.read_token(f"{unsigned}.{session._mac(SECRET, unsigned)}", SECRET, NOW) is None


def test_a_signed_out_token_is_refused() -> None:
    token = session.make_token("admin", SECRET, NOW, TTL, token_id="signed-out-1")
    read = session.read_token(token, SECRET, NOW)
    assert read is not None
    session.revoke(read)
    assert session.read_token(token, SECRET, NOW) is None
