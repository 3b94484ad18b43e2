"""The routing editor through the UI (AppTest): a form edit is checked and saved to the
draft, the review says what changed in words, publish and roll back, two admins at once,
and a viewer sees no form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import errors, open_page
from worker.store import config_versions_repo as repo
from worker.store.db import make_engine

POOL = "EMEA-AE"


def _editor(at: AppTest) -> AppTest:
    return open_page(at, "routing").run()


def _texts(at: AppTest) -> str:
    return "\n".join(str(t.value) for t in at.text)


def _set_weight(at: AppTest, weight: float) -> AppTest:
    at.selectbox(key="pool_pick").set_value(POOL).run()
    rep = at.selectbox(key="terms_rep").value
    box = next(n for n in at.number_input if str(n.key).startswith("terms_weight_"))
    box.set_value(weight)
    next(b for b in at.button if b.label == "Save weight and caps").click().run()
    return at, rep  # type: ignore[return-value]


def test_a_per_pool_weight_is_saved_to_the_draft_reviewed_and_published(
    empty_store: str, app_as: Callable[..., AppTest]
) -> None:
    engine = make_engine(empty_store)
    at, rep = _set_weight(_editor(app_as(empty_store, "admin")), 2.0)  # type: ignore[misc]
    assert errors(at) == []
    assert "Saved to the draft" in _texts(at)
    draft = repo.load_draft(engine)
    assert draft is not None and draft.revision == 1 and "weight: 2.0" in draft.body
    assert f"Pool {POOL}: " in _texts(at) and "weight default → 2.0" in _texts(at)
    assert repo.published(engine) is None  # not before publish
    at.text_input(key="publish_message").input("EMEA: a heavier rep")
    next(b for b in at.button if b.label == "Publish the draft").click().run()
    assert errors(at) == []
    version = repo.published(engine)
    assert version is not None and version.number == 1 and version.author == "admin"
    assert version.message == "EMEA: a heavier rep"
    assert "No change" in _texts(at)


def test_an_invalid_edit_is_refused_with_the_checks_message(
    empty_store: str, app_as: Callable[..., AppTest]
) -> None:
    at = _editor(app_as(empty_store, "admin"))
    at.text_input(key="rule_name").input("Bad pool")
    at.text_input(key="rule_field_0").input("Country")
    at.text_input(key="rule_value_0").input("Atlantis")
    at.selectbox(key="rule_op_0").set_value("equals")
    next(b for b in at.button if b.label == "Add rule").click().run()
    assert any("Not saved" in e.value for e in at.error)
    assert "unknown country 'Atlantis'" in _texts(at)
    assert repo.load_draft(make_engine(empty_store)) is None


def test_the_second_of_two_admins_is_told_what_changed_and_keeps_the_edit(
    empty_store: str, app_as: Callable[..., AppTest]
) -> None:
    engine = make_engine(empty_store)
    first = _editor(app_as(empty_store, "admin"))
    second = _editor(app_as(empty_store, "admin"))
    second.selectbox(key="pool_pick").set_value(POOL).run()
    _set_weight(first, 3.0)
    assert repo.load_draft(engine).revision == 1  # type: ignore[union-attr]
    rep = second.selectbox(key="move_rep").value
    second.selectbox(key="move_to").set_value("APAC-AE")
    next(b for b in second.button if b.label == "Move rep").click().run()
    assert any(
        "Not saved" in w.value and "saved by someone else" in w.value for w in second.warning
    )
    assert "Saved by: admin. Your change, kept: move" in _texts(second)
    assert "weight default → 3.0" in _texts(second)  # what the first admin changed
    assert repo.load_draft(engine).revision == 1  # type: ignore[union-attr]
    second.button(key="routing_reapply").click().run()
    assert errors(second) == []
    draft = repo.load_draft(engine)
    assert draft is not None and draft.revision == 2
    assert "weight: 3.0" in draft.body  # both edits are in
    members = draft.body.split("APAC-AE:")[1]
    assert rep in members


def test_roll_back_to_an_earlier_version(empty_store: str, app_as: Callable[..., AppTest]) -> None:
    engine = make_engine(empty_store)
    at = _editor(app_as(empty_store, "admin"))
    for weight in (2.0, 3.0):
        _set_weight(at, weight)
        next(b for b in at.button if b.label == "Publish the draft").click().run()
    assert [v.number for v in repo.versions(engine)] == [2, 1]
    at.selectbox(key="history_pick").set_value(1).run()
    at.button(key="routing_rollback").click().run()
    assert errors(at) == []
    now = repo.published(engine)
    assert now is not None and (now.number, now.base_number) == (3, 1)
    assert now.body == repo.get_version(engine, 1).body  # type: ignore[union-attr]


def test_a_viewer_sees_the_history_but_no_form(
    empty_store: str, app_as: Callable[..., AppTest]
) -> None:
    at = _editor(app_as(empty_store, "viewer"))
    assert errors(at) == []
    assert any("Only admins" in i.value for i in at.info)
    assert not [b for b in at.button if b.label in ("Publish the draft", "Add rule", "Move rep")]


def test_names_typed_by_an_admin_are_shown_as_text_never_as_markdown(
    empty_store: str, app_as: Callable[..., AppTest]
) -> None:
    name = "**x** [a](b) <script>alert(1)</script>"
    at = _editor(app_as(empty_store, "admin"))
    at.text_input(key="rule_name").input(name)
    at.text_input(key="rule_field_0").input("LeadSource")
    at.text_input(key="rule_value_0").input("Webinar")
    next(b for b in at.button if b.label == "Add rule").click().run()
    assert errors(at) == [] and name in _texts(at)
    rendered = [*at.markdown, *at.caption, *at.success, *at.warning, *at.info, *at.error]
    assert not [e for e in rendered if "**x**" in str(e.value) or "[a](b)" in str(e.value)]


def test_a_pools_sla_and_method_are_set_by_their_forms(
    empty_store: str, app_as: Callable[..., AppTest]
) -> None:
    at = _editor(app_as(empty_store, "admin"))
    at.selectbox(key="pool_pick").set_value(POOL).run()
    next(n for n in at.number_input if str(n.key).startswith("sla_minutes_")).set_value(30)
    next(b for b in at.button if b.label == "Save SLA").click().run()
    assert errors(at) == []
    next(s for s in at.selectbox if str(s.key).startswith("pool_method_")).set_value("round_robin")
    next(b for b in at.button if b.label == "Save pool settings").click().run()
    assert errors(at) == []
    draft = repo.load_draft(make_engine(empty_store))
    assert draft is not None and draft.revision == 2
    pool = draft.body.split(f"{POOL}:")[1].split("APAC-AE:")[0]
    assert "minutes: 30" in pool and "method: round_robin" in pool


def test_a_territory_is_added_by_its_form_and_a_bad_country_is_named(
    empty_store: str, app_as: Callable[..., AppTest]
) -> None:
    at = _editor(app_as(empty_store, "admin"))

    def box(prefix: str) -> Any:
        return next(t for t in at.text_input if str(t.key).startswith(prefix))

    box("terr_name_").input("benelux")
    box("terr_countries_").input("BE, NL, Atlantis")
    next(b for b in at.button if b.label == "Save territory").click().run()
    assert "unknown country 'Atlantis'" in _texts(at)
    assert repo.load_draft(make_engine(empty_store)) is None
    box("terr_countries_").input("BE, NL")
    next(s for s in at.selectbox if str(s.key).startswith("terr_pool_")).set_value(POOL)
    next(b for b in at.button if b.label == "Save territory").click().run()
    assert errors(at) == []
    draft = repo.load_draft(make_engine(empty_store))
    assert draft is not None and "name: benelux" in draft.body
