"""Team today, Find a lead and the lead's "why" page (``?lead=``), rendered by AppTest."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import errors, new_app, open_page, sign_in
from worker.store.db import make_engine
from worker.store.queries.team_settings import load_overrides

REP_KEY = "anna.schmidt@acme-sales.example"


def _next_up(at: AppTest) -> list[dict[str, object]]:
    frame = at.dataframe[0].value
    return list(frame.to_dict("records"))


def test_team_today_shows_five_picks_per_pool_counts_and_sla(
    seeded_store: str, app_as: Callable[..., AppTest]
) -> None:
    at = open_page(app_as(seeded_store, "viewer"), "today").run()
    assert errors(at) == []
    rows = _next_up(at)
    assert rows and all(len([k for k in r if k != "pool"]) == 5 for r in rows)
    subheaders = [s.value for s in at.subheader]
    assert subheaders[:3] == ["Who is next", "Leads per rep", "SLA at risk or breached"]
    assert "Availability" not in subheaders, "a viewer changes nobody"
    counts = at.dataframe[1].value  # (how many depends on the hour: the queries' tests count)
    assert len(counts) >= len(rows) and (counts["this week"] >= counts["today"]).all()


def test_an_admin_switches_a_rep_off_and_they_are_no_longer_next(
    empty_store: str, app_as: Callable[..., AppTest]
) -> None:
    at = open_page(app_as(empty_store, "admin"), "today").run()
    name = "Anna Schmidt"
    assert any(name in str(v) for r in _next_up(at) for v in r.values())
    at.selectbox(key="today_rep").set_value(REP_KEY)
    at.run()
    at.text_input(key="today_avail_reason").input("customer visit")
    at.button(key="today_avail_off").click().run()
    assert errors(at) == []
    assert "away (customer visit)" in at.success[0].value
    assert load_overrides(make_engine(empty_store))[REP_KEY].data["enabled"] is False
    assert not any(name in str(v) for r in _next_up(at) for v in r.values())


def _a_lead(url: str) -> tuple[str, str]:
    with make_engine(url).connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT lead_id, lead_email FROM decision WHERE status = 'applied' "
                "AND trace != '[]' ORDER BY id LIMIT 1"
            )
        ).one()
    return str(row[0]), str(row[1])


def test_find_a_lead_by_its_email_domain(seeded_store: str, app_as: Callable[..., AppTest]) -> None:
    lead_id, email = _a_lead(seeded_store)
    at = open_page(app_as(seeded_store, "viewer"), "search").run()
    at.text_input(key="search_text").input(email.split("@")[1].upper()).run()
    assert errors(at) == []
    found = at.dataframe[0].value
    assert lead_id in set(found["lead_id"])
    assert all(e.endswith("@" + email.split("@")[1]) for e in found["e-mail"] if e)
    assert set(found["why"]) >= {f"lead?lead={lead_id}"}


def _opened_from_a_link(url: str, lead: str, dashboard_env: Callable[[str], None]) -> AppTest:
    """A new browser session opening ``/?lead=…``: signs in, then lands on the page."""
    dashboard_env(url)
    at = new_app()
    at.query_params["lead"] = lead
    return sign_in(at, "viewer")


def test_a_lead_link_opens_its_why_page(
    seeded_store: str, dashboard_env: Callable[[str], None]
) -> None:
    lead_id, _ = _a_lead(seeded_store)
    at = _opened_from_a_link(seeded_store, lead_id, dashboard_env)
    assert errors(at) == []
    assert at.title[0].value == "Why this lead"
    assert at.subheader[0].value.startswith("Why lead ")
    assert "1. " in at.text[0].value  # the trace, as the distribution log shows it


def test_a_lead_link_that_is_no_lead_id_is_refused(
    seeded_store: str, dashboard_env: Callable[[str], None]
) -> None:
    at = _opened_from_a_link(seeded_store, "' OR 1=1 --", dashboard_env)
    assert [e.value for e in at.error] == ["Not a Lead Id (15 or 18 characters starting 00Q)."]
