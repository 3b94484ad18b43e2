"""The worker's logging set-up (:func:`worker.bootstrap.configure_logging`)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

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
    assert "level=WARNING logger=apscheduler.scheduler msg=Execution" not in err
    assert len(scheduler.filters) == 1
