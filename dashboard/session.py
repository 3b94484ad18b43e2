"""Who is signed in, for pages: the users file, the actor derived from the proof or from
single sign-on, the session token that survives a browser reload, and the client address
the sign-in throttle may trust.

The session token (in the URL's ``session`` query parameter: Streamlit cannot set a
cookie) is ``<payload>.<HMAC-SHA256>``: the payload names the user, an expiry, a random
id and the viewer's time-zone preferences, and the MAC is made with the settings' session
secret. A token gives back a username only: the role always comes from the users file
(:func:`dashboard.auth.actor_from`), so a user removed or demoted there loses access at
the next run. Signing out revokes the token's id, in the store (``revoked_session``), so a
signed-out token stays refused on every dashboard process and after a restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import streamlit as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from dashboard import auth, data, state
from worker.store.sign_in_repo import is_revoked, revoke_session
from worker.store.team_repo import Actor

log = logging.getLogger("leadrouter.dashboard.session")
# uvicorn (under Streamlit) replaces the client address with X-Forwarded-For when the
# peer is in this list, and its default list is localhost: `leadrouter dashboard serve`
# sets it to LEADROUTER_TRUSTED_PROXIES (see worker.commands.dashboard).
PROXY_ENV = "FORWARDED_ALLOW_IPS"
TOKEN_PARAM = "session"  # the query parameter that carries the session token
_PROCESS_SECRET = secrets.token_bytes(32)  # when the settings name no session secret
_REVOKED: set[str] = set()  # token ids signed out in this process


@dataclass(frozen=True)
class Token:
    """What a valid session token says."""

    username: str
    expires: datetime
    token_id: str
    prefs: dict[str, Any]


def session_secret() -> bytes:
    configured = data.settings().dashboard_session_secret
    return configured.get_secret_value().encode() if configured else _PROCESS_SECRET


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, payload.encode(), hashlib.sha256).digest())


def make_token(
    username: str,
    secret: bytes,
    now: datetime,
    ttl: timedelta,
    prefs: dict[str, Any] | None = None,
    token_id: str | None = None,
) -> str:
    """A signed session token for ``username``, valid until ``now + ttl``."""
    payload = _b64(
        json.dumps(
            {
                "u": username,
                "exp": int((now + ttl).timestamp()),
                "id": token_id or secrets.token_urlsafe(12),
                "p": prefs or {},
            },
            separators=(",", ":"),
        ).encode()
    )
    return f"{payload}.{_mac(secret, payload)}"


def read_token(
    token: str | None,
    secret: bytes,
    now: datetime,
    revoked: Callable[[str], bool] = lambda _token_id: False,
) -> Token | None:
    """The token's content, or None when it is malformed, tampered with, expired or
    revoked (signed out: in this process, or ``revoked`` says so, which asks the store)."""
    if not token or token.count(".") != 1 or len(token) > 4096:
        return None
    payload, mac = token.split(".")
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        return None
    try:
        raw = json.loads(_unb64(payload))
        username, expires, token_id = str(raw["u"]), int(raw["exp"]), str(raw["id"])
        prefs = raw.get("p") if isinstance(raw.get("p"), dict) else {}
    except (ValueError, KeyError, TypeError):
        return None
    if expires <= now.timestamp() or token_id in _REVOKED or revoked(token_id):
        return None
    return Token(username, datetime.fromtimestamp(expires, UTC), token_id, prefs)


def revoke(token: Token, engine: Engine | None = None) -> None:
    """Sign ``token`` out: in this process at once, and in the store (when given) for
    every dashboard process and after restarts, until the token expires."""
    _REVOKED.add(token.token_id)
    if engine is not None:
        revoke_session(engine, token.token_id, token.expires, datetime.now(UTC))


def _revoked_in_store(token_id: str) -> bool:
    try:
        return is_revoked(data.engine(), token_id)
    except SQLAlchemyError:  # a store without the table yet: nothing was revoked there
        log.warning("cannot read revoked sessions from the store", exc_info=True)
        return False


def _query_token() -> str | None:
    try:
        value = st.query_params.get(TOKEN_PARAM)
    except Exception:  # noqa: BLE001 - no session context (bare script runs)
        return None
    return value if isinstance(value, str) else None


def issue(username: str, prefs: dict[str, Any]) -> None:
    """After a sign-in, or a change of preferences: a new token in the URL (the previous
    one, if any, is revoked)."""
    old = current_token()
    if old is not None:
        revoke(old, data.engine())
    ttl = timedelta(hours=data.settings().dashboard_session_hours)
    token = make_token(username, session_secret(), datetime.now(UTC), ttl, prefs)
    st.session_state[state.TOKEN] = token
    st.query_params[TOKEN_PARAM] = token


def current_token() -> Token | None:
    """This session's valid token (from session state, else the URL), or None."""
    now = datetime.now(UTC)
    for candidate in (st.session_state.get(state.TOKEN), _query_token()):
        token = read_token(candidate, session_secret(), now, _revoked_in_store)
        if token is not None:
            return token
    return None


