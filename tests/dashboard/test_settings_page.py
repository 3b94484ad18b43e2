"""Team settings through the UI: admin can, viewer cannot (also with a crafted session or a
role changed behind the page's back), invalid values are rejected with the message shown,
and every change lands in the history."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import auth, state
from tests.dashboard.conftest import errors, new_app, open_page
from worker.commands.dashboard import write_users_file
from worker.routing_config import load_config
from worker.store.db import make_engine
from worker.store.queries.team_settings import change_history, load_overrides


def _team(at: AppTest) -> AppTest:
    return open_page(at, "team").run()


def test_admin_changes_a_weight_and_sees_it_in_the_history(
    empty_store: str, app_as: Callable[..., AppTest], routing_file: Path
) -> None:
    at = _team(app_as(empty_store, "admin"))
    rep = at.selectbox(key="team_rep").value
    at.number_input(key="team_weight").set_value(2.5)
    at.button(key="team_save").click().run()
    assert errors(at) == []
    assert any("Saved" in s.value for s in at.success)
    assert load_overrides(make_engine(empty_store))[rep].data == {"weight": 2.5}
    history = at.dataframe[-1].value
    assert history.iloc[0][["who", "what", "field", "new"]].tolist() == [
        "admin",
        f"rep:{rep}",
        "weight",
        "2.5",
    ]
    file_weight = load_config(routing_file).reps[rep].weight
    assert float(history.iloc[0]["old"]) == file_weight  # the file value it replaced


def test_invalid_weight_is_rejected_with_the_message_shown(
    empty_store: str, app_as: Callable[..., AppTest]
) -> None:
    at = _team(app_as(empty_store, "admin"))
    at.number_input(key="team_weight").set_value(0.0)
    at.button(key="team_save").click().run()
    assert any("Not saved" in e.value and "weight" in e.value for e in at.error)
    assert change_history(make_engine(empty_store)) == []


def test_bad_out_of_office_line_names_the_line(
    empty_store: str, app_as: Callable[..., AppTest]
) -> None:
    at = _team(app_as(empty_store, "admin"))
    at.text_area(key="team_ooo").input("2026-12-24 to 2026-12-20")
    at.button(key="team_save").click().run()
    # the message is escaped Markdown (a reason may hold any mark): read it as shown
    assert any("out_of_office" in e.value.replace("\\", "") for e in at.error)
    assert load_overrides(make_engine(empty_store)) == {}


def test_viewer_sees_the_settings_read_only(
    empty_store: str, app_as: Callable[..., AppTest]
) -> None:
    at = _team(app_as(empty_store, "viewer"))
    assert any("Read-only" in i.value for i in at.info)
    assert at.button(key="team_save").disabled
    assert at.number_input(key="team_weight").disabled


def test_role_taken_away_after_the_page_rendered_saves_nothing(
    empty_store: str,
    app_as: Callable[..., AppTest],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = _team(app_as(empty_store, "admin"))
    demoted = tmp_path / "users.yaml"
    write_users_file(demoted, {"admin": ("viewer", "admin-pass-123")})
    monkeypatch.setenv("LEADROUTER_DASHBOARD_USERS_FILE", str(demoted))
    at.number_input(key="team_weight").set_value(3.0)  # the form was rendered for an admin
    at.button(key="team_save").click().run()
    assert any("Read-only" in i.value for i in at.info)  # role re-read from the users file
    assert load_overrides(make_engine(empty_store)) == {}


def test_forged_sign_in_in_session_state_is_ignored(
    empty_store: str, dashboard_env: Callable[[str], None]
) -> None:
    dashboard_env(empty_store)
    at = new_app()
    at.session_state[state.USER] = auth.SignedIn("admin", "0" * 64)
    at.run()
    assert [t.value for t in at.title] == ["leadrouter"]  # still the sign-in form
    assert errors(at) == []


def test_wrong_password_is_refused_then_throttled(
    empty_store: str, dashboard_env: Callable[[str], None]
) -> None:
    from tests.dashboard.conftest import sign_in

    dashboard_env(empty_store)
    at = new_app()
    for _ in range(5):
        sign_in(at, "admin", "nope")
    assert any("Wrong username or password" in e.value for e in at.error)
    sign_in(at, "admin")  # the right password, but too soon
    assert any("Too many failed attempts" in e.value for e in at.error)
    assert [t.value for t in at.title] == ["leadrouter"]


def test_working_hours_are_rows_of_days_and_times_not_yaml(
    empty_store: str, app_as: Callable[..., AppTest], routing_file: Path
) -> None:
    at = _team(app_as(empty_store, "admin"))
    rep = load_config(routing_file).reps[at.selectbox(key="team_rep").value]
    hours = next(d.value for d in at.dataframe if list(d.value.columns) == ["day", "from", "to"])
    assert rep.working_hours is None and hours.empty  # the demo's reps work round the clock
    assert not [t for t in at.text_area if t.key == "team_hours"]
    at.button(key="team_save").click().run()  # saved untouched: nothing changes
    assert load_overrides(make_engine(empty_store)) == {}
