"""``bench e2e`` decides at weekday business hours whatever day it runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from devkit.commands.bench_e2e import business_hours_offset

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 12, 6, 5, 1, tzinfo=UTC),  # a Sunday night in New York
        datetime(2026, 12, 8, 18, 0, tzinfo=UTC),  # a Tuesday, 13:00 in New York
        datetime(2026, 3, 7, 12, 0, tzinfo=UTC),  # the Saturday before the DST change
        datetime(2026, 10, 31, 12, 0, tzinfo=UTC),  # the Saturday before it ends
    ],
)
def test_the_clock_starts_on_the_coming_tuesday_at_ten_in_new_york(start: datetime) -> None:
    at = (start + business_hours_offset(start)).astimezone(NY)
    assert at.weekday() == 1 and (at.hour, at.minute) == (10, 0)
    assert timedelta(0) < at - start.astimezone(NY) <= timedelta(days=7, hours=1)
