"""Keep the worker's heap cheap to live with: the cyclic garbage collector off the
long-lived objects, freed memory given back to the OS.

CPython's collector scans every tracked object it has not frozen. A worker's heap is
mostly long-lived (the account index, the directory, the held leads' snapshots, SQLAlchemy's
metadata), and a busy cycle allocates hundreds of thousands of short-lived containers
(rows, facts, trace steps): every few hundred thousand of those set off a full
collection that walked the whole long-lived heap again, ~0.1 s each, four times per
10,000 leads: a tenth of a burst's time, to find nothing.

So, after each cycle that did work, what survived it is collected once and frozen (moved
out of the collector's sight, :func:`gc.freeze`); the next cycle's collections only scan
what that cycle allocated. An object frozen and dropped later is still freed by its
reference count; only a reference CYCLE dropped after its freeze would wait, so every
``full_every`` seconds the heap is unfrozen and fully collected once. The young
generation's threshold is raised too (700 -> 10,000): most of a cycle's containers die
young, before a collection has to look at them.
"""

from __future__ import annotations

import ctypes
import gc
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = (10_000, 10, 10)
PAGES_PER_COLLECTION = 10  # 20,000 leads' worth of cyclic garbage at most


class Heap:
    def __init__(
        self, full_every: float = 900.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.full_every = full_every
        self._clock = clock
        self._full_at = float("-inf")
        self._lock = threading.Lock()

    def start(self) -> None:
        """At start-up, after the long-lived tables are built: tune and freeze."""
        gc.set_threshold(*YOUNG_THRESHOLD)
        self.settle(busy=True)

    @contextmanager
    def pages(self) -> Iterator[Callable[[], None]]:
        """Automatic collection off while a cycle works through its pages; yields the
        call to make after each page (every :data:`PAGES_PER_COLLECTION` pages it
        collects the young and middle generations, what those pages left in cycles).
        The collector's previous state comes back on the way out, exception or not.

        The switch is process-wide: cyclic garbage of other jobs (an SLA sweep running
        alongside) also waits for the next collection point, never longer than the
        cycle; their reference-counted garbage is freed as always."""
        was_enabled = gc.isenabled()
        done = 0

        def page_done() -> None:
            nonlocal done
            done += 1
            if done % PAGES_PER_COLLECTION == 0:
                gc.collect(1)

        gc.disable()
        try:
            yield page_done
        finally:
            if was_enabled:
                gc.enable()

    def settle(self, *, busy: bool) -> None:
        """After a cycle: a busy one's survivors are collected and frozen; every
        ``full_every`` seconds everything is unfrozen and collected once."""
        now = self._clock()
        with self._lock:
            if now - self._full_at >= self.full_every:
                self._full_at = now
                gc.unfreeze()
                busy = True
            if busy:
                gc.collect()
                gc.freeze()
        trim()


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None  # not glibc: nothing to do


_MALLOC_TRIM = _malloc_trim()  # looked up once, not at every cycle


def trim() -> None:
    """Give freed heap back to the OS (glibc keeps it otherwise): a cycle parses pages of
    up to 2,000 records, and without this the worker's RSS creeps up over days."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
