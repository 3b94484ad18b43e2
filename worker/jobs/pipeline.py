"""Overlap an intake cycle's reads with its own work.

A busy cycle used to do everything in turn: read a page, look up its e-mails, decide,
journal and write it, then read the next page; the worker sat idle while Salesforce
answered. :class:`ReadAhead` reads (and prepares: the e-mail lookups) page N+1 on a thread
while page N is decided and written, one page ahead and never more.

Writes stay on the cycle's thread. Sending them from a thread while the next page was
decided was tried and measured: it saved ~10% of a busy cycle, but every step between the
owner re-read and the PATCHes then waited for the busy thread's GIL, and the
check-then-write window (``leadrouter_guard_window_seconds``) grew from ~3 ms to ~24 ms on
average, up to 250 ms. That window is the one a person's change can fall into.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()


class ReadAhead(Generic[T]):
    """Iterate ``source`` on a thread, at most one item ahead of the consumer; ``prepare``
    runs on that thread for each item before it is handed over. An exception in the
    source or in ``prepare`` is raised to the consumer, in order."""

    def __init__(
        self, source: Iterable[T], prepare: Callable[[T], object] | None = None, name: str = ""
    ) -> None:
        self._source, self._prepare = source, prepare
        self._items: queue.Queue[object] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name or "read-ahead", daemon=True)

    def __enter__(self) -> Iterator[T]:
        self._thread.start()
        return self._consume()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        while self._thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                self._items.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()

    def _consume(self) -> Iterator[T]:
        while True:
            item = self._items.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]

    def _run(self) -> None:
        try:
            for item in self._source:
                if self._prepare is not None:
                    self._prepare(item)
                if not self._put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._put(_Failed(exc))
            return
        self._put(_DONE)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._items.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error
