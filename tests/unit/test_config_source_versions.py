"""ConfigSource and the published version: which source wins, how a version is checked,
and that the worker's per-cycle call picks a new version up cheaply."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session

from worker.config_source import (
    ConfigSource,
    Published,
    check_routing_text,
    publish_routing,
    routing_section,
)
from worker.routing_config import ConfigError
from worker.store import config_versions_repo as repo
from worker.store.db import make_engine, upgrade
from worker.store.team_repo import Actor

DEMO = Path(__file__).resolve().parents[2] / "config" / "routing.yaml"
RITA = Actor("rita", "admin")
SARAH = "sarah.johnson@acme-sales.example"
NOTIFY = "notifications:\n  sla_missed: []  # comment\n\n"


@pytest.fixture
def source(tmp_path: Path) -> ConfigSource:
    path = tmp_path / "routing.yaml"
    path.write_text(DEMO.read_text())
    return ConfigSource(path)


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path}/store.db"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _with_weight(text: str, weight: str) -> str:
    old = "    weight: 1.5                 # a senior rep"
    assert old in text
    return text.replace(old, f"    weight: {weight}                 # a senior rep")


def test_routing_section_leaves_notifications_out_and_can_keep_line_numbers() -> None:
    text = "version: 1\n" + NOTIFY + "reps: []\n"
    assert routing_section(text) == ("version: 1\nreps: []\n", True)
    kept, removed = routing_section(text, keep_lines=True)
    assert removed and kept.splitlines()[4] == "reps: []" and len(kept.splitlines()) == 5
    assert routing_section("version: 1\n") == ("version: 1\n", False)
    assert routing_section("a: [") == ("a: [", False)


def test_a_routing_section_is_checked_like_config_check_with_its_own_lines(
    source: ConfigSource,
) -> None:
    text = _with_weight(DEMO.read_text(), "-2")
    line = next(i for i, x in enumerate(text.splitlines(), 1) if x.startswith("    weight: -2 "))
    routing, errors, _ = check_routing_text(text, source.file(), name="draft")
    assert routing is None
    assert [(p.path, p.line, p.file) for p in errors] == [("reps[3].weight", line, "draft")]
    routing, errors, _ = check_routing_text(DEMO.read_text() + NOTIFY, source.file())
    assert routing is None and errors[0].path == "notifications"


def test_the_published_version_wins_over_the_file_and_overrides_apply_on_top(
    source: ConfigSource,
) -> None:
    body = _with_weight(DEMO.read_text(), "3")
    assert source.effective({}).routing.reps[SARAH].weight == 1.5
    effective = source.effective({}, Published(4, body))
    assert effective.routing.reps[SARAH].weight == 3.0 and effective.file.version == 4
    assert effective.file.notify is source.file().notify  # notifications: the file's
    assert source.effective({}, Published(4, body)) is effective  # parsed once
    on_top = source.effective({SARAH: {"weight": 5.0}}, Published(4, body))
    assert on_top.routing.reps[SARAH].weight == 5.0 and on_top.file.routing.reps[SARAH].weight == 3


def test_a_version_that_no_longer_passes_falls_back_to_the_file(source: ConfigSource) -> None:
    effective = source.effective({}, Published(2, "version: 1\nreps: 5\n"))
    assert effective.file.version is None and effective.routing.reps[SARAH].weight == 1.5


def test_the_worker_call_picks_up_a_publish_at_its_next_cycle(
    source: ConfigSource, engine, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        assert source(s).reps[SARAH].weight == 1.5  # nothing published: the file
    publish_routing(engine, source, actor=RITA, body=_with_weight(DEMO.read_text(), "2"))
    with Session(engine) as s:
        assert source(s).reps[SARAH].weight == 2.0
    reads: list[int] = []
    real = repo.version_body
    monkeypatch.setattr(repo, "version_body", lambda s, n: reads.append(n) or real(s, n))
    with Session(engine) as s:
        first = source(s)
        assert source(s) is first and reads == []  # same number: the text is not read again
    repo.rollback(engine, actor=RITA, number=1)
    with Session(engine) as s:
        assert source(s).reps[SARAH].weight == 2.0 and reads == [2]


def test_publish_refuses_a_draft_that_fails_the_checks(source: ConfigSource, engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as refused:
        publish_routing(engine, source, actor=RITA, body=_with_weight(DEMO.read_text(), "0"))
    assert refused.value.problems[0].path == "reps[3].weight"
    assert repo.versions(engine) == []


def test_a_draft_is_checked_and_given_the_overrides(source: ConfigSource) -> None:
    effective, errors, _ = source.draft(_with_weight(DEMO.read_text(), "2"), {SARAH: {"weight": 4}})
    assert errors == [] and effective is not None
    assert (
        effective.routing.reps[SARAH].weight == 4 and effective.file.routing.reps[SARAH].weight == 2
    )
    effective, errors, _ = source.draft("reps: 5\n", {})
    assert effective is None and errors
