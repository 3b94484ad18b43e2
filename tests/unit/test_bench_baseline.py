"""``bench routing``'s fairness baseline is nginx's smooth weighted round-robin, kept in
the shipped code (the PyPI ``roundrobin`` package is a dev dependency): it must pick
exactly what ``roundrobin.smooth`` picks."""

from __future__ import annotations

import sys

import pytest
import roundrobin
from hypothesis import given
from hypothesis import strategies as st

from devkit.commands.bench_routing import smooth_round_robin

WEIGHTS = st.lists(
    st.one_of(st.integers(0, 20), st.floats(0, 10, allow_nan=False)), min_size=1, max_size=8
)


@given(weights=WEIGHTS, n=st.integers(1, 200))
def test_the_baseline_picks_what_pypi_roundrobin_picks(weights: list[float], n: int) -> None:
    items = [(f"r{i}", w) for i, w in enumerate(weights)]
    ours, theirs = smooth_round_robin(items), roundrobin.smooth(items)

    assert [ours() for _ in range(n)] == [theirs() for _ in range(n)]


def test_the_baseline_runs_without_the_dev_only_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "roundrobin", None)  # any import of it now fails

    from devkit.commands.bench_routing import _baseline_deviation

    assert _baseline_deviation({"a": 2.0, "b": 1.0}, 30) < 1
