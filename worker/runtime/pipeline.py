"""Overlap an intake cycle's Salesforce round trips with its own work.

A busy cycle used to do everything in turn: read a page, look up its e-mails, decide and
journal it, then wait for its owner re-reads and PATCHes before reading the next page.
The worker sat idle while Salesforce worked, and Salesforce sat idle while the worker
decided. Two helpers keep both busy, one step ahead and never more:

* :class:`ReadAhead` reads (and prepares) page N+1 on a thread while page N is decided;
* :class:`WriteBehind` sends page N's decisions (guard re-read, then PATCHes) on a thread
  while page N+1 is decided, and hands the outcomes back to be journaled on the calling
  thread, so the store and the routing state are only ever written from one thread.

Nothing about the guarantees changes: decisions are journaled ``pending`` before their
write starts; the owner re-read still comes right before each burst of PATCHes; a crash
with a write in flight leaves ``pending`` rows for reconcile, exactly as before.

One thing had to be added: the check-then-write window. From the owner re-read to the
PATCHes the writer thread needs the interpreter (parse the owners, build the bodies,
send), and with the cycle thread busy deciding it waited for the GIL at every step: the
window grew from ~3 ms to ~24 ms on average. A :class:`Hush` fixes that: the writer
holds it from the moment the re-read's answer starts arriving (its headers are in:
:func:`worker.sfdc.connection.on_answer`) until every PATCH of the burst is on its way,
and the cycle thread stands aside at its next lead boundary while it is held. (The
worker also lowers the interpreter's switch interval, see
:func:`worker.bootstrap.build_app`, so a thread asking for the GIL gets it within
0.5 ms.) It used to be held from the moment the re-read was sent: the cycle thread then
also sat out Salesforce's own time on the read, about a tenth of a busy cycle.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
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


class WriteBehind(Generic[T, R]):
    """Run ``send(batch)`` on one thread, one batch in flight at a time; ``collect(result)``
    runs on the CALLING thread, when the next batch is submitted or at :meth:`drain`.

    Used as a context manager: leaving it drains what is in flight, so a cycle never ends
    with a write whose outcome is not journaled (unless the process dies, which is what
    reconcile is for)."""

    def __init__(self, send: Callable[[T], R], collect: Callable[[R], None]) -> None:
        self._send = send
        self._collect = collect
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="write-behind")
        self._in_flight: Future[R] | None = None

    def submit(self, batch: T) -> None:
        self.drain()
        self._in_flight = self._pool.submit(self._send, batch)

    def drain(self) -> None:
        future, self._in_flight = self._in_flight, None
        if future is not None:
            self._collect(future.result())

    def finished(self) -> R | None:
        """The result of the batch in flight if it has finished (it is then the caller's
        to collect, not ``collect``'s); None while it runs or when none was sent. A failed
        send is raised here, as :meth:`drain` would."""
        future = self._in_flight
        if future is None or not future.done():
            return None
        self._in_flight = None
        return future.result()

    def __enter__(self) -> WriteBehind[T, R]:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        try:
            if kind is None:
                self.drain()
            elif self._in_flight is not None:  # already failing: still journal what landed
                try:
                    self.drain()
                except Exception:  # noqa: BLE001 - the first error is the one raised
                    pass
        finally:
            self._pool.shutdown(wait=True)


class InFlight(Generic[T, R]):
    """Run ``send(batch)`` on threads, up to ``most`` batches at once; ``collect(batch,
    result)`` runs on the CALLING thread, in the order the batches were submitted, when
    :meth:`collect_finished`, :meth:`submit` (at most ``backlog`` uncollected: it waits
    for the oldest first) or :meth:`drain` finds them done. ``collect`` gets the batch, and
    ``result`` raises what ``send`` raised (a callable, so the batch is always collected,
    failed or not). :class:`WriteBehind` keeps one batch in flight within a cycle; this
    keeps several across calls (the subscriber's batches, each written while the next is
    decided).

    ``backlog`` (at least ``most``; default ``most``): how many batches may be submitted
    and not yet collected. Above ``most``, a slow send no longer holds up the ones
    behind it: they are sent on the other threads meanwhile and wait only to be collected
    in order (a write that took 12 s under a real org's tail used to stop every batch
    submitted after it for as long)."""

    def __init__(
        self,
        send: Callable[[T], R],
        collect: Callable[[T, Callable[[], R]], None],
        most: int,
        name: str = "in-flight",
        backlog: int | None = None,
    ) -> None:
        if most < 1:
            raise ValueError(f"most must be at least 1, got {most}")
        self._send, self._collect, self.most = send, collect, most
        self.backlog = max(backlog or most, most)
        self._pool = ThreadPoolExecutor(max_workers=most, thread_name_prefix=name)
        self._queue: deque[tuple[T, Future[R]]] = deque()

    def __len__(self) -> int:
        return len(self._queue)

    def submit(self, batch: T) -> None:
        self.collect_finished()
        while len(self._queue) >= self.backlog:
            self._collect_oldest()
        self._queue.append((batch, self._pool.submit(self._send, batch)))

    def collect_finished(self) -> int:
        """Collect the batches done, oldest first, up to the first still running."""
        n = 0
        while self.oldest_done():
            self._collect_oldest()
            n += 1
        return n

    def oldest_done(self) -> bool:
        """Whether the oldest batch in flight is done (a :meth:`collect_finished` would
        collect something)."""
        return bool(self._queue) and self._queue[0][1].done()

    def drain(self) -> None:
        while self._queue:
            self._collect_oldest()

    def close(self) -> None:
        """Drain, then stop the threads."""
        try:
            self.drain()
        finally:
            self._pool.shutdown(wait=True)

    def _collect_oldest(self) -> None:
        batch, future = self._queue.popleft()
        futures_wait([future])
        self._collect(batch, future.result)


class Hush:
    """A short latency-critical step on one thread asks the busy cycle thread to stand
    aside. The step holds it (:meth:`hold`); the cycle thread calls :meth:`pause` between
    units of work (a lead decided, a journal row built) and waits there while it is held.
    The wait is bounded (``max_wait``), so a step that never lets go cannot stall a cycle.
    """

    def __init__(self, max_wait: float = 2.0) -> None:
        self.max_wait = max_wait
        self._quiet = threading.Event()
        self._quiet.set()
        self._lock = threading.Lock()
        self._held = 0

    def hold(self) -> Callable[[], None]:
        """Hold it; returns the release (idempotent: only the first call counts)."""
        with self._lock:
            self._held += 1
            self._quiet.clear()
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if released:
                    return
                released = True
                self._held -= 1
                if not self._held:
                    self._quiet.set()

        return release

    def later(self) -> LateHold:
        """A hold taken later, from a callback (see :class:`LateHold`)."""
        return LateHold(self)

    @property
    def held(self) -> bool:
        return not self._quiet.is_set()

    def pause(self) -> None:
        if not self._quiet.is_set():
            self._quiet.wait(self.max_wait)


class LateHold:
    """A :class:`Hush` hold to be taken at a moment only a callback knows (the owners'
    answer starting to arrive): :meth:`take` holds it once, however often it is called;
    :meth:`release` lets go, and after it :meth:`take` does nothing."""

    def __init__(self, hush: Hush) -> None:
        self._hush = hush
        self._lock = threading.Lock()
        self._release: Callable[[], None] | None = None
        self._over = False

    def take(self) -> None:
        with self._lock:
            if self._release is None and not self._over:
                self._release = self._hush.hold()

    def release(self) -> None:
        with self._lock:
            self._over = True
            release, self._release = self._release, None
        if release is not None:
            release()


def countdown(n: int, then: Callable[[], None]) -> Callable[[], None]:
    """A callable that runs ``then`` on its ``n``-th call (at once when ``n`` <= 0)."""
    lock, left = threading.Lock(), [n]
    if n <= 0:
        then()

    def tick() -> None:
        with lock:
            left[0] -= 1
            done = left[0] == 0
        if done:
            then()

    return tick
