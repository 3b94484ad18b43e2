"""The intake cycle's read-ahead and write-behind helpers (:mod:`worker.runtime.pipeline`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from worker.runtime.pipeline import Hush, InFlight, ReadAhead, WriteBehind, countdown


def test_read_ahead_hands_items_over_in_order_each_prepared_on_its_own_thread() -> None:
    prepared: list[tuple[int, str]] = []

    def prepare(item: int) -> None:
        prepared.append((item, threading.current_thread().name))

    with ReadAhead(range(5), prepare, name="reader") as items:
        assert list(items) == [0, 1, 2, 3, 4]
    assert prepared == [(i, "reader") for i in range(5)]


def test_read_ahead_stays_at_most_one_item_ahead() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for i in range(10):
            produced.append(i)
            yield i

    with ReadAhead(source()) as items:
        first = next(items)
        time.sleep(0.2)  # the reader has all the time it wants to run ahead
        # item 0 handed over, item 1 waiting in the queue, item 2 read and blocked on it
        assert first == 0 and len(produced) <= 3


def test_an_error_while_reading_reaches_the_consumer_after_the_items_before_it() -> None:
    def source() -> Iterator[int]:
        yield 1
        raise ConnectionError("page 2 failed")

    got = []
    with pytest.raises(ConnectionError, match="page 2"):
        with ReadAhead(source()) as items:
            for item in items:
                got.append(item)
    assert got == [1]


def test_leaving_early_stops_the_reader_instead_of_hanging() -> None:
    def endless() -> Iterator[int]:
        i = 0
        while True:
            yield i
            i += 1

    started = time.monotonic()
    with pytest.raises(RuntimeError):
        with ReadAhead(endless()) as items:
            next(items)
            raise RuntimeError("the cycle failed")
    assert time.monotonic() - started < 5


def test_write_behind_keeps_one_batch_in_flight_and_collects_on_the_calling_thread() -> None:
    in_flight = 0
    most = 0
    lock = threading.Lock()
    collected: list[tuple[str, str]] = []

    def send(batch: str) -> str:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.02)
        with lock:
            in_flight -= 1
        return batch.upper()

    def collect(result: str) -> None:
        collected.append((result, threading.current_thread().name))

    with WriteBehind(send, collect) as writes:
        for batch in ("a", "b", "c"):
            writes.submit(batch)
        assert [r for r, _ in collected] == ["A", "B"]  # "c" still in flight
    me = threading.current_thread().name
    assert collected == [("A", me), ("B", me), ("C", me)] and most == 1


def test_a_failed_send_is_raised_to_the_caller() -> None:
    def send(batch: int) -> int:
        raise TimeoutError(f"batch {batch}")

    with pytest.raises(TimeoutError, match="batch 1"):
        with WriteBehind(send, lambda _r: None) as writes:
            writes.submit(1)


def test_a_failing_cycle_still_collects_the_write_in_flight() -> None:
    """What was sent is journaled even when the cycle fails meanwhile: the cycle's own
    error is the one raised."""
    collected: list[int] = []
    with pytest.raises(KeyError):
        with WriteBehind(lambda b: b * 10, collected.append) as writes:
            writes.submit(4)
            raise KeyError("decide failed")
    assert collected == [40]


def test_the_cycle_thread_waits_at_a_pause_while_a_write_holds_the_hush() -> None:
    hush = Hush()
    hush.pause()  # not held: returns at once
    release = hush.hold()
    second = hush.hold()  # two writers at once: quiet only when both let go
    passed = threading.Event()

    def cycle() -> None:
        hush.pause()
        passed.set()

    thread = threading.Thread(target=cycle)
    thread.start()
    assert not passed.wait(0.1)
    release()
    release()  # idempotent: the second call must not release the other writer's hold
    assert not passed.wait(0.1) and hush.held
    second()
    assert passed.wait(2.0)
    thread.join()
    assert not hush.held


def test_a_hold_never_let_go_stalls_the_cycle_thread_only_for_max_wait() -> None:
    hush = Hush(max_wait=0.05)
    hush.hold()
    started = time.monotonic()
    hush.pause()
    assert 0.04 <= time.monotonic() - started < 1.0


def test_countdown_runs_once_on_the_nth_call_or_at_once_for_nothing() -> None:
    calls: list[str] = []
    tick = countdown(3, lambda: calls.append("done"))
    tick()
    tick()
    assert calls == []
    tick()
    assert calls == ["done"]
    countdown(0, lambda: calls.append("empty"))
    assert calls == ["done", "empty"]


def test_a_late_hold_is_taken_once_however_often_asked_and_never_after_its_release() -> None:
    hush = Hush()
    hold = hush.later()
    assert not hush.held  # nothing until the answer arrives
    hold.take()
    hold.take()  # the hook and the fallback both ask: one hold
    assert hush.held
    hold.release()
    assert not hush.held
    hold.take()  # an answer arriving after the burst was sent: too late to matter
    assert not hush.held
    hold.release()  # idempotent


def test_in_flight_sends_side_by_side_and_collects_in_order_on_the_calling_thread() -> None:
    gates = {n: threading.Event() for n in range(3)}
    running: list[int] = []
    collected: list[tuple[int, int, str]] = []

    def send(n: int) -> int:
        running.append(n)
        assert gates[n].wait(5)
        return n * 10

    flight: InFlight[int, int] = InFlight(
        send, lambda n, result: collected.append((n, result(), threading.current_thread().name)), 2
    )
    flight.submit(0)
    flight.submit(1)
    deadline = time.monotonic() + 5
    while len(running) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(running) == [0, 1]  # both at once
    gates[1].set()
    time.sleep(0.05)
    assert flight.collect_finished() == 0  # the second is done, but the first is not
    gates[0].set()
    opener = threading.Timer(0.1, gates[2].set)
    opener.start()
    flight.submit(2)  # two in flight: the oldest is collected first
    assert [c[:2] for c in collected][:1] == [(0, 0)]
    assert len(flight) <= 2
    flight.close()
    assert [c[:2] for c in collected] == [(0, 0), (1, 10), (2, 20)]
    assert {c[2] for c in collected} == {threading.current_thread().name}
    assert len(flight) == 0


def test_a_slow_send_holds_back_only_its_own_batch_with_a_backlog() -> None:
    """Two threads, a backlog of five: while the first send hangs, the next four are
    submitted without waiting and sent on the other thread; they are collected after it,
    in order, once it ends."""
    slow = threading.Event()
    sent: list[int] = []
    collected: list[int] = []

    def send(n: int) -> int:
        if n == 0:
            assert slow.wait(5)
        sent.append(n)
        return n

    flight: InFlight[int, int] = InFlight(send, lambda n, r: collected.append(r()), 2, backlog=5)
    started = time.monotonic()
    for n in range(5):
        flight.submit(n)  # never waits: five uncollected at most
    assert time.monotonic() - started < 1
    deadline = time.monotonic() + 5
    while len(sent) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sent == [1, 2, 3, 4]  # sent while the first hangs
    assert flight.collect_finished() == 0 and collected == []  # in order: after the first
    slow.set()
    flight.close()
    assert collected == [0, 1, 2, 3, 4]


def test_without_a_backlog_a_slow_send_holds_up_the_next_submit() -> None:
    slow = threading.Event()
    threading.Timer(0.3, slow.set).start()
    flight: InFlight[int, int] = InFlight(lambda n: slow.wait(5) and n, lambda n, r: r(), 1)
    flight.submit(0)
    started = time.monotonic()
    flight.submit(1)  # one in flight: waits for the first to be collected
    assert time.monotonic() - started >= 0.2
    flight.close()


def test_in_flight_hands_a_failed_send_to_collect_with_its_batch() -> None:
    seen: list[tuple[str, str]] = []

    def send(batch: str) -> str:
        if batch == "bad":
            raise RuntimeError("lost")
        return batch.upper()

    def collect(batch: str, result: object) -> None:
        try:
            seen.append((batch, result()))  # type: ignore[operator]
        except RuntimeError as exc:
            seen.append((batch, f"failed: {exc}"))

    flight: InFlight[str, str] = InFlight(send, collect, 3)
    for batch in ("a", "bad", "c"):
        flight.submit(batch)
    flight.drain()
    assert seen == [("a", "A"), ("bad", "failed: lost"), ("c", "C")]
    flight.close()
    with pytest.raises(ValueError, match="at least 1"):
        InFlight(send, collect, 0)
