"""The worker's heap discipline: survivors of a busy cycle frozen, a full collection of
everything (frozen included) every ``full_every`` seconds so no dropped cycle waits."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from worker.runtime.heap import PAGES_PER_COLLECTION, YOUNG_THRESHOLD, Heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    gc.collect()


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_start_raises_the_young_threshold_and_freezes_what_is_alive() -> None:
    heap = Heap(clock=Clock())
    keep = [Node() for _ in range(100)]
    heap.start()
    assert gc.get_threshold() == YOUNG_THRESHOLD
    assert gc.get_freeze_count() >= len(keep)


def test_a_busy_cycle_freezes_its_survivors_an_idle_one_does_not() -> None:
    clock = Clock()
    heap = Heap(full_every=900, clock=clock)
    heap.settle(busy=True)  # the first settle is a full one
    frozen = gc.get_freeze_count()
    survivors = [Node() for _ in range(500)]
    clock.t = 10
    heap.settle(busy=False)
    assert gc.get_freeze_count() == frozen  # idle: nothing collected, nothing frozen
    heap.settle(busy=True)
    assert gc.get_freeze_count() >= frozen + len(survivors)


def test_a_cycle_dropped_after_its_freeze_is_freed_at_the_next_full_collection() -> None:
    clock = Clock()
    heap = Heap(full_every=900, clock=clock)
    node = Node()
    ref = weakref.ref(node)
    heap.settle(busy=True)  # frozen with the rest
    del node
    clock.t = 100
    heap.settle(busy=True)
    assert ref() is not None  # frozen: the collector does not look at it
    clock.t = 901
    heap.settle(busy=False)  # full_every passed: unfrozen and collected
    assert ref() is None


def test_the_collector_stands_down_through_a_cycles_pages_and_comes_back() -> None:
    heap = Heap(clock=Clock())
    assert gc.isenabled()
    with heap.pages():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), heap.pages():
        raise RuntimeError("a cycle that failed")
    assert gc.isenabled()
    gc.disable()  # someone else had it off: left off
    try:
        with heap.pages():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_cyclic_garbage_of_a_long_cycle_is_collected_every_few_pages() -> None:
    heap = Heap(clock=Clock())
    with heap.pages() as page_done:
        node = Node()
        ref = weakref.ref(node)
        del node
        for _ in range(PAGES_PER_COLLECTION - 1):
            page_done()
        assert ref() is not None  # the collector is off: the cycle waits
        page_done()
        assert ref() is None
