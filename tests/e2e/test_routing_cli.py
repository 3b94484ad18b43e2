"""``leadrouter config``, ``simulate`` and ``bench`` as a user runs them (in-process via
click's runner, small workloads; the full benchmark is a separate command)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from worker.cli import cli

pytestmark = pytest.mark.e2e
EXAMPLE = str(Path(__file__).resolve().parents[2] / "config" / "routing.yaml")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_config_check_accepts_the_example() -> None:
    code, out = run("config", "check", EXAMPLE)
    assert code == 0 and "OK - 39 reps, 7 pools" in out


def test_config_check_prints_every_problem_then_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        Path(EXAMPLE)
        .read_text()
        .replace("weight: 1.5", "weight: -1", 1)
        .replace("Asia/Tokyo", "Asia/Tokio", 1)
    )
    code, out = run("config", "check", str(bad))
    assert code == 1
    assert "reps[3].weight: must be > 0" in out and "unknown time zone 'Asia/Tokio'" in out
    assert "2 error(s)" in out and "Traceback" not in out


def test_config_check_missing_file_is_one_line() -> None:
    code, out = run("config", "check", "/nonexistent/routing.yaml")
    assert code == 1 and out.startswith("Error:") and len(out.strip().splitlines()) == 1


def test_config_show_prints_a_loadable_effective_config(tmp_path: Path) -> None:
    code, out = run("config", "show", EXAMPLE, "--no-overrides")
    assert code == 0
    dumped = tmp_path / "effective.yaml"
    dumped.write_text(out)
    assert run("config", "check", str(dumped))[0] == 0


def test_simulate_generated_leads_prints_fairness_summary(tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    assert run("bench", "leads", "400", str(leads))[0] == 0
    out_file = tmp_path / "decisions.json"
    code, out = run(
        "simulate",
        str(leads),
        "--config",
        EXAMPLE,
        "--at",
        "2026-11-24T15:00:00Z",
        "--out",
        str(out_file),
    )
    assert code == 0, out
    assert out.startswith("400 leads:")
    assert "Jain" in out and "p = " in out and "pool emea:" in out
    decisions = json.loads(out_file.read_text())
    assert len(decisions) == 400 and all(d["trace"] for d in decisions)


def test_simulate_rejects_a_bad_leads_file_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "leads.json"
    bad.write_text("{not json")
    code, out = run("simulate", str(bad), "--config", EXAMPLE)
    assert code == 1 and "leads.json:1: not valid JSON" in out


def test_bench_routing_json_prints_the_figures() -> None:
    code, out = run("bench", "routing", "--json", "--leads", "2000", "--accounts", "2000")
    assert code == 0
    figures = json.loads(out)
    for key in (
        "decisions_per_s",
        "p50_us",
        "p99_us",
        "peak_rss_mb",
        "max_deviation_leads",
        "baseline_max_deviation_leads",
    ):
        assert figures[key] >= 0, key
    assert figures["max_deviation_leads"] < 1.0
    assert figures["leads"] == 2000


def test_simulate_matches_leads_to_accounts_from_a_file(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "Id,Name,Website,OwnerId,OwnerActive\n001A,Acme,https://www.acme.com,005SIM000000003,true\n"
    )
    leads = tmp_path / "leads.json"
    leads.write_text(
        json.dumps([{"Id": "00Q1", "Email": "jo@acme.com", "Company": "Acme", "Country": "US"}])
    )
    out = tmp_path / "d.csv"
    code, text = run(
        "simulate", str(leads), "--config", EXAMPLE, "--accounts", str(accounts), "--out", str(out)
    )
    assert code == 0, text
    row = out.read_text().splitlines()[1]
    assert "account_owner" in row and "005SIM000000003" in row and "001A" in row


@pytest.mark.integration
def test_config_show_applies_the_dashboards_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from worker.routing_config import load_config, validate_rep_override
    from worker.store.db import make_engine, upgrade
    from worker.store.team_repo import Actor, save_rep_override

    url = f"sqlite:///{tmp_path}/lr.db"
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", url)
    upgrade(url)
    cfg = load_config(EXAMPLE)
    save_rep_override(
        make_engine(url, pool=False),
        actor=Actor("revops", "admin"),
        rep_key="ben.carter@acme-sales.example",
        changes={"weight": 0.25, "enabled": False, "disabled_reason": "training"},
        validate=lambda key, data: validate_rep_override(cfg, key, data),
    )
    code, out = run("config", "show", EXAMPLE)
    assert code == 0
    ben = out.split("email: ben.carter@acme-sales.example", 1)[1].split("- email:", 1)[0]
    assert "weight: 0.25" in ben and "enabled: false" in ben and "disabled_reason: training" in ben
