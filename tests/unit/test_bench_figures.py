"""``bench e2e``'s derived figures: the burst's serial floor, the day's API calls from the
measured windows, and ``--intake subscribe`` refused while the worker cannot subscribe."""

from __future__ import annotations

import pytest

from devkit.commands.bench_e2e import DayCalls, serial_floor
from devkit.sandbox.latency import LatencyProfile


def test_the_serial_floor_is_the_query_pages_and_the_writes_one_after_another_at_p50() -> None:
    real = LatencyProfile.load("real")
    seconds, calls = serial_floor(real, 10_000, 10_000, conditional=True)
    # 5 pages (a query, 4 query_more at 0.30 s) and 400 Composite calls of 25 (0.34 s)
    assert calls == 5 + 400
    assert seconds == pytest.approx(5 * 0.30 + 400 * 0.34)


def test_the_serial_floor_writes_only_the_leads_written_the_last_call_at_its_size() -> None:
    real = LatencyProfile.load("real")
    seconds, calls = serial_floor(real, 2_001, 210, conditional=False)
    # 2 pages; a collections PATCH of 200 (1.50 s) and one of 10: 0.15 + 1.35 * 10 / 200
    assert calls == 2 + 2
    assert seconds == pytest.approx(0.30 + 0.30 + 1.50 + 0.15 + 1.35 * 10 / 200)


def test_nothing_waits_without_a_latency_profile() -> None:
    assert serial_floor(LatencyProfile.none(), 10_000, 9_000, conditional=True) == (0.0, 365)


def test_a_day_is_business_hours_at_the_busy_rate_and_the_rest_at_the_off_hours_rate() -> None:
    day = DayCalls(window_s=60, busy_leads=12, busy_calls=90, idle_busy_calls=30, off_calls=4)
    busy_s = 86_400 * 50 / 168  # mon-fri 08:00-18:00, over a week's days
    assert day.per_day(busy_s) == pytest.approx(90 / 60 * busy_s + 4 / 60 * (86_400 - busy_s))
    assert day.idle_day(busy_s) == pytest.approx(30 / 60 * busy_s + 4 / 60 * (86_400 - busy_s))


def test_a_days_events_are_extrapolated_as_its_calls_are() -> None:
    day = DayCalls(window_s=60, busy_leads=12, busy_calls=90, idle_busy_calls=30, off_calls=4,
                   busy_events=15, idle_busy_events=1, off_events=2)  # fmt: skip
    busy_s = 86_400 * 50 / 168
    assert day.events_per_day(busy_s) == pytest.approx(
        15 / 60 * busy_s + 2 / 60 * (86_400 - busy_s)
    )
    polled = DayCalls(window_s=60, busy_leads=12, busy_calls=90, idle_busy_calls=30, off_calls=4)
    assert polled.events_per_day(busy_s) == 0  # polling is delivered no event
