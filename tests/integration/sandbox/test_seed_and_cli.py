"""`leadrouter sandbox seed` is reproducible and shows progress; `serve` prints how to connect."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from devkit.commands.sandbox import sandbox as sandbox_cli
from devkit.sandbox.org import Org

pytestmark = pytest.mark.integration
SYSTEM = {"CreatedDate", "LastModifiedDate", "SystemModstamp", "CloseDate"}


def _content(path):
    org = Org.open(path)
    try:
        return {
            name: [
                {k: v for k, v in row.items() if k not in SYSTEM} for row in org.store.rows(name)
            ]
            for name in ("User", "Account", "Contact", "Opportunity", "Lead")
        }
    finally:
        org.store.close()


def test_seed_with_the_same_number_builds_the_same_org(tmp_path):
    runner = CliRunner()
    for folder in ("a", "b"):
        result = runner.invoke(
            sandbox_cli,
            [
                "seed",
                "--state-dir",
                str(tmp_path / folder),
                "--seed",
                "42",
                "--accounts",
                "60",
                "--leads",
                "80",
            ],
        )
        assert result.exit_code == 0, result.output
        assert (
            "seeded" in result.output
            and "60 accounts" in result.output
            and "80 leads" in result.output
        )
    first, second = _content(tmp_path / "a" / "org.sqlite"), _content(tmp_path / "b" / "org.sqlite")
    assert first == second and len(first["Lead"]) == 80
    other = CliRunner().invoke(
        sandbox_cli,
        [
            "seed",
            "--state-dir",
            str(tmp_path / "c"),
            "--seed",
            "43",
            "--accounts",
            "60",
            "--leads",
            "80",
        ],
    )
    assert other.exit_code == 0 and _content(tmp_path / "c" / "org.sqlite")["Lead"] != first["Lead"]


def test_seed_refuses_to_overwrite_without_force(tmp_path):
    args = ["seed", "--state-dir", str(tmp_path), "--accounts", "1", "--leads", "0"]
    assert CliRunner().invoke(sandbox_cli, args).exit_code == 0
    again = CliRunner().invoke(sandbox_cli, args)
    assert again.exit_code == 1 and "--force" in again.output


def test_serve_prints_url_ca_and_where_its_working_token_is(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADROUTER_")}
    cmd = [
        sys.executable,
        "-m",
        "worker",
        "sandbox",
        "serve",
        "--state-dir",
        str(tmp_path),
        "--port",
        "0",
        "--accounts",
        "5",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        lines = [proc.stdout.readline() for _ in range(4)]
        url = re.search(r"listening on (https://\S+)", lines[0]).group(1)
        ca = re.search(r"CA bundle:\s+(\S+)", lines[1]).group(1)
        info_path = re.search(r"credentials:\s+(\S+)", lines[3]).group(1)
        token = json.loads(Path(info_path).read_text())["access_token"]
        assert token not in "".join(lines)
        session = requests.Session()
        session.verify, session.trust_env = ca, False
        response = session.get(
            f"{url}/services/data/v59.0/query/?q=SELECT+COUNT()+FROM+User",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.json()["totalSize"] == 40
        info = json.loads((tmp_path / "sandbox.json").read_text())
        assert (
            info["instance_url"] == url and info["access_token"] == token and info["ca_path"] == ca
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
