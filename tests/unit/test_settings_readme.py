"""The README's settings table is generated from worker/settings.py: it lists every
LEADROUTER_ variable with its default and meaning, and cannot drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.settings import README_BEGIN, Settings, readme_with_table, settings_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_table_is_the_generated_one() -> None:
    text = README.read_text(encoding="utf-8")
    assert readme_with_table(text) == text, (
        "README.md's settings table differs from worker/settings.py: "
        "run `python -m worker.settings --update-readme`"
    )


def test_every_setting_is_a_row_with_a_meaning() -> None:
    rows = settings_table().splitlines()[2:]
    assert len(rows) == len(Settings.model_fields)
    for name, row in zip(Settings.model_fields, rows, strict=True):
        variable, _default, meaning = (cell.strip() for cell in row.strip("|").split(" | "))
        assert variable == f"`LEADROUTER_{name.upper()}`"
        assert meaning, f"{variable} has no description in worker/settings.py"
    text = settings_table()
    for wanted in ("DASHBOARD_USERS_FILE", "SMTP_HOST", "INTAKE_USERS", "API_SLOW_SHARE"):
        assert f"`LEADROUTER_{wanted}`" in text


def test_a_stale_table_is_replaced_and_missing_markers_are_an_error() -> None:
    stale = f"intro\n{README_BEGIN}\n| old |\n<!-- end of settings table -->\nrest\n"
    fresh = readme_with_table(stale)
    assert "| old |" not in fresh and fresh.startswith("intro\n") and fresh.endswith("rest\n")
    assert "`LEADROUTER_DATABASE_URL`" in fresh
    with pytest.raises(ValueError, match="markers"):
        readme_with_table("no table here")


def test_the_module_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    from worker.settings import main

    assert main(["--markdown"]) == 0
    assert capsys.readouterr().out == settings_table()
