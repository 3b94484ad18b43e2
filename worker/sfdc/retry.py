"""The retry policy for Salesforce calls: transient errors only, bounded, with jitter.

Transient means 5xx, timeouts, connection resets and ``UNABLE_TO_LOCK_ROW`` (see
:mod:`worker.sfdc.errors`). A 401 is not retried here: :meth:`SalesforceConnection.call`
refreshes the token once itself. ``REQUEST_LIMIT_EXCEEDED`` is never retried: hammering a
spent allocation only makes it worse; the next cycle tries again.

Each retry is one log line naming the call: the first at WARNING with what went wrong
(an unreachable host says so at once), the next ones at INFO.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from random import Random
from typing import Generic, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
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
        before_sleep=log_retry,
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


def with_retry(fn: Callable[[], T], policy: Retrying | None = None, name: str | None = None) -> T:
    """Call ``fn`` under ``policy`` (default :func:`retrying`), re-raising the last error.
    ``name`` is what the retry log calls it (default: worked out from ``fn``)."""
    controller = (policy or retrying()).copy()
    return controller(_Named(fn, name or call_name(fn)))


class _Named(Generic[T]):
    """``fn`` with the name the retry log shows."""

    def __init__(self, fn: Callable[[], T], name: str) -> None:
        self.fn, self.name = fn, name

    def __call__(self) -> T:
        return self.fn()


def log_retry(state: RetryCallState) -> None:
    """One line per retry: the first at WARNING (what failed and why), the rest at INFO."""
    fn = state.fn
    name = fn.name if isinstance(fn, _Named) else call_name(fn) if fn else "a Salesforce call"
    error = state.outcome.exception() if state.outcome else None
    pause = state.next_action.sleep if state.next_action else 0.0
    level = logging.WARNING if state.attempt_number == 1 else logging.INFO
    log.log(
        level,
        "%s failed (attempt %d): %s; retrying in %.2f s",
        name,
        state.attempt_number,
        error or "no error",
        pause,
    )


def call_name(fn: object) -> str:
    """A readable name for ``fn``: ``Class.method``; for a lambda, the function that
    wrote it and the Salesforce method it calls (``SimpleSalesforceGateway._pages:
    sf.query``), looking through lambdas that wrap lambdas."""
    for _ in range(5):  # a lambda wrapping a lambda wrapping ...
        qualname = getattr(fn, "__qualname__", None) or type(fn).__qualname__
        if "<lambda>" not in qualname:
            return qualname
        inner = [
            cell.cell_contents
            for cell in getattr(fn, "__closure__", None) or ()
            if callable(getattr(cell, "cell_contents", None))
            and "<lambda>" in getattr(cell.cell_contents, "__qualname__", "")
        ]
        if not inner:
            where = qualname.split(".<locals>")[0]
            code = getattr(fn, "__code__", None)
            called = [n for n in code.co_names if not n.startswith("_")] if code else []
            return f"{where}: sf.{called[0]}" if called else where
        fn = inner[0]
    return "a Salesforce call"
