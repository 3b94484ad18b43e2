"""``leadrouter bench dashboard``: per-page seconds as JSON (a figure, never a gate)."""

from __future__ import annotations

import json
import os

from click.testing import CliRunner

from devkit.commands.bench_dashboard import SEARCHES, dashboard


def test_bench_dashboard_prints_each_page_as_json_and_leaves_the_environment() -> None:
    before = os.environ.get("LEADROUTER_DATABASE_URL")
    args = ["--only", "empty", "--page", "overview", "--page", "search", "--json"]
    result = CliRunner().invoke(dashboard, args)
    assert result.exit_code == 0, result.output
    got = json.loads(result.output[result.output.index("{") :])
    pages = got["empty"]["pages"]
    assert got["empty"]["decisions"] == 0
    assert list(pages) == ["overview", "search", *(f"search {t}" for t in SEARCHES)]
    for figure in pages.values():
        assert figure["errors"] == []
        assert figure["seconds"] >= 0 and figure["cpu_seconds"] >= 0
    assert os.environ.get("LEADROUTER_DATABASE_URL") == before


def test_a_store_is_named_name_equals_url() -> None:
    result = CliRunner().invoke(dashboard, ["--store", "no-url", "--json"])
    assert result.exit_code != 0
    assert "NAME=URL" in result.output
