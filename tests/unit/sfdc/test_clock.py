"""Salesforce's clock from below, from the Date headers of its answers."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.sfdc.clock import ServerClock

EPOCH = datetime(2026, 11, 23, 10, 0, tzinfo=UTC).timestamp()


def date_header(server_seconds: float) -> str:
    """What Salesforce stamps on an answer made at ``server_seconds``: whole seconds."""
    return format_datetime(datetime.fromtimestamp(math.floor(server_seconds), UTC), usegmt=True)


def test_no_answer_no_bound() -> None:
    clock = ServerClock()
    assert clock.lower(5.0) is None
    clock.observe(None, 5.0)
    clock.observe("not a date", 5.0)
    assert clock.lower(5.0) is None


def test_one_answer_bounds_the_clock_by_its_second() -> None:
    """Stamped 10:00:07 and received at 100.0 on our clock: at 100.0 Salesforce's clock
    read at least 10:00:07 (it stamped before we received), and 0.5 s later at least
    10:00:07.5 (less the drift allowance)."""
    clock = ServerClock(drift=0.0)
    clock.observe("Mon, 23 Nov 2026 10:00:07 GMT", 100.0)
    assert clock.lower(100.0) == datetime(2026, 11, 23, 10, 0, 7, tzinfo=UTC)
    assert clock.lower(100.5) == datetime(2026, 11, 23, 10, 0, 7, 500_000, tzinfo=UTC)
    assert clock.lower(99.0) == datetime(2026, 11, 23, 10, 0, 6, tzinfo=UTC)


def test_a_better_answer_replaces_a_worse_one_and_a_worse_one_is_ignored() -> None:
    clock = ServerClock(drift=0.0)
    clock.observe("Mon, 23 Nov 2026 10:00:07 GMT", 100.0)
    clock.observe("Mon, 23 Nov 2026 10:00:08 GMT", 100.2)  # the second turned 0.2 s later
    assert clock.lower(100.2) == datetime(2026, 11, 23, 10, 0, 8, tzinfo=UTC)
    clock.observe("Mon, 23 Nov 2026 10:00:08 GMT", 100.9)  # proves less: ignored
    assert clock.lower(100.2) == datetime(2026, 11, 23, 10, 0, 8, tzinfo=UTC)


def test_the_bound_loosens_by_the_drift_allowance_with_age() -> None:
    clock = ServerClock(drift=1e-4)
    clock.observe("Mon, 23 Nov 2026 10:00:07 GMT", 0.0)
    bound = clock.lower(1000.0)
    assert bound is not None
    assert bound.timestamp() == pytest.approx(EPOCH + 7 + 1000 - 0.1)  # 100 ppm of 1,000 s


@settings(max_examples=300, deadline=None)
@given(
    offset=st.floats(-1e6, 1e6, allow_nan=False),
    exchanges=st.lists(
        st.tuples(
            st.floats(0, 3600, allow_nan=False),  # when the request left (our clock)
            st.floats(0.001, 0.5, allow_nan=False),  # how long until its answer came
            st.floats(0, 1, allow_nan=False),  # when, in that time, Salesforce stamped it
        ),
        min_size=1,
        max_size=40,
    ),
    at=st.floats(0, 4000, allow_nan=False),
)
def test_the_bound_never_runs_ahead_of_salesforces_clock(
    offset: float, exchanges: list[tuple[float, float, float]], at: float
) -> None:
    """Whatever the true offset, round trips and moments of stamping, the bound is never
    later than Salesforce's true clock (clocks running at one rate)."""
    clock = ServerClock()
    for sent, trip, share in sorted(exchanges):
        stamped = sent + trip * share  # our clock's reading when Salesforce stamped
        clock.observe(date_header(EPOCH + offset + stamped), sent + trip)
    bound = clock.lower(at)
    assert bound is not None
    assert bound.timestamp() <= EPOCH + offset + at + 1e-6


def test_answers_at_every_phase_of_the_second_bound_it_within_a_round_trip() -> None:
    """A second's worth of answers 10 ms apart, each 20 ms there and back: the bound
    ends within a round trip of the truth (one answer alone: within a second)."""
    offset, trip = 1234.567, 0.02
    clock = ServerClock()
    for i in range(100):
        sent = i * 0.01
        clock.observe(date_header(EPOCH + offset + sent + trip / 2), sent + trip)
    bound = clock.lower(2.0)
    assert bound is not None
    truth = EPOCH + offset + 2.0
    assert truth - trip - 1e-3 <= bound.timestamp() <= truth
