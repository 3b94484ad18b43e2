"""``leadrouter notify``: the demo sink records what it receives; test messages go out."""

from __future__ import annotations

import json
import re
import signal
import smtplib
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests
import yaml
from click.testing import CliRunner

from worker.cli import cli
from worker.notify import signing
from worker.store.db import upgrade

from .conftest import Receiver

pytestmark = pytest.mark.integration


def test_sink_records_mail_and_webhooks_and_lists_them_escaped(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "worker",
            "notify",
            "sink",
            "--state-dir",
            str(tmp_path),
            "--smtp-port",
            "0",
            "--http-port",
            "0",
            "--secret-env",
            "HOOK_SECRET",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={"HOOK_SECRET": "k", "PATH": "/usr/bin:/bin"},
        cwd=Path(__file__).parents[3],
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline() + proc.stdout.readline()
        smtp_port, http_port = (int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", banner))
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = (
            "r@acme.example",
            "sarah@acme.example",
            "New lead: <b>Ada</b>",
        )
        mail.set_content("Why: round-robin")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=5) as client:
            client.send_message(mail)
        body = json.dumps({"timestamp": 1, "summary": "held"}).encode()
        requests.post(
            f"http://127.0.0.1:{http_port}/hook",
            data=body,
            timeout=5,
            headers={
                signing.SIGNATURE_HEADER: signing.sign(b"k", body),
                signing.TIMESTAMP_HEADER: "1",
            },
        )
        page = requests.get(f"http://127.0.0.1:{http_port}/", timeout=5).text
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)

    entries = [json.loads(line) for line in (tmp_path / "outbox.log").read_text().splitlines()]
    assert [e["via"] for e in entries] == ["smtp", "http"]
    assert (
        entries[0]["to"] == ["sarah@acme.example"]
        and entries[0]["text"].strip() == "Why: round-robin"
    )
    assert entries[1]["signature_valid"] is False  # timestamp 1 is a replay from 1970
    assert "New lead: &lt;b&gt;Ada&lt;/b&gt;" in page and "<b>Ada</b>" not in page
    assert "sink stopped" in out and proc.returncode == 0


def _config(tmp_path: Path, receiver: Receiver) -> Path:
    """A whole routing config: the notifications section is read with the rest of the
    file, by the one loader the worker uses."""
    path = tmp_path / "routing.yaml"
    section = {
        "allow_local_http": True,
        "channels": {"team-slack": {"type": "slack", "url": receiver.url("/slack")}},
    }
    routing = {
        "reps": [{"email": "ada@acme.example"}],
        "pools": {"sales": {"members": ["ada@acme.example"]}},
        "rules": [{"name": "Everything", "action": {"pool": "sales"}}],
    }
    path.write_text(yaml.safe_dump({**routing, "notifications": section}))
    return path


def test_test_command_sends_one_message_on_the_channel(tmp_path: Path, receiver: Receiver) -> None:
    result = CliRunner().invoke(
        cli,
        ["notify", "test", "--channel", "team-slack", "--config", str(_config(tmp_path, receiver))],
    )

    assert result.exit_code == 0, result.output
    assert result.output == "sent a test message via team-slack (slack)\n"
    (hit,) = receiver.on("/slack")
    assert "Test Lead" in hit.json["text"]


def test_test_command_reports_failures_in_one_line_without_the_url(
    tmp_path: Path, receiver: Receiver
) -> None:
    receiver.fail_first, receiver.fail_status = 1, 403
    config = _config(tmp_path, receiver)

    failed = CliRunner().invoke(
        cli, ["notify", "test", "--channel", "team-slack", "--config", str(config)]
    )
    unknown = CliRunner().invoke(
        cli, ["notify", "test", "--channel", "nope", "--config", str(config)]
    )

    assert failed.exit_code == 1 and failed.output == "Error: team-slack: HTTP 403\n"
    assert (
        unknown.exit_code == 1
        and unknown.output == "Error: --channel: no channel named 'nope' (team-slack)\n"
    )


def test_status_command_prints_counts_by_channel(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADROUTER_DATABASE_URL", sqlite_url)
    upgrade(sqlite_url)

    result = CliRunner().invoke(cli, ["notify", "status"])

    assert result.exit_code == 0, result.output
    assert result.output == "total  pending 0  sending 0  sent 0  dead 0\n"