def restore() -> None:
    """On every run: a session without a sign-in whose URL carries a valid token signs
    in again as that token's user (the proof is remade here, server-side); and the URL
    keeps the token (Streamlit drops query parameters when the page changes)."""
    token = current_token()
    if token is None:
        return
    if st.session_state.get(state.USER) is None:
        st.session_state[state.USER] = auth.SignedIn(token.username, auth.proof(token.username))
        st.session_state[state.TOKEN] = _query_token()
        for key, value in token.prefs.items():
            if key in state.PREF_KEYS:
                st.session_state.setdefault(key, value)
    kept = st.session_state.get(state.TOKEN)
    if kept and _query_token() != kept:
        st.query_params[TOKEN_PARAM] = kept


def sign_out() -> None:
    """Forget the sign-in and revoke the token, so neither this session nor the URL
    signs in again."""
    token = current_token()
    if token is not None:
        revoke(token, data.engine())
    st.session_state.pop(state.USER, None)
    st.session_state.pop(state.TOKEN, None)
    if TOKEN_PARAM in st.query_params:
        del st.query_params[TOKEN_PARAM]


def users() -> dict[str, auth.User]:
    return auth.load_users(data.settings().dashboard_users_file)


def sso_user() -> dict[str, Any]:
    """What the identity provider said about this session (``st.user``), or {}."""
    try:
        return dict(st.user.to_dict())
    except Exception:  # noqa: BLE001 - no session context (bare script runs)
        return {}


def current_actor() -> Actor | None:
    """The signed-in actor, re-derived on every call from single sign-on (the identity
    cookie Streamlit verified) or from the session's proof and the users file: pages and
    writes never trust a role stored in session state."""
    roles = data.settings().sso_roles
    if roles and (actor := auth.sso_actor(sso_user(), roles)) is not None:
        return actor
    try:
        return auth.actor_from(st.session_state.get(state.USER), users())
    except auth.UsersFileError:
        return None


@cache
def _warn_untrusted() -> None:
    log.warning(
        "client addresses are not trusted for sign-in throttling (per account only): start "
        "the dashboard with `leadrouter dashboard serve`, which sets %s from "
        "LEADROUTER_TRUSTED_PROXIES",
        PROXY_ENV,
    )


def client_id() -> str | None:
    """The client's address when the throttle may trust it, else None (per account only).

    It is trusted only when the server was started knowing which proxies to believe: a
    bare ``streamlit run`` keeps uvicorn's default, which takes X-Forwarded-For from any
    local process, so a local attacker could name a new client on every attempt.
    """
    settings = data.settings()
    if os.environ.get(PROXY_ENV) != settings.trusted_proxies:
        _warn_untrusted()
        return None
    try:
        address = st.context.ip_address
    except Exception:  # noqa: BLE001 - not available outside a browser session
        address = None
    return auth.trusted_client(address, settings.trusted_proxy_networks)
