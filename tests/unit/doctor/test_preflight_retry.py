"""The worker's preflight (``leadrouter run``) asks again when Salesforce did not answer,
and an outage after a good sign-in does not stop the worker; a misconfiguration does."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click
import pytest

from worker.commands import run as run_command
from worker.doctor.model import Check, Status, fail
from worker.store.db import make_engine, session_scope, upgrade
from worker.store.state_repo import get_value

OUTAGE = Check("fields", Status.FAIL, "Salesforce: HTTP 503 SERVER_UNAVAILABLE", transient=True)
NO_SIGN_IN = Check("token", Status.FAIL, "cannot reach the Salesforce token URL", transient=True)
MISSPELT = fail("intake_queues", "no queue with DeveloperName Lead_Intake")


@pytest.fixture
def app(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path}/store.db"
    upgrade(url)
    deps = SimpleNamespace(engine=make_engine(url), config=lambda _s: None, gateway=None)
    return SimpleNamespace(settings=SimpleNamespace(sf_instance_url="https://x"), deps=deps)


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[Check | None]:
    """The preflight's verdicts, one per attempt (the last one repeats)."""
    given: list[Check | None] = []
    asked = iter(range(1_000))

    def verdict(_inputs: object) -> Check | None:
        return given[min(next(asked), len(given) - 1)]

    monkeypatch.setattr("worker.doctor.preflight_failure", verdict)
    monkeypatch.setattr("worker.commands.doctor.inputs_for", lambda *a: object())
    monkeypatch.setattr("worker.doctor.checks.preflight_key", lambda *a: "key")
    monkeypatch.setattr(run_command.time, "sleep", lambda _s: None)
    return given


def passed(app: Any) -> object:
    with session_scope(app.deps.engine) as s:
        return get_value(s, run_command.PREFLIGHT_KEY)


def test_an_outage_that_passes_is_asked_again_and_the_worker_starts(
    app: Any, answers: list
) -> None:
    answers += [OUTAGE, OUTAGE, None]
    run_command._preflight(app, once=False)
    assert passed(app) is not None  # recorded as passed once it did


def test_an_outage_after_a_good_sign_in_starts_the_worker_with_a_warning(
    app: Any, answers: list, caplog: pytest.LogCaptureFixture
) -> None:
    answers += [OUTAGE]
    with caplog.at_level(logging.WARNING, logger="leadrouter.worker"):
        run_command._preflight(app, once=False)  # no exception: the worker starts
    assert "starting anyway" in caplog.text
    assert sum("again in" in r.getMessage() for r in caplog.records) == len(
        run_command.PREFLIGHT_RETRY_S
    )
    assert passed(app) is None  # not recorded: the next start checks again


def test_a_sign_in_that_never_answers_stops_the_worker(app: Any, answers: list) -> None:
    answers += [NO_SIGN_IN]
    with pytest.raises(click.ClickException, match="cannot reach the Salesforce token URL"):
        run_command._preflight(app, once=False)


def test_a_misconfiguration_stops_the_worker_at_once(
    app: Any, answers: list, caplog: pytest.LogCaptureFixture
) -> None:
    answers += [MISSPELT]
    with caplog.at_level(logging.WARNING, logger="leadrouter.worker"):
        with pytest.raises(click.ClickException, match="no queue with DeveloperName"):
            run_command._preflight(app, once=False)
    assert "again in" not in caplog.text  # not asked again: the answer was an answer
