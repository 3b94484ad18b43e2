"""Every page renders (empty, seeded and million-row stores) and the key interactions work."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import PAGES, errors, open_page, timed
from worker.store.db import make_engine, session_scope
from worker.store.models.journal import JournalRow


def _open(at: AppTest, page: str) -> AppTest:
    return open_page(at, page).run()


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_an_empty_store(
    page: str, empty_store: str, app_as: Callable[..., AppTest]
) -> None:
    at = _open(app_as(empty_store, "viewer"), page)
    assert errors(at) == []
    assert at.title, "every page has a title"


TITLES = {
    "overview": "Overview",
    "log": "Distribution log",
    "fairness": "Fairness audit",
    "team": "Team settings",
    "whatif": "What-if",
    "today": "Team today",
    "search": "Find a lead",
    "lead": "Why this lead",
    "routing": "Routing editor",
}


@pytest.mark.parametrize("page", PAGES)
def test_each_page_opens_at_its_own_url(
    page: str, empty_store: str, app_as: Callable[..., AppTest]
) -> None:
    """The pages are functions given one context: each URL path renders its own page."""
    at = _open(app_as(empty_store, "viewer"), page)
    assert [t.value for t in at.title] == [TITLES[page]]


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_a_seeded_store(
    page: str, seeded_store: str, app_as: Callable[..., AppTest]
) -> None:
    at = _open(app_as(seeded_store, "admin"), page)
    assert errors(at) == []
    assert at.title


@pytest.mark.slow
@pytest.mark.xdist_group("million")
@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_a_million_decisions(
    page: str, million_store: str, app_as: Callable[..., AppTest]
) -> None:
    import streamlit as st

    at = app_as(million_store, "admin")
    st.cache_data.clear()  # time a cold page, not the cache
    seconds = timed(lambda: _open(at, page))
    assert errors(at) == []
    print(f"{page}: {seconds:.2f} s with 1,000,000 decisions")  # figure for the report, not a gate


def test_pages_are_not_shown_before_sign_in(
    seeded_store: str, dashboard_env: Callable[[str], None]
) -> None:
    from tests.dashboard.conftest import new_app

    dashboard_env(seeded_store)
    at = new_app().run()
    assert [t.value for t in at.title] == ["leadrouter"]
    assert at.text_input(key="signin_password") is not None
    assert not at.dataframe


def test_overview_counts_routed_leads(seeded_store: str, app_as: Callable[..., AppTest]) -> None:
    at = app_as(seeded_store, "viewer")
    labels = {m.label: m.value for m in at.metric}
    assert int(labels["Routed, last 7 days"].replace(",", "")) > 0


def test_log_search_by_lead_id_opens_its_trace(
    seeded_store: str, app_as: Callable[..., AppTest]
) -> None:
    engine = make_engine(seeded_store)
    with engine.connect() as conn:
        lead_id, owner = conn.exec_driver_sql(
            "SELECT lead_id, owner_name FROM decision WHERE status='applied' AND kind='route' "
            "ORDER BY id DESC LIMIT 1"
        ).one()
    at = _open(app_as(seeded_store, "viewer"), "log")
    at.date_input(key="log_period").set_value(()).run()
    at.text_input(key="log_search").input(lead_id).run()
    assert errors(at) == []
    assert at.dataframe[0].value["lead_id"].tolist() == [lead_id]
    assert any(owner in h.value for h in at.subheader)
    trace = "\n".join(t.value for t in at.text)
    assert f"{owner} chosen" in trace
    assert any(lead_id in b.proto.url for b in at.get("link_button"))


def test_log_filter_by_outcome_shows_only_held_decisions(
    seeded_store: str, app_as: Callable[..., AppTest]
) -> None:
    at = _open(app_as(seeded_store, "viewer"), "log")
    at.date_input(key="log_period").set_value(()).run()
    at.multiselect(key="log_outcomes").select("held").run()
    outcomes = set(at.dataframe[0].value["outcome"])
    assert outcomes == {"held"}


def test_log_csv_export_holds_the_filtered_rows(
    seeded_store: str, app_as: Callable[..., AppTest]
) -> None:
    at = _open(app_as(seeded_store, "viewer"), "log")
    at.multiselect(key="log_outcomes").select("failed").run()
    at.button(key="log_csv_prepare").click().run()
    csv = at.session_state["log_csv"].decode("utf-8-sig")
    lines = csv.strip().splitlines()
    assert lines[0].startswith("id,decided_at")
    assert len(lines) > 1 and all(",failed," in line for line in lines[1:])


def test_company_named_like_html_is_shown_as_text(
    seeded_store: str, app_as: Callable[..., AppTest]
) -> None:
    with session_scope(make_engine(seeded_store)) as session:
        session.add(
            JournalRow(
                lead_id="00QXSS000000000001",
                cycle_id="t",
                status="held",
                reason="held",
                lead_company="<script>alert(1)</script>",
            )
        )
    at = _open(app_as(seeded_store, "viewer"), "log")
    at.text_input(key="log_search").input("<script>").run()
    assert at.dataframe[0].value["lead_company"].tolist() == ["<script>alert(1)</script>"]
    assert any("decisions" in t.value for t in at.text), "the counter is plain text"
    assert all(not m.allow_html for m in at.markdown)


def test_fairness_audit_gives_a_verdict_and_per_rep_targets(
    seeded_store: str, app_as: Callable[..., AppTest]
) -> None:
    at = _open(app_as(seeded_store, "viewer"), "fairness")
    verdicts = [a.value for a in [*at.success, *at.warning]]
    assert any(
        "EMEA-AE" in v and ("Fair" in v or "fair" in v or "Borderline" in v) for v in verdicts
    )
    table = at.dataframe[0].value
    assert {"name", "actual", "target", "deviation"} <= set(table.columns)
    assert abs(table["actual"].sum() - table["target"].sum()) < 1.0


def test_what_if_replays_recent_leads_with_a_proposed_weight(
    seeded_store: str, app_as: Callable[..., AppTest]
) -> None:
    at = _open(app_as(seeded_store, "viewer"), "whatif")
    at.button(key="whatif_run").click().run()
    assert errors(at) == []
    table = at.dataframe[-1].value
    assert table["replay, current config"].sum() > 0
    assert table["replay, proposal"].sum() == table["replay, current config"].sum()
