"""``leadrouter config import|export|versions|rollback`` against a SQLite store, and
``config show`` printing the published version (the one truth: ConfigSource)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from worker.commands.config import config
from worker.store.db import upgrade

pytestmark = pytest.mark.integration

DEMO = Path(__file__).resolve().parents[2] / "config" / "routing.yaml"
SENIOR = "    weight: 1.5                 #"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    url = f"sqlite:///{tmp_path}/store.db"
    upgrade(url)
    path = tmp_path / "routing.yaml"
    path.write_text(DEMO.read_text() + "notifications:\n  enabled: false\n")
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", url)
    monkeypatch.setenv("LEADROUTER_ROUTING_CONFIG", str(path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(config, list(args))


def test_import_publishes_export_gives_it_back_and_show_uses_it(env: Path) -> None:
    assert "no version published yet" in run("versions").output
    exported = run("export")
    assert exported.exit_code == 0 and "\nnotifications:" not in exported.stdout
    assert exported.stdout.startswith("# leadrouter routing config")
    changed = env / "changed.yaml"
    changed.write_text(DEMO.read_text().replace(SENIOR, "    weight: 2.5 #"))
    done = run("import", str(changed), "-m", "Sarah up")
    assert done.exit_code == 0, done.output
    assert "published version 1" in done.output
    assert run("export", "--version", "1", "-o", "v1.yaml").exit_code == 0
    assert (env / "v1.yaml").read_text() == changed.read_text()
    shown = run("show")
    assert "weight: 2.5" in shown.stdout and "published version 1" in shown.stderr
    history = run("versions").output.splitlines()
    assert len(history) == 1 and "published" in history[0] and "Sarah up" in history[0]


def test_import_refuses_with_line_numbered_problems_and_publishes_nothing(env: Path) -> None:
    bad = env / "bad.yaml"
    text = DEMO.read_text().replace(SENIOR, "    weight: -1 #")
    line = next(i for i, x in enumerate(text.splitlines(), 1) if x.startswith("    weight: -1 #"))
    bad.write_text(text)
    refused = run("import", str(bad))
    assert refused.exit_code == 1
    assert f"error: {bad}:{line} reps[3].weight:" in refused.output
    assert "nothing published" in refused.output
    assert "no version published yet" in run("versions").output


def test_an_imported_files_notifications_stay_out_and_lines_still_match(env: Path) -> None:
    text = "notifications:\n  enabled: false\n" + DEMO.read_text().replace(
        SENIOR, "    weight: 0 #"
    )
    line = next(i for i, x in enumerate(text.splitlines(), 1) if x.startswith("    weight: 0 #"))
    (env / "n.yaml").write_text(text)
    assert f"n.yaml:{line} reps[3].weight" in run("import", "n.yaml").output
    (env / "n.yaml").write_text(text.replace("    weight: 0 #", "    weight: 3 #"))
    done = run("import", "n.yaml")
    assert done.exit_code == 0 and "left out" in done.output
    assert "\nnotifications:" not in run("export").stdout


def test_rollback_publishes_an_older_version_again(env: Path) -> None:
    (env / "a.yaml").write_text(DEMO.read_text())
    (env / "b.yaml").write_text(DEMO.read_text().replace(SENIOR, "    weight: 4 #"))
    assert run("import", "a.yaml").exit_code == 0 and run("import", "b.yaml").exit_code == 0
    back = run("rollback", "1")
    assert back.exit_code == 0 and "published version 3 (a copy of version 1)" in back.output
    assert "weight: 1.5" in run("show").stdout
    assert run("rollback", "9").exit_code == 1
    lines = run("versions").output.splitlines()
    assert [x.split()[:2] for x in lines] == [
        ["3", "published"],
        ["2", "archived"],
        ["1", "archived"],
    ]


def test_config_check_names_the_published_version_and_one_that_no_longer_passes(
    env: Path,
) -> None:
    from worker.store import config_versions_repo as repo
    from worker.store.db import make_engine
    from worker.store.team_repo import Actor

    assert "wins over" not in run("check").output
    (env / "a.yaml").write_text(DEMO.read_text())
    assert run("import", "a.yaml").exit_code == 0
    checked = run("check")
    assert checked.exit_code == 0 and "published version 1 wins over" in checked.output
    engine = make_engine(f"sqlite:///{env}/store.db")
    repo.publish(engine, actor=Actor("rita", "admin"), body="version: 1\nreps: 5\n")  # unchecked
    engine.dispose()
    refused = run("check")
    assert refused.exit_code == 1 and "published version 2 no longer passes" in refused.output
