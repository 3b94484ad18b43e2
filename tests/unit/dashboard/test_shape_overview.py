"""Overview page shaping: workers' table and warnings, API allocation, held reasons."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard import fmt
from dashboard.shape import overview_rows as shape
from worker.store.queries.overview import Overview, Timing

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def overview(**changes: object) -> Overview:
    values: dict[str, object] = {
        "now": NOW,
        "routed_today": 0,
        "routed_7d": 0,
        "held_24h": 0,
        "held_reasons": (),
        "sla_reassigned_7d": 0,
        "escalated_7d": 0,
        "failed_24h": 0,
        "time_to_assign": Timing(None, None, 0),
        "time_to_first_touch": Timing(None, None, 0),
        "api_used": None,
        "api_max": None,
        "workers": (),
        "days": ("2026-11-22", "2026-11-23"),
    }
    values.update(changes)
    return Overview(**values)  # type: ignore[arg-type]


def test_no_active_worker_is_one_warning() -> None:
    workers = [{"worker_id": "w1", "role": "standby", "seconds_since_seen": 900.0}]
    assert shape.worker_warnings(workers) == ["No worker is active right now."]


def test_only_an_active_worker_silent_for_over_two_minutes_is_warned_about() -> None:
    workers = [
        {"worker_id": "quiet", "role": "active", "seconds_since_seen": 121.0},
        {"worker_id": "edge", "role": "active", "seconds_since_seen": 120.0},
        {"worker_id": "fresh", "role": "active", "seconds_since_seen": 3.0},
        {"worker_id": "new", "role": "active", "seconds_since_seen": None},
        {"worker_id": "spare", "role": "standby", "seconds_since_seen": 5000.0},
    ]
    assert shape.worker_warnings(workers) == ["Active worker quiet has been silent for 2.0 min."]


def test_workers_table_says_when_each_was_seen_in_words_and_keeps_known_columns() -> None:
    workers = [
        {"worker_id": "w1", "role": "active", "seconds_since_seen": 4.0, "pid": 7},
        {"worker_id": "w2", "role": "standby", "seconds_since_seen": 600.0, "pid": 8},
    ]
    table = shape.workers_table(workers)
    assert list(table.columns) == ["worker_id", "role", "last seen"]
    assert table["last seen"].tolist() == ["4.0 s ago", "10.0 min ago"]


def test_api_allocation_is_shown_only_once_usage_and_a_limit_are_known() -> None:
    assert shape.api_allocation(overview()) is None
    assert shape.api_allocation(overview(api_used=10, api_max=0)) is None
    used = shape.api_allocation(overview(api_used=1_500, api_max=100_000))
    assert used == ("1,500 / 100,000", "1.5% of the allocation")


def test_held_reasons_and_caption() -> None:
    ov = overview(held_reasons=(("nobody eligible", 3), ("outside hours", 1)))
    assert shape.held_reasons(ov).to_dict("records") == [
        {"reason": "nobody eligible", "leads": 3},
        {"reason": "outside hours", "leads": 1},
    ]
    assert shape.figures_caption(ov) == (
        "Figures up to 2026-11-23 15:00:00 UTC; today and the sparklines' 2 days are days in UTC."
    )
    berlin = fmt.Viewer(ZoneInfo("Europe/Berlin"), clock24=False)
    assert shape.figures_caption(ov, berlin) == (
        "Figures up to 2026-11-23 4:00:00 PM CET; today and the sparklines' 2 days are "
        "days in Europe/Berlin."
    )


def test_a_worker_never_seen_is_said_to_be_so() -> None:
    workers = [
        {"worker_id": "w1", "role": "active", "seconds_since_seen": 4.0},
        {"worker_id": "w2", "role": "standby", "seconds_since_seen": None},
    ]
    assert shape.workers_table(workers)["last seen"].tolist() == ["4.0 s ago", "never"]


def test_a_worker_whose_clock_runs_ahead_was_seen_just_now_never_in_the_future() -> None:
    workers = [
        {"worker_id": "w1", "role": "active", "seconds_since_seen": -35.0, "last_error": None}
    ]
    table = shape.workers_table(workers)
    assert table["last seen"].tolist() == ["just now"]
    assert table["last_error"].tolist() == [""]  # blank, never "None"


def test_worker_last_cycle_and_api_axis_are_in_the_viewers_wall_clock() -> None:
    tokyo = fmt.Viewer(ZoneInfo("Asia/Tokyo"))
    at = datetime(2026, 11, 23, 15, 43, tzinfo=UTC)
    table = shape.workers_table(
        [{"worker_id": "w", "seconds_since_seen": 1.0, "last_cycle_at": at}], tokyo
    )
    assert table["last_cycle_at"].tolist() == [pd.Timestamp("2026-11-24 00:43")]
    assert shape.api_usage([(at, 5, 10)], tokyo)["at"].tolist() == [
        pd.Timestamp("2026-11-24 00:43")
    ]
