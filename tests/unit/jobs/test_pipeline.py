"""The intake cycle's read-ahead (:mod:`worker.jobs.pipeline`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from worker.jobs.pipeline import ReadAhead


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
