"""Which lead fields a config reads, and simulate's warning when its input lacks one."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from worker.cli import cli
from worker.jobs.fields import lead_fields
from worker.routing.fields import field_uses, routing_fields
from worker.routing_config import load_config

DEMO = Path(__file__).resolve().parents[3] / "config" / "routing.yaml"


def test_the_demo_config_reads_what_its_rules_territories_and_matching_use() -> None:
    uses = field_uses(load_config(DEMO))
    assert "account matching (phone corroboration)" in uses["Phone"]
    assert "account matching (country corroboration)" in uses["Country"]
    assert "territory na-west" in uses["State"]
    assert "rule 'Junk'" in uses["LastName"] and "rule 'Junk'" in uses["Email"]
    assert "rule 'Enterprise'" in uses["NumberOfEmployees"]
    assert {"Website", "Company", "LeadSource"} <= set(uses)
    assert "PostalCode" not in uses and "Industry" not in uses  # nothing reads them


def test_the_worker_selects_every_routed_field_once() -> None:
    config = load_config(DEMO)
    fields = lead_fields(config)
    assert set(routing_fields(config)) <= set(fields)
    assert len({f.lower() for f in fields}) == len(fields)
    assert {"Id", "OwnerId", "IsConverted", "SystemModstamp", "Phone"} <= set(fields)


def test_simulate_warns_about_a_field_its_input_lacks(tmp_path: Path) -> None:
    leads = tmp_path / "leads.json"
    leads.write_text(json.dumps([{"Id": "00Q1", "LastName": "Ng", "Company": "Acme",
                                  "Email": "ng@acme.example", "Country": "US"}]))  # fmt: skip
    result = CliRunner().invoke(
        cli, ["simulate", str(leads), "--config", str(DEMO), "--no-overrides",
              "--at", "2026-11-23T15:00Z"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        "warning: no lead in the input has Phone, which account matching "
        "(phone corroboration) read(s)" in result.output
    )
    assert "has Country" not in result.output and "has Email" not in result.output
