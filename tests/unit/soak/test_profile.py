"""Soak profiles and the command's option checks (no org is started)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session

from devkit.soak.chaos import CDC_KINDS, fault_share, faults_on, kill_moments
from devkit.soak.fleet import worker_env
from devkit.soak.profile import resolve
from devkit.soak.routing import write_config
from worker.cli import cli
from worker.config_source import intake_mode, load_config_file
from worker.settings import load_settings
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


def test_an_unknown_intake_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="--intake"):
        resolve("quick", intake="push")
    result = CliRunner().invoke(cli, ["soak", "--intake", "push"])
    assert result.exit_code == 2 and "'push' is not one of 'poll', 'subscribe'" in result.output


SANDBOX_INFO = {
    "instance_url": "https://127.0.0.1:1", "token_url": "https://127.0.0.1:1/token",
    "ca_path": "/ca.pem", "client_id": "id", "client_secret": "secret",
    "pubsub_endpoint": "127.0.0.1:2", "org_id": "00D000000000001AAA",
}  # fmt: skip


@pytest.mark.parametrize("intake", ["poll", "subscribe"])
def test_workers_get_the_intake_mode_and_subscribed_the_pubsub_endpoint(
    intake: str, tmp_path: Path
) -> None:
    base = {"LEADROUTER_SF_PUBSUB_ENDPOINT": "elsewhere:7443", "PATH": "/bin"}
    env = worker_env(base, SANDBOX_INFO, "sqlite://", tmp_path / "r.yaml", intake)
    assert env["LEADROUTER_INTAKE_MODE"] == intake and env["PATH"] == "/bin"
    assert env["LEADROUTER_SF_CA_BUNDLE"] == "/ca.pem"  # the Pub/Sub API's TLS: the same CA
    if intake == "subscribe":
        assert env["LEADROUTER_SF_PUBSUB_ENDPOINT"] == "127.0.0.1:2"
        assert env["LEADROUTER_SF_ORG_ID"] == "00D000000000001AAA"
    else:
        assert "LEADROUTER_SF_PUBSUB_ENDPOINT" not in env and "LEADROUTER_SF_ORG_ID" not in env


@pytest.mark.parametrize("intake", ["poll", "subscribe"])
def test_the_soak_config_is_valid_in_both_modes_with_the_profiles_sweep(
    intake: str, tmp_path: Path
) -> None:
    path = write_config(tmp_path, sla_minutes=1, sweep_seconds=45)
    settings = load_settings(intake_mode=intake)
    config = load_config_file(path, settings=settings).routing
    assert intake_mode(settings, config) == intake
    assert config.intake.subscribe.sweep_seconds == 45


def test_cdc_faults_are_added_only_when_given() -> None:
    class Admin:
        config: dict[str, float] = {}

        def set_faults(self, config: dict[str, float]) -> None:
            self.config = config

    admin = Admin()
    faults_on(admin, 0.12, 0.2, 1)
    assert admin.config["reset"] > 0 and admin.config["cdc_gap"] == 0
    cdc = {kind: getattr(resolve("quick"), kind) for kind in CDC_KINDS}
    faults_on(admin, 0.12, 0.2, 1, cdc)
    assert admin.config["reset"] > 0 and all(admin.config[k] == cdc[k] > 0 for k in CDC_KINDS)
