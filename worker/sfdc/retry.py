"""The retry policy for Salesforce calls: transient errors only, bounded, with jitter.

Transient means 5xx, timeouts, connection resets and ``UNABLE_TO_LOCK_ROW`` (see
:mod:`worker.sfdc.errors`). A 401 is not retried here: :meth:`SalesforceConnection.call`
refreshes the token once itself. ``REQUEST_LIMIT_EXCEEDED`` is never retried: hammering a
spent allocation only makes it worse; the next cycle tries again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from random import Random
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
)

from worker.sfdc.errors import SfdcTransientError

T = TypeVar("T")
log = logging.getLogger("leadrouter.sfdc.retry")


def retrying(
    *,
    attempts: int = 6,
    initial: float = 0.05,
    max_wait: float = 2.0,
    deadline: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    rng: Random | None = None,
) -> Retrying:
    """A tenacity controller: exponential backoff with jitter, at most ``attempts`` tries.
    ``sleep`` and ``rng`` (the jitter) are ports: a test passes its own and nothing waits."""
    return Retrying(
        retry=retry_if_exception_type(SfdcTransientError),
        stop=stop_after_attempt(attempts) | stop_after_delay(deadline),
        wait=backoff(initial, max_wait, rng or Random()),  # noqa: S311 (jitter, not a secret)
        sleep=sleep,
        before_sleep=before_sleep_log(log, logging.WARNING),
        reraise=True,
    )


def backoff(initial: float, max_wait: float, rng: Random) -> Callable[[RetryCallState], float]:
    """``initial`` doubled at each attempt plus up to ``initial`` of jitter from ``rng``,
    at most ``max_wait`` (tenacity's ``wait_exponential_jitter``, with its randomness
    injected)."""

    def wait(state: RetryCallState) -> float:
        doublings = min(int(state.attempt_number) - 1, 60)  # past max_wait long before
        pause = initial * 2.0**doublings + rng.uniform(0, initial)
        return max(0.0, min(pause, max_wait))

    return wait


def with_retry(fn: Callable[[], T], policy: Retrying | None = None) -> T:
    """Call ``fn`` under ``policy`` (default :func:`retrying`), re-raising the last error."""
    controller = (policy or retrying()).copy()
    return controller(fn)
