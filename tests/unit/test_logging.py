"""The worker's logging set-up (:func:`worker.bootstrap.configure_logging`)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from worker.bootstrap import configure_logging
from worker.settings import load_settings

SKIPPED = 'Execution of job "%s" skipped: maximum number of running instances reached (%d)'


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    scheduler = logging.getLogger("apscheduler.scheduler")
    filters = scheduler.filters[:]
    yield
    root.handlers[:], scheduler.filters[:] = handlers, filters
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("DEBUG", True)])
def test_a_skipped_tick_of_a_long_cycle_is_not_a_warning(
    level: str, shown: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(load_settings(log_level=level))
    configure_logging(load_settings(log_level=level))  # twice: one filter, not two
    scheduler = logging.getLogger("apscheduler.scheduler")
    scheduler.warning(SKIPPED, "intake", 1)
    scheduler.warning("Run time of job %s was missed by %s", "intake", "0:00:31")
    err = capsys.readouterr().err
    assert ("level=DEBUG" in err and "skipped" in err) is shown
    assert "level=WARNING" in err and "was missed" in err  # other warnings stay warnings
    assert 'level=WARNING logger=apscheduler.scheduler msg="Execution' not in err
    assert len(scheduler.filters) == 1


UTC_MS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00"


@pytest.mark.usefixtures("restore_logging")
def test_text_lines_carry_utc_milliseconds_and_a_quoted_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(load_settings(log_format="text"))
    before = datetime.now(UTC)

    logging.getLogger("leadrouter.test").warning('lead held: Company "Acme\nlevel=ERROR" x=1')

    (line,) = capsys.readouterr().err.splitlines()  # the line break stays inside the value
    match = re.fullmatch(rf"ts=({UTC_MS}) level=WARNING logger=leadrouter.test msg=(.*)", line)
    assert match, line
    assert json.loads(match.group(2)) == 'lead held: Company "Acme\nlevel=ERROR" x=1'
    stamp = datetime.fromisoformat(match.group(1))
    assert timedelta(0) <= stamp - before.replace(microsecond=before.microsecond // 1000 * 1000)
    assert stamp - before < timedelta(seconds=5)


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_carry_utc_milliseconds(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(load_settings(log_format="json"))

    logging.getLogger("leadrouter.test").info("cycle done")

    doc = json.loads(capsys.readouterr().err)
    assert re.fullmatch(UTC_MS, doc["ts"]) and doc["msg"] == "cycle done"


@pytest.mark.usefixtures("restore_logging")
def test_a_traceback_stays_on_the_line_of_its_record(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(load_settings(log_format="text"))
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("leadrouter.test").exception("cycle failed")

    (line,) = capsys.readouterr().err.splitlines()
    assert 'msg="cycle failed" exc="Traceback' in line and "ValueError: boom" in line
