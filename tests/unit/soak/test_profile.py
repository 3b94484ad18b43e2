"""Soak profiles and the command's option checks (no org is started)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session

from devkit.soak.chaos import fault_share, kill_moments
from devkit.soak.profile import resolve
from worker.cli import cli
from worker.store.db import make_engine, upgrade
from worker.store.models import JournalRow


def test_overrides_replace_only_what_is_given() -> None:
    p = resolve("quick", leads=50, rate=None, kills=4)
    assert (p.leads, p.kills, p.rate) == (50, 4, resolve("quick").rate)
    assert p.chaos_seconds >= 60  # the one-minute SLA must have time to expire


@pytest.mark.parametrize("bad", [{"leads": 0}, {"rate": 0}, {"fault_rate": 0.9}, {"workers": 3}])
def test_nonsense_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        resolve("quick", **bad)


def test_two_workers_need_postgres_in_one_line() -> None:
    result = CliRunner().invoke(cli, ["soak", "--workers", "2"])
    assert result.exit_code == 1
    assert "needs --database-url postgresql" in result.output and "Traceback" not in result.output


def test_kill_moments_are_spread_one_per_slot() -> None:
    import random

    moments = kill_moments(3, 5, 65, random.Random(1))
    assert [5 <= m < 25 for m in moments[:1]] == [True] and 25 <= moments[1] < 45 <= moments[2] < 65


def test_fault_share_counts_requests_refused_before_billing() -> None:
    counts = {"reset": 5, "server_unavailable": 5, "slow": 10, "lock_row": 99}
    assert fault_share(counts, billed=90) == (100, 0.2)


def test_a_store_that_already_holds_decisions_is_refused_before_anything_starts(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'used.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as s:
        s.add(JournalRow(lead_id="00Q000000000001", cycle_id="c1"))
        s.commit()
    engine.dispose()
    result = CliRunner().invoke(cli, ["soak", "--database-url", url, "--keep", str(tmp_path)])
    assert result.exit_code == 1 and "needs an empty database" in result.output
    assert not (tmp_path / "org").exists()


def test_a_latency_profile_reaches_the_soak_and_a_bad_one_stops_it_first(tmp_path: Path) -> None:
    from devkit.commands.soak import soak

    assert resolve("quick").latency == "none" and resolve("quick", latency="real").latency == "real"
    result = CliRunner().invoke(soak, ["--latency", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1 and "latency profile not found" in result.output
