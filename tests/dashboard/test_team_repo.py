"""Settings writes and change history, on SQLite and PostgreSQL (the sign-in throttle:
test_sign_in_throttle)."""

from __future__ import annotations

import pytest

from worker.store.db import make_engine, upgrade
from worker.store.queries.team_settings import change_history, load_overrides
from worker.store.team_repo import (
    Actor,
    InvalidSettings,
    PermissionDenied,
    StaleEdit,
    save_rep_override,
    set_availability,
)

ADMIN = Actor("rita", "admin")
REP = "anna.schmidt@acme-sales.example"


@pytest.fixture
def engine(store_url: str):  # type: ignore[no-untyped-def]
    upgrade(store_url)
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    "actor", [None, Actor("mo", "viewer"), Actor("", "admin"), Actor("x", "root")]
)
def test_only_an_admin_may_save_an_override(engine, actor: Actor | None) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        save_rep_override(engine, actor=actor, rep_key=REP, changes={"weight": 2}, validate=None)
    assert load_overrides(engine) == {} and change_history(engine) == []


def test_save_records_one_history_row_per_changed_field(engine) -> None:  # type: ignore[no-untyped-def]
    save_rep_override(engine, actor=ADMIN, rep_key=REP, changes={"weight": 2.0}, validate=None)
    changed = save_rep_override(
        engine,
        actor=ADMIN,
        rep_key=REP.upper(),
        changes={"weight": 1.5, "caps": {"per_day": 8}},
        validate=None,
        expected_version=1,
    )
    assert [c[0] for c in changed] == ["caps", "weight"]
    history = change_history(engine)
    assert [(h["field"], h["old_value"], h["new_value"]) for h in history[:2]] == [
        ("weight", "2.0", "1.5"),
        ("caps", None, '{"per_day": 8}'),
    ] or [(h["field"], h["old_value"], h["new_value"]) for h in history[:2]] == [
        ("caps", None, '{"per_day": 8}'),
        ("weight", "2.0", "1.5"),
    ]
    state = load_overrides(engine)[REP]
    assert state.version == 2 and state.updated_by == "rita"


def test_saving_the_same_values_writes_nothing(engine) -> None:  # type: ignore[no-untyped-def]
    save_rep_override(engine, actor=ADMIN, rep_key=REP, changes={"weight": 2.0}, validate=None)
    assert (
        save_rep_override(engine, actor=ADMIN, rep_key=REP, changes={"weight": 2.0}, validate=None)
        == []
    )
    assert len(change_history(engine)) == 1


def test_clearing_a_field_hands_it_back_to_the_config_file(engine) -> None:  # type: ignore[no-untyped-def]
    save_rep_override(
        engine, actor=ADMIN, rep_key=REP, changes={"weight": 2.0, "tags": ["de"]}, validate=None
    )
    save_rep_override(engine, actor=ADMIN, rep_key=REP, changes={"weight": None}, validate=None)
    assert load_overrides(engine)[REP].data == {"tags": ["de"]}


def test_a_stale_version_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    save_rep_override(engine, actor=ADMIN, rep_key=REP, changes={"weight": 2.0}, validate=None)
    save_rep_override(
        engine, actor=Actor("sam", "admin"), rep_key=REP, changes={"weight": 3.0}, validate=None
    )
    with pytest.raises(StaleEdit, match="sam"):
        save_rep_override(
            engine,
            actor=ADMIN,
            rep_key=REP,
            changes={"weight": 4.0},
            validate=None,
            expected_version=1,
        )


def test_validator_problems_are_raised_and_nothing_is_written(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidSettings) as info:
        save_rep_override(
            engine,
            actor=ADMIN,
            rep_key=REP,
            changes={"timezone": "Mars/Base"},
            validate=lambda key, data: [f"{key}.timezone: unknown time zone {data['timezone']!r}"],
        )
    assert info.value.problems == [f"{REP}.timezone: unknown time zone 'Mars/Base'"]
    assert load_overrides(engine) == {}


def test_basic_checks_apply_without_a_config(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidSettings) as info:
        save_rep_override(
            engine,
            actor=ADMIN,
            rep_key=REP,
            validate=None,
            changes={
                "weight": -1,
                "enabled": False,
                "out_of_office": [{"from": "2026-12-05", "to": "2026-12-01"}],
            },
        )
    text = str(info.value)
    assert "weight" in text and "disabled_reason" in text and "out_of_office[0]" in text


# --- availability: an admin for anyone, a rep for themselves --------------------------


def test_a_rep_switches_themselves_off_with_a_reason_and_history_records_it(engine) -> None:  # type: ignore[no-untyped-def]
    rep = Actor("anna", "rep", REP.upper())  # the users file may spell the key in any case
    set_availability(
        engine, actor=rep, rep_key=REP, available=False, reason=" lunch ", validate=None
    )
    assert load_overrides(engine)[REP].data == {"enabled": False, "disabled_reason": "lunch"}
    history = {(h["actor"], h["field"], h["new_value"]) for h in change_history(engine)}
    assert history == {("anna", "enabled", "false"), ("anna", "disabled_reason", '"lunch"')}
    set_availability(engine, actor=rep, rep_key=REP, available=True, validate=None)
    assert load_overrides(engine)[REP].data == {"enabled": True}


def test_a_rep_named_by_salesforce_user_id_may_change_themselves(engine) -> None:  # type: ignore[no-untyped-def]
    rep = Actor("anna", "rep", "005000000000001AAA")
    set_availability(engine, actor=rep, rep_key=REP, available=False, reason="sick",
                     validate=None, user_id="005000000000001AAA")  # fmt: skip
    assert load_overrides(engine)[REP].data["enabled"] is False


@pytest.mark.parametrize(
    "actor",
    [
        Actor("ben", "rep", "ben@acme-sales.example"),  # another rep
        Actor("ben", "rep", None),  # a rep naming nobody
        Actor("mo", "viewer", REP),  # a viewer is nobody's rep
        Actor("", "rep", REP),
        None,
    ],
)
def test_nobody_else_may_change_a_reps_availability(engine, actor: Actor | None) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        set_availability(engine, actor=actor, rep_key=REP, available=False, reason="x",
                         validate=None, user_id="005OTHER")  # fmt: skip
    assert load_overrides(engine) == {} and change_history(engine) == []


def test_a_rep_may_not_save_any_other_setting_even_their_own(engine) -> None:  # type: ignore[no-untyped-def]
    rep = Actor("anna", "rep", REP)
    with pytest.raises(PermissionDenied, match="admin role required"):
        save_rep_override(engine, actor=rep, rep_key=REP, changes={"weight": 5.0}, validate=None)


def test_an_admin_switches_anyone_off_but_only_with_a_reason(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidSettings, match="disabled_reason"):
        set_availability(
            engine, actor=ADMIN, rep_key=REP, available=False, reason=" ", validate=None
        )
    set_availability(
        engine, actor=ADMIN, rep_key=REP, available=False, reason="left", validate=None
    )
    assert load_overrides(engine)[REP].updated_by == "rita"
