"""Who is signed in, for pages: the users file, the actor derived from the proof or from
single sign-on, and the client address the sign-in throttle may trust."""

from __future__ import annotations

import logging
import os
from functools import cache
from typing import Any

import streamlit as st

from dashboard import auth, data, state
from worker.store.team_repo import Actor

log = logging.getLogger("leadrouter.dashboard.session")
# uvicorn (under Streamlit) replaces the client address with X-Forwarded-For when the
# peer is in this list, and its default list is localhost: `leadrouter dashboard serve`
# sets it to LEADROUTER_TRUSTED_PROXIES (see worker.commands.dashboard).
PROXY_ENV = "FORWARDED_ALLOW_IPS"


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
