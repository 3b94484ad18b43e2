"""The Salesforce retry policy's back-off: its sleep and its jitter are injected."""

from __future__ import annotations

from random import Random

import pytest

from worker.sfdc.errors import SfdcPermanentError, SfdcTransientError
from worker.sfdc.retry import retrying, with_retry


class Highest(Random):
    """Jitter always at its top."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_the_back_off_doubles_plus_the_injected_jitter_up_to_its_cap() -> None:
    naps: list[float] = []
    calls = iter(range(10))

    def flaky() -> int:
        if next(calls) < 7:
            raise SfdcTransientError("Salesforce answered 503", status=503)
        return 1

    policy = retrying(attempts=8, max_wait=2.0, deadline=1e9, sleep=naps.append, rng=Highest())
    assert with_retry(flaky, policy) == 1
    assert naps == pytest.approx([0.1, 0.15, 0.25, 0.45, 0.85, 1.65, 2.0])


def test_a_permanent_error_is_not_retried_and_nothing_sleeps() -> None:
    naps: list[float] = []

    def refused() -> None:
        raise SfdcPermanentError("Salesforce answered 400", status=400)

    with pytest.raises(SfdcPermanentError):
        with_retry(refused, retrying(sleep=naps.append))
    assert naps == []
