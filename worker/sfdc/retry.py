"""The retry policy for Salesforce calls: transient errors only, bounded, with jitter.

Transient means 5xx, timeouts, connection resets and ``UNABLE_TO_LOCK_ROW`` (see
:mod:`worker.sfdc.errors`). A 401 is not retried here: :meth:`SalesforceConnection.call`
refreshes the token once itself. ``REQUEST_LIMIT_EXCEEDED`` is never retried: hammering a
spent allocation only makes it worse; the next cycle tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from worker.sfdc.errors import SfdcTransientError

T = TypeVar("T")
log = logging.getLogger("leadrouter.sfdc.retry")


def retrying(
    *, attempts: int = 6, initial: float = 0.05, max_wait: float = 2.0, deadline: float = 30.0
) -> Retrying:
    """A tenacity controller: exponential backoff with jitter, at most ``attempts`` tries."""
    return Retrying(
        retry=retry_if_exception_type(SfdcTransientError),
        stop=stop_after_attempt(attempts) | stop_after_delay(deadline),
        wait=wait_exponential_jitter(multiplier=initial, max=max_wait, jitter=initial),
        before_sleep=before_sleep_log(log, logging.WARNING),
        reraise=True,
    )


def with_retry(fn: Callable[[], T], policy: Retrying | None = None) -> T:
    """Call ``fn`` under ``policy`` (default :func:`retrying`), re-raising the last error."""
    controller = (policy or retrying()).copy()
    return controller(fn)
