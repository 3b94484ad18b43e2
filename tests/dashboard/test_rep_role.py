"""The rep role: a users-file entry names the rep (``rep:``), the actor carries it from
the file (never from the page), and the signed-in rep sees only My leads, where they
switch themselves on and off and see their own leads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from dashboard import auth
from devkit.commands.dashboard_fake import insert_fake
from tests.dashboard.conftest import PAGES, errors, new_app, open_page, sign_in
from worker.commands.dashboard import hash_password
from worker.store.db import make_engine, upgrade
from worker.store.queries.team_settings import change_history, load_overrides
from worker.store.team_repo import Actor

REP_PASSWORD = "rep-pass-1234"


def _users(tmp_path: Path, entries: list[dict[str, object]]) -> Path:
    path = tmp_path / "users.yaml"
    path.write_text(yaml.safe_dump(entries), encoding="utf-8")
    return path


def test_a_rep_entry_names_its_rep_and_the_actor_carries_it(tmp_path: Path) -> None:
    pw = hash_password(REP_PASSWORD)
    users = auth.load_users(
        _users(
            tmp_path,
            [{"username": "anna", "role": "rep", "rep": "Anna@X.example", "password_hash": pw}],
        )  # fmt: skip
    )
    assert users["anna"].rep == "Anna@X.example"
    signed = auth.SignedIn("anna", auth.proof("anna"))
    assert auth.actor_from(signed, users) == Actor("anna", "rep", "Anna@X.example")


def test_a_rep_entry_without_its_rep_is_refused_with_the_user_named(tmp_path: Path) -> None:
    pw = hash_password(REP_PASSWORD)
    path = _users(tmp_path, [{"username": "anna", "role": "rep", "password_hash": pw}])
    with pytest.raises(auth.UsersFileError, match="user 'anna': rep: missing"):
        auth.load_users(path)


def test_a_rep_key_on_an_admin_entry_gives_the_admin_no_rep(tmp_path: Path) -> None:
    pw = hash_password(REP_PASSWORD)
    users = auth.load_users(
        _users(
            tmp_path, [{"username": "rita", "role": "admin", "rep": "x@y.z", "password_hash": pw}]
        )
    )
    assert users["rita"].rep is None


def test_single_sign_on_rep_is_the_rep_of_their_address() -> None:
    user = {"is_logged_in": True, "email": "Anna@X.example"}
    assert auth.sso_actor(user, {"anna@x.example": "rep"}) == Actor(
        "anna@x.example", "rep", "anna@x.example"
    )


# --- the rep's page ----------------------------------------------------------------------

REP_KEY = "anna.schmidt@acme-sales.example"  # a rep of the demo config (dashboard_fake)


@pytest.fixture
def rep_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, routing_file: Path, users_file: Path
) -> Iterator[tuple[AppTest, str]]:
    import streamlit as st

    url = f"sqlite:///{tmp_path}/rep.db"
    upgrade(url)
    insert_fake(make_engine(url, pool=False), 300, days=3, seed=3)
    entries = yaml.safe_load(users_file.read_text())
    entries.append({"username": "anna", "role": "rep", "rep": REP_KEY,
                    "password_hash": hash_password(REP_PASSWORD)})  # fmt: skip
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", url)
    monkeypatch.setenv("LEADROUTER_DASHBOARD_USERS_FILE", str(_users(tmp_path, entries)))
    monkeypatch.setenv("LEADROUTER_ROUTING_CONFIG", str(routing_file))
    yield sign_in(new_app(), "anna", REP_PASSWORD), url
    st.cache_data.clear()
    st.cache_resource.clear()


def test_a_rep_sees_only_my_leads(rep_app: tuple[AppTest, str]) -> None:
    at, _ = rep_app
    assert errors(at) == []
    assert at.title[0].value == "My leads"
    for page in PAGES:
        with pytest.raises(ValueError, match="no page"):
            open_page(at, page)


def test_a_rep_switches_themselves_off_then_on(rep_app: tuple[AppTest, str]) -> None:
    at, url = rep_app
    at.text_input(key="my_avail_reason").input("dentist")
    at.button(key="my_avail_off").click().run()
    assert errors(at) == []
    assert "away (dentist)" in at.success[0].value  # (nothing to escape in it)
    engine = make_engine(url)
    assert load_overrides(engine)[REP_KEY].data == {"enabled": False, "disabled_reason": "dentist"}
    assert {h["actor"] for h in change_history(engine)} == {"anna"}
    at.button(key="my_avail_on").click().run()
    assert load_overrides(engine)[REP_KEY].data == {"enabled": True}


def test_going_away_without_a_reason_is_refused_and_named(rep_app: tuple[AppTest, str]) -> None:
    at, url = rep_app
    at.button(key="my_avail_off").click().run()
    assert any(r"disabled\_reason\: say why" in e for e in errors(at))  # Markdown-escaped
    assert load_overrides(make_engine(url)) == {}


def test_a_reason_that_looks_like_markdown_is_shown_as_written(
    rep_app: tuple[AppTest, str],
) -> None:
    at, url = rep_app
    at.text_input(key="my_avail_reason").input("**x** [a](b) <script>")
    at.button(key="my_avail_off").click().run()
    assert errors(at) == []
    shown = at.success[0].value
    assert r"away (\*\*x\*\* \[a\](b) \<script\>)" in shown  # escaped: renders as typed
    assert (
        load_overrides(make_engine(url))[REP_KEY].data["disabled_reason"] == "**x** [a](b) <script>"
    )
    assert "\\*\\*x" in at.markdown[0].value or any("\\*\\*x" in m.value for m in at.markdown)
