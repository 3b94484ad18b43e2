"""No Markdown from data anywhere: rep names (config), owners, reasons and lead fields
that look like Markdown or HTML are shown literally on every page, sign-in to sign-out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from streamlit.testing.v1 import AppTest

from devkit.commands.dashboard_fake import demo_routing_yaml, insert_fake
from tests.dashboard.conftest import PAGES, errors, new_app, open_page, sign_in
from tests.dashboard.test_security import TEXT_ONLY, places_showing
from worker.store.db import make_engine, upgrade

BOLD, LINK, SCRIPT = "**xmd-bold**", "[xmd-link](b)", "<script>xmd-script</script>"
JOURNAL = {"owner_name": BOLD, "reason": f"{LINK} {SCRIPT}", "lead_company": SCRIPT,
           "lead_name": LINK}  # fmt: skip
HOSTILE = (BOLD, LINK, SCRIPT)


@pytest.fixture
def hostile_store(sqlite_url: str) -> str:
    upgrade(sqlite_url)
    insert_fake(make_engine(sqlite_url, pool=False), 300, days=7, seed=4)
    engine = make_engine(sqlite_url, pool=False)
    sets = ", ".join(f"{c} = :{c}" for c in JOURNAL)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"UPDATE decision SET {sets} WHERE id IN (SELECT id FROM decision "
                "ORDER BY decided_at DESC LIMIT 40)"
            ),
            JOURNAL,
        )
    return sqlite_url


@pytest.fixture
def hostile_config(tmp_path: Path) -> Path:
    """The demo config with every rep named like Markdown and HTML."""
    raw = yaml.safe_load(demo_routing_yaml())
    for i, rep in enumerate(raw["reps"]):
        rep["name"] = f"{HOSTILE[i % 3]} {i}"
    path = tmp_path / "routing.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.fixture
def hostile_app(
    dashboard_env: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
    hostile_store: str,
    hostile_config: Path,
) -> Iterator[AppTest]:
    import streamlit as st

    dashboard_env(hostile_store)
    monkeypatch.setenv("LEADROUTER_ROUTING_CONFIG", str(hostile_config))
    yield sign_in(new_app(), "admin")
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.mark.parametrize("page", PAGES)
def test_markdown_and_html_in_data_are_never_interpreted(page: str, hostile_app: AppTest) -> None:
    at = open_page(hostile_app, page).run()
    if page == "log":
        at.text_input(key="log_search").input("<script>").run()  # company prefix
        assert at.text[0].value.startswith("40 decisions")
    if page == "whatif":
        at.button(key="whatif_run").click().run()
    assert errors(at) == []
    interpreted = {
        hostile: {k: n for k, n in places_showing(at, hostile).items() if k not in TEXT_ONLY}
        for hostile in HOSTILE
    }
    assert all(not kinds for kinds in interpreted.values()), interpreted
    shown = {k for h in ("xmd-bold", "xmd-link", "xmd-script") for k in places_showing(at, h)}
    if page in ("log", "fairness", "team", "whatif"):
        assert shown, "the page shows the hostile values (else this test proves nothing)"
    assert all(not m.allow_html for m in at.markdown)
