"""Working hours in the rep's own time zone (across DST), holidays, and SLA due times."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from worker.routing import DateRange, Rep, SlaPolicy, Target, TimeBlock, is_touched, sla_due_at
from worker.routing.availability import rep_clock
from worker.routing.sla import escalation_target, previous_owners, sla_next_step

NINE_TO_FIVE = tuple((TimeBlock(9 * 60, 17 * 60),) if d < 5 else () for d in range(7))
SPLIT = tuple(
    (TimeBlock(9 * 60, 12 * 60), TimeBlock(13 * 60, 17 * 60)) if d < 5 else () for d in range(7)
)
BERLIN = Rep("b@x.io", "Bea", "Europe/Berlin", working_hours=NINE_TO_FIVE)


@pytest.mark.parametrize(
    ("utc", "available"),
    [
        # winter (CET = UTC+1): 08:30 UTC is 09:30 in Berlin
        (datetime(2026, 3, 27, 8, 30, tzinfo=UTC), True),
        (datetime(2026, 3, 27, 7, 30, tzinfo=UTC), False),
        # DST starts 29 March 2026; Monday 30 March (CEST = UTC+2): 07:30 UTC is 09:30
        (datetime(2026, 3, 30, 7, 30, tzinfo=UTC), True),
        (datetime(2026, 3, 30, 15, 30, tzinfo=UTC), False),  # 17:30 Berlin
        (datetime(2026, 3, 27, 15, 30, tzinfo=UTC), True),  # 16:30 Berlin, winter
    ],
)
def test_working_hours_are_evaluated_in_the_reps_time_zone_across_dst(
    utc: datetime, available: bool
) -> None:
    assert (rep_clock(BERLIN, utc).unavailable is None) is available


def test_lunch_break_between_two_blocks_is_unavailable() -> None:
    rep = Rep("s@x.io", "Sam", "America/New_York", working_hours=SPLIT)
    at_lunch = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)  # 12:30 New York
    clock = rep_clock(rep, at_lunch)
    assert clock.unavailable == "outside working hours (Mon 12:30 America/New_York)"
    assert not clock.away  # the normal schedule earns no catch-up


def test_public_holiday_in_the_reps_country_makes_them_unavailable() -> None:
    rep = Rep("d@x.io", "Dora", "Europe/Berlin", holidays="DE")
    clock = rep_clock(rep, datetime(2026, 12, 25, 10, 0, tzinfo=UTC))
    assert clock.unavailable is not None and clock.unavailable.startswith("public holiday")


def test_out_of_office_uses_the_reps_local_date() -> None:
    rep = Rep(
        "t@x.io",
        "Taro",
        "Asia/Tokyo",
        out_of_office=(DateRange(date(2026, 11, 24), date(2026, 11, 24)),),
    )
    # 23 Nov 16:00 UTC is already 24 Nov 01:00 in Tokyo
    assert (
        rep_clock(rep, datetime(2026, 11, 23, 16, 0, tzinfo=UTC)).unavailable
        == "out of office until 24 Nov"
    )
    assert rep_clock(rep, datetime(2026, 11, 23, 14, 0, tzinfo=UTC)).unavailable is None


def test_cap_buckets_are_the_reps_local_day_and_hour() -> None:
    rep = Rep("t@x.io", "Taro", "Asia/Tokyo")
    clock = rep_clock(rep, datetime(2026, 11, 23, 16, 5, tzinfo=UTC))
    assert (clock.day_key, clock.hour_key) == ("2026-11-24", "2026-11-24T01")


def test_sla_due_counts_wall_clock_minutes_by_default() -> None:
    at = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
    assert sla_due_at(at, SlaPolicy(minutes=10), BERLIN) == datetime(
        2026, 11, 23, 22, 10, tzinfo=UTC
    )


def test_sla_due_skips_the_weekend_when_counting_working_hours_only() -> None:
    friday_1655 = datetime(2026, 11, 27, 15, 55, tzinfo=UTC)  # 16:55 Berlin
    due = sla_due_at(friday_1655, SlaPolicy(minutes=10, working_hours_only=True), BERLIN)
    assert due == datetime(2026, 11, 30, 8, 5, tzinfo=UTC)  # Monday 09:05 Berlin


def test_sla_due_skips_the_lunch_break_and_crosses_dst() -> None:
    rep = Rep("s@x.io", "Sam", "Europe/Berlin", working_hours=SPLIT)
    sat_before_dst = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    due = sla_due_at(sat_before_dst, SlaPolicy(minutes=200, working_hours_only=True), rep)
    # Monday 30 March (CEST): 09:00-12:00 (180 min) then 13:00-13:20
    assert due == datetime(2026, 3, 30, 11, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "activity", "touched"),
    [
        ("Open - Not Contacted", False, False),
        ("Working - Contacted", False, True),
        ("Open - Not Contacted", True, True),
    ],
)
def test_is_touched(status: str, activity: bool, touched: bool) -> None:
    assert is_touched(status, SlaPolicy(minutes=5), activity_since_assignment=activity) is touched


def test_sla_reassigns_until_max_hops_then_escalates() -> None:
    policy = SlaPolicy(minutes=5, max_hops=2, escalate_to=Target("rep", "boss@x.io"))
    assert [sla_next_step(policy, h) for h in range(4)] == [
        "reassign",
        "reassign",
        "escalate",
        "escalate",
    ]
    assert escalation_target(policy) == Target("rep", "boss@x.io")
    assert previous_owners(["a", "b"], "c") == frozenset({"a", "b", "c"})
