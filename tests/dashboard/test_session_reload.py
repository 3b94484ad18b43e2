"""A reload keeps the session (the signed token in the URL), a tampered, expired or
signed-out token does not, and the role always comes from the users file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import session
from tests.dashboard.conftest import errors, new_app, sign_in


@pytest.fixture
def env(dashboard_env: Callable[[str], None], empty_store: str) -> Iterator[None]:
    import streamlit as st

    dashboard_env(empty_store)
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def reload(token: str | None) -> AppTest:
    """A new browser session opening the same URL (what a reload is)."""
    at = new_app()
    if token is not None:
        at.query_params[session.TOKEN_PARAM] = token
    return at.run()


def signed_in_as(at: AppTest) -> str | None:
    captions = [c.value for c in at.caption if c.value.startswith("Signed in as")]
    return captions[0] if captions else None


def test_a_reload_keeps_the_session_and_the_viewers_time_zone(env: None) -> None:
    at = sign_in(new_app(), "viewer")
    at.selectbox(key="sidebar_time_zone").select("Asia/Tokyo").run()
    token = at.query_params[session.TOKEN_PARAM]
    again = reload(token[0] if isinstance(token, list) else token)
    assert errors(again) == []
    assert signed_in_as(again) == "Signed in as **viewer** (viewer)"
    assert again.selectbox(key="sidebar_time_zone").value == "Asia/Tokyo"


def _token(at: AppTest) -> str:
    value = at.query_params[session.TOKEN_PARAM]
    return value[0] if isinstance(value, list) else value


def test_a_tampered_token_shows_the_sign_in(env: None) -> None:
    token = _token(sign_in(new_app(), "viewer"))
    payload, mac = token.split(".")
    assert signed_in_as(reload(f"{payload}.{mac[::-1]}")) is None
    assert signed_in_as(reload(f"{payload[:-2]}xx.{mac}")) is None
    assert signed_in_as(reload("garbage")) is None


def test_an_expired_token_shows_the_sign_in(env: None) -> None:
    old = session.make_token(
        "admin", session.session_secret(), datetime.now(UTC) - timedelta(hours=13),
        timedelta(hours=12),
    )  # fmt: skip
    fresh = session.make_token(
        "admin", session.session_secret(), datetime.now(UTC), timedelta(hours=12)
    )
    assert signed_in_as(reload(old)) is None
    assert signed_in_as(reload(fresh)) == "Signed in as **admin** (admin)"


def test_signing_out_revokes_the_token(env: None) -> None:
    at = sign_in(new_app(), "admin")
    token = _token(at)
    at.button(key="sign_out").click().run()
    assert signed_in_as(at) is None
    assert session.TOKEN_PARAM not in at.query_params
    assert signed_in_as(reload(token)) is None


def test_a_token_for_a_user_no_longer_in_the_users_file_gives_nothing(env: None) -> None:
    token = session.make_token(
        "mallory", session.session_secret(), datetime.now(UTC), timedelta(hours=1)
    )
    assert signed_in_as(reload(token)) is None
