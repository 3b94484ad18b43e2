"""The subscribed speed-to-lead floor the benchmark prints beside its measured figures
(:mod:`devkit.commands.owner_floor`)."""

from __future__ import annotations

import pytest

from devkit.commands.owner_floor import subscribed_owner_floor


def test_with_no_latency_only_the_window_and_the_creation_second_are_left() -> None:
    # every call answers at once: a lead waits for the window, and for its creation
    # second to be over plus the skew allowed (at most 1.11 s)
    p50, p95 = subscribed_owner_floor("none", rate=2.0, window=0.2, lookup=True)
    assert 0.2 <= p50 <= p95 <= 1.11


def test_each_unavoidable_call_under_real_latency_raises_the_floor() -> None:
    none = subscribed_owner_floor("none", rate=2.0, window=0.2, lookup=True)
    without = subscribed_owner_floor("real", rate=2.0, window=0.2, lookup=False)
    looked_up = subscribed_owner_floor("real", rate=2.0, window=0.2, lookup=True)
    assert none[1] < without[1] < looked_up[1]
    assert none[0] < without[0] < looked_up[0]


def test_the_same_seed_gives_the_same_floor() -> None:
    first = subscribed_owner_floor("real", rate=2.0, window=0.2, lookup=True, seed=3)
    assert subscribed_owner_floor("real", rate=2.0, window=0.2, lookup=True, seed=3) == first


def test_a_rate_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        subscribed_owner_floor("real", rate=0.0, window=0.2, lookup=True)
