"""The CLI's first-contact mistakes each end in one clear line, create nothing, and say
what to do (issue 21): a store without its schema, no store yet, a postgres:// URL, a
directory given as the config, a database path under missing folders, a taken demo port."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from worker.cli import cli
from worker.commands._common import NO_SCHEMA
from worker.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "config" / "routing.yaml"


def run(args: list[str], url: str | None = None) -> Result:
    env = {"LEADROUTER_ROUTING_CONFIG": str(CONFIG)}
    if url:
        env["LEADROUTER_DATABASE_URL"] = url
    return CliRunner().invoke(cli, args, env=env)


def one_clear_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "OperationalError" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture
def schemaless(tmp_path: Path) -> str:
    """A SQLite file that exists but nobody ran `db upgrade` on."""
    path = tmp_path / "store.db"
    sqlite3.connect(path).execute("CREATE TABLE unrelated (a INTEGER)").connection.close()
    return f"sqlite:///{path}"


@pytest.mark.parametrize(
    "args",
    [
        ["notify", "status"],
        ["notify", "deliver", "--config", "{notifying}"],
        ["purge", "--expired"],
    ],
)
def test_a_store_without_its_schema_is_one_line_naming_db_upgrade(
    args: list[str], schemaless: str, tmp_path: Path
) -> None:
    notifying = tmp_path / "routing.yaml"
    notifying.write_text(CONFIG.read_text() + "\nnotifications: {enabled: true}\n")
    args = [a.format(notifying=notifying) for a in args]
    assert "db upgrade" in one_clear_line(run(args, schemaless))


@pytest.mark.parametrize(
    "args",
    [["notify", "status"], ["db", "current"], ["purge", "--expired", "--yes"]],
)
def test_no_store_yet_creates_no_file(args: list[str], tmp_path: Path) -> None:
    target = tmp_path / "never.db"
    result = run(args, f"sqlite:///{target}")
    assert "Traceback" not in result.output
    assert "no store at" in result.output
    assert not target.exists()


def test_config_show_without_a_store_says_so_in_a_comment_and_creates_nothing(
    tmp_path: Path,
) -> None:
    target = tmp_path / "never.db"
    result = run(["config", "show", str(CONFIG)], f"sqlite:///{target}")
    assert result.exit_code == 0, result.output
    assert f"# no dashboard overrides applied (no store at {target} yet)" in result.output
    assert not target.exists()


def test_config_show_on_a_store_without_schema_names_db_upgrade_not_sqlite(
    schemaless: str,
) -> None:
    result = run(["config", "show", str(CONFIG)], schemaless)
    assert result.exit_code == 0, result.output
    assert f"# no dashboard overrides applied ({NO_SCHEMA})" in result.output
    assert "sqlite3" not in result.output and "OperationalError" not in result.output


@pytest.mark.parametrize(
    "url", ["postgres://lr@db:5432/lr", "postgresql://lr@db:5432/lr", "postgresql+psycopg2://x@y/z"]
)
def test_a_postgres_url_without_our_driver_suggests_postgresql_psycopg(url: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(database_url=url)
    assert str(err.value).startswith("LEADROUTER_DATABASE_URL: ")
    assert "postgresql+psycopg://" in str(err.value)
    line = one_clear_line(run(["db", "current"], url))
    assert "postgresql+psycopg://" in line


def test_postgresql_psycopg_is_accepted() -> None:
    assert load_settings(database_url="postgresql+psycopg://lr@db:5432/lr").database_url


def test_config_check_on_a_directory_says_it_is_a_directory(tmp_path: Path) -> None:
    line = one_clear_line(run(["config", "check", str(tmp_path)]))
    assert "is a directory" in line and "not found" not in line
    line = one_clear_line(run(["config", "check", str(CONFIG.parent)]))
    assert f"did you mean {CONFIG}?" in line


def test_db_upgrade_under_missing_folders_creates_none(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent"
    line = one_clear_line(run(["db", "upgrade"], f"sqlite:///{missing}/dir/x.db"))
    assert f"folder {missing} does not exist" in line
    assert not missing.exists()


def test_db_upgrade_still_makes_the_database_and_its_own_folder(tmp_path: Path) -> None:
    result = run(["db", "upgrade"], f"sqlite:///{tmp_path}/var/x.db")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "var" / "x.db").is_file()


def test_the_demo_refuses_a_taken_port_before_starting_anything(tmp_path: Path) -> None:
    from devkit.commands.demo import demo

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        state = tmp_path / "demo"
        result = CliRunner().invoke(demo, ["--port", str(port), "--state-dir", str(state)])
    line = one_clear_line(result)
    assert f"port {port} is in use" in line and f"--port {port + 1}" in line
    assert "is running" not in result.output
    assert not state.exists()  # nothing was started


def test_make_demo_passes_port() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "$(BIN)/leadrouter demo $(if $(PORT),--port $(PORT))" in makefile
