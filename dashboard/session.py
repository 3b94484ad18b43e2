"""Who is signed in, for pages: the users file and the actor derived from the proof."""

from __future__ import annotations

import streamlit as st

from dashboard import auth, data, state
from worker.store.team_repo import Actor


def users() -> dict[str, auth.User]:
    return auth.load_users(data.settings().dashboard_users_file)


def current_actor() -> Actor | None:
    """The signed-in actor, re-derived from the session's proof and the users file on
    every call: pages and writes never trust a role stored in session state."""
    try:
        return auth.actor_from(st.session_state.get(state.USER), users())
    except auth.UsersFileError:
        return None


def client_id() -> str:
    try:
        ip = st.context.ip_address
    except Exception:  # noqa: BLE001 - not available outside a browser session
        ip = None
    return ip if isinstance(ip, str) and ip else "unknown"
