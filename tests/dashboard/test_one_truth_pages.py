"""Team settings and What-if on the real demo config: the pool's own weight and cap are
shown where the router applies them, and say where they come from."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import errors, new_app, open_page, sign_in

DEMO = Path(__file__).resolve().parents[2] / "config" / "routing.yaml"
JACK = "jack.thompson@acme-sales.example"
SARAH = "sarah.johnson@acme-sales.example"


@pytest.fixture
def demo_app(
    empty_store: str, dashboard_env: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> AppTest:
    import streamlit as st

    dashboard_env(empty_store)
    monkeypatch.setenv("LEADROUTER_ROUTING_CONFIG", str(DEMO))
    st.cache_resource.clear()
    return sign_in(new_app(), "admin")


def test_team_settings_show_the_enterprise_terms_the_router_applies(demo_app: AppTest) -> None:
    at = open_page(demo_app, "team").run()
    assert errors(at) == []
    table = at.dataframe[0].value
    jack = table[(table["pool"] == "enterprise") & (table["email"] == JACK)].iloc[0]
    assert (jack["weight"], jack["weight from"]) == (0.5, "pool")
    assert table[(table["pool"] == "apac") & (table["email"] == JACK)].iloc[0]["weight"] == 1.0
    sarah = table[(table["pool"] == "enterprise") & (table["email"] == SARAH)].iloc[0]
    assert sarah["cap/day"] == "10 in pool, 40 overall"

    at.selectbox(key="team_rep").set_value(JACK).run()
    assert at.number_input(key="team_weight").value == 1.0
    assert any("does not apply in enterprise" in c.value for c in at.caption)
    # the membership editor of the rep (after the working-hours editor)
    pools = next(d.value for d in at.dataframe[1:] if "weight in pool" in d.value.columns)
    assert pools.set_index("pool").loc["enterprise", "weight in pool"] == 0.5


def test_whatif_starts_from_the_pools_own_terms(demo_app: AppTest) -> None:
    at = open_page(demo_app, "whatif").run()
    at.selectbox(key="whatif_pool").set_value("enterprise").run()
    assert errors(at) == []
    table = at.dataframe[0].value.set_index("rep")
    assert table.loc[JACK, "weight in pool"] == 0.5
    assert table.loc[SARAH, "cap/day in pool"] == 10
    assert table.loc[SARAH, "rep cap/day"] == 40
