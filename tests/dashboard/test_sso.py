"""Single sign-on: the identity provider vouches for an e-mail address (Streamlit's
``st.user``, seeded here as AppTest does, no real provider), the settings map it to a
role, and every page and write uses that role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import auth
from tests.dashboard.conftest import errors, new_app, open_page
from worker.settings import SettingsError, load_settings
from worker.store.db import make_engine
from worker.store.queries.team_settings import change_history
from worker.store.team_repo import Actor

ROLES = "ann@acme.example=admin, @acme.example=viewer, bob@partner.example=viewer"


def claims(email: str, **extra: object) -> dict[str, object]:
    return {"is_logged_in": True, "email": email, **extra}


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (claims("Ann@ACME.example"), Actor("ann@acme.example", "admin")),  # exact beats domain
        (claims("carl@acme.example"), Actor("carl@acme.example", "viewer")),  # the domain
        (claims("bob@partner.example"), Actor("bob@partner.example", "viewer")),
        (claims("eve@partner.example"), None),  # neither listed nor in a listed domain
        (claims("eve@evil.example"), None),
        (claims("ann@acme.example", email_verified=False), None),
        ({"is_logged_in": False, "email": "ann@acme.example"}, None),
        ({"email": "ann@acme.example"}, None),  # AppTest's default user: not signed in
        (claims("eve@acme.example@evil.example"), None),
        (claims("@acme.example"), None),
        (claims(""), None),
    ],
)
def test_sso_roles_map_a_verified_email_or_its_domain(
    user: dict[str, object], expected: Actor | None
) -> None:
    roles = load_settings(dashboard_sso_roles=ROLES).sso_roles
    assert auth.sso_actor(user, roles) == expected


@pytest.mark.parametrize("bad", ["ann@acme.example=owner", "ann=admin", "@acme.example"])
def test_a_bad_sso_mapping_names_the_variable_and_the_entry(bad: str) -> None:
    with pytest.raises(SettingsError, match=f"LEADROUTER_DASHBOARD_SSO_ROLES: '{bad}'"):
        load_settings(dashboard_sso_roles=bad)


@pytest.fixture
def sso_app(
    empty_store: str, routing_file: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[dict[str, object]], AppTest]]:
    """The dashboard with single sign-on only (no users file), as ``user``."""
    import streamlit as st

    monkeypatch.setenv("LEADROUTER_DATABASE_URL", empty_store)
    monkeypatch.setenv("LEADROUTER_ROUTING_CONFIG", str(routing_file))
    monkeypatch.setenv("LEADROUTER_SF_INSTANCE_URL", "https://acme.my.salesforce.com")
    monkeypatch.setenv("LEADROUTER_DASHBOARD_SSO_ROLES", ROLES)

    def make(user: dict[str, object]) -> AppTest:
        at = new_app()
        at.user = user
        return at.run()

    yield make
    st.cache_data.clear()
    st.cache_resource.clear()


def test_an_sso_admin_sees_the_pages_and_their_writes_carry_their_email(
    sso_app: Callable[[dict[str, object]], AppTest], empty_store: str
) -> None:
    at = sso_app(claims("ann@acme.example"))
    assert errors(at) == [] and at.metric, "the overview is shown"
    assert any("ann@acme.example" in c.value and "admin" in c.value for c in at.caption)
    open_page(at, "team").run()
    at.number_input(key="team_weight").set_value(2.5)
    at.button(key="team_save").click().run()
    assert errors(at) == []
    assert [c["actor"] for c in change_history(make_engine(empty_store))] == ["ann@acme.example"]


def test_an_sso_viewer_gets_read_only_settings(
    sso_app: Callable[[dict[str, object]], AppTest],
) -> None:
    at = open_page(sso_app(claims("carl@acme.example")), "team").run()
    assert at.button(key="team_save").disabled


@pytest.mark.parametrize(
    "user", [claims("eve@evil.example"), {"is_logged_in": False}], ids=["unmapped", "signed-out"]
)
def test_without_a_role_only_the_sign_in_is_shown(
    sso_app: Callable[[dict[str, object]], AppTest], user: dict[str, object]
) -> None:
    at = sso_app(user)
    assert [t.value for t in at.title] == ["leadrouter"]
    assert not at.metric and not at.dataframe
    buttons = {b.key for b in at.button}
    assert buttons == ({"sso_sign_out"} if user.get("email") else {"sso_sign_in"})


def test_a_single_sign_on_rep_is_the_rep_whose_key_is_their_email() -> None:
    roles = load_settings(dashboard_sso_roles="@reps.acme.example=rep").sso_roles
    actor = auth.sso_actor(claims("sarah@reps.acme.example"), roles)
    assert actor == Actor("sarah@reps.acme.example", "rep", "sarah@reps.acme.example")
