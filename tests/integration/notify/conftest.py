"""Real local receivers for the notification tests: an aiosmtpd SMTP server (the demo
sink) and a stdlib HTTP receiver that can fail on purpose; a migrated store."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from devkit.sink import Sink
from worker.notify import NotifySettings, parse_notify_section
from worker.settings import load_settings
from worker.store.db import make_engine, session_scope, upgrade
from worker.store.models.journal import JournalRow

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SECRET = "webhook-s3cret"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers ``fail_status`` to the first ``fail_first`` requests, then 200."""

    fail_first: int = 0
    fail_status: int = 500
    attempts: int = 0
    received: list[Received] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                state.attempts += 1
                failing = state.attempts <= state.fail_first
                if not failing:
                    state.received.append(Received(self.path, dict(self.headers.items()), body))
            self.send_response(state.fail_status if failing else 200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[Sink]:
    sink = Sink(tmp_path / "sink").start()
    yield sink
    sink.stop()


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    upgrade(store_url)
    eng = make_engine(store_url)
    yield eng
    eng.dispose()


def notify_settings(
    receiver: Receiver, smtp_sink: Sink, *, rate: int = 60, **overrides: Any
) -> NotifySettings:
    """All five events wired to e-mail, a Slack-compatible hook and a signed webhook."""
    section: dict[str, Any] = {
        "salesforce_url": "https://acme.my.salesforce.com",
        "allow_local_http": True,  # the receiver listens on 127.0.0.1 without TLS
        "channels": {
            "mail": {"type": "email", "rate_per_minute": rate},
            "slack": {"type": "slack", "url": receiver.url("/slack"), "rate_per_minute": rate},
            "hook": {"type": "webhook", "url": receiver.url("/hook"), "secret_env": "HOOK_SECRET"},
        },
        "events": {
            "lead_assigned": {"notify": ["owner"], "channels": ["mail", "slack"]},
            "sla_reminder": {"notify": ["owner"], "channels": ["mail"]},
            "sla_reassigned": {
                "notify": ["previous_owner", "owner", "manager"],
                "channels": ["mail", "slack"],
            },
            "lead_held": {"notify": ["revops"], "channels": ["mail", "hook"]},
            "api_allocation": {"notify": ["revops"], "channels": ["hook"]},
        },
        "revops": ["revops@acme.example"],
        "people": {
            "sarah@acme.example": {"slack": "U0SARAH01", "manager": "maria@acme.example"},
            "ben@acme.example": {"manager": "maria@acme.example"},
        },
        "delivery": {"backoff_seconds": 10, "max_backoff_seconds": 60, "lease_seconds": 60},
    }
    section.update(overrides)
    settings = load_settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp_sink.smtp_port,
        smtp_starttls=False,
        smtp_from="router@acme.example",
    )
    return parse_notify_section(section, settings=settings, environ={"HOOK_SECRET": SECRET})


def a_decision(**overrides: Any) -> JournalRow:
    values: dict[str, Any] = {
        "lead_id": "00Q5e00000AbCdEAAV",
        "cycle_id": "cycle-1",
        "kind": "route",
        "status": "applied",
        "owner_id": "005SARAH",
        "owner_name": "Sarah Johnson",
        "rep_key": "sarah@acme.example",
        "pool": "na",
        "rule": "na-round-robin",
        "reason": "Round-robin in pool na (weight 2)",
        "lead_name": "Ada Lovelace",
        "lead_company": "Analytical Engines",
        "decided_at": NOW - timedelta(minutes=1),
        "applied_at": NOW - timedelta(minutes=1),
        "sla_due_at": NOW + timedelta(minutes=29),
        "sla_state": "open",
    }
    values.update(overrides)
    return JournalRow(**values)


def add_decision(engine: Engine, decision: JournalRow) -> JournalRow:
    with session_scope(engine) as session:
        session.add(decision)
        session.flush()
        session.refresh(decision)
    return decision
