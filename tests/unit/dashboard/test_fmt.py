"""The one formatting module: times in the viewer's zone and clock, blanks, Markdown."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from dashboard import fmt

AT = datetime(2026, 12, 6, 20, 43, 2, tzinfo=UTC)


def test_times_read_in_the_viewers_zone_and_clock() -> None:
    assert fmt.when(AT) == "2026-12-06 20:43:02 UTC"
    assert fmt.Viewer(ZoneInfo("America/New_York")).when(AT) == "2026-12-06 15:43:02 EST"
    ampm = fmt.Viewer(ZoneInfo("America/New_York"), clock24=False)
    assert ampm.when(AT) == "2026-12-06 3:43:02 PM EST"
    assert fmt.Viewer(ZoneInfo("Asia/Tokyo")).when(AT) == "2026-12-07 05:43:02 JST"
    assert fmt.when(None) == "–"


def test_a_naive_time_is_taken_as_utc_as_the_store_returns_it() -> None:
    berlin = fmt.Viewer(ZoneInfo("Europe/Berlin"))
    assert berlin.when(AT.replace(tzinfo=None)) == "2026-12-06 21:43:02 CET"


def test_the_viewers_day_starts_at_their_midnight_across_daylight_saving() -> None:
    ny = fmt.Viewer(ZoneInfo("America/New_York"))
    assert ny.today(datetime(2026, 12, 7, 3, 0, tzinfo=UTC)) == date(2026, 12, 6)
    assert ny.day_start(AT) == datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
    start, end = ny.day_bounds(date(2026, 3, 7), date(2026, 3, 8))  # clocks go forward Mar 8
    assert (start, end) == (
        datetime(2026, 3, 7, 5, 0, tzinfo=UTC),
        datetime(2026, 3, 9, 4, 0, tzinfo=UTC),
    )


def test_wall_clock_columns_show_the_viewers_time_for_charts_and_tables() -> None:
    kolkata = fmt.Viewer(ZoneInfo("Asia/Kolkata"))
    shown = kolkata.wall_clock(pd.Series([AT]))
    assert shown.tolist() == [pd.Timestamp("2026-12-07 02:13:02")]
    assert kolkata.axis_format == "%H:%M" and fmt.Viewer(clock24=False).axis_format == "%-I %p"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "never"), (-35.0, "just now"), (0.2, "just now"), (4.0, "4.0 s ago"),
     (600.0, "10.0 min ago")],
)  # fmt: skip
def test_ago_is_never_negative(seconds: float | None, text: str) -> None:
    assert fmt.ago(seconds) == text


def test_an_unknown_zone_falls_back_to_the_default_then_utc() -> None:
    assert str(fmt.zone("Mars/Olympus", "Europe/Paris")) == "Europe/Paris"
    assert str(fmt.zone(None, "Nowhere/Else")) == "UTC"
    assert fmt.time_zones()[0] == "UTC" and "America/New_York" in fmt.time_zones()


def test_empty_text_cells_are_blank_never_none_or_nan() -> None:
    frame = pd.DataFrame({"name": ["Anna", None, float("nan")], "leads": [1.0, None, 3.0]})
    shown = fmt.blanks(frame)
    assert shown["name"].tolist() == ["Anna", "", ""]
    assert shown["leads"].isna().tolist() == [False, True, False]  # numbers stay numbers


@pytest.mark.parametrize(
    "text", ["**x**", "[a](b)", "<script>alert(1)</script>", ":red[x]", "$x$", "# h", "`c`"]
)
def test_md_makes_data_literal_in_markdown(text: str) -> None:
    escaped = fmt.md(text)
    assert escaped.replace("\\", "") == text
    assert all(escaped[i - 1] == "\\" for i, c in enumerate(escaped) if c in "*[]()<>:$#`" and i)


def test_md_escapes_list_markers_only_at_the_start_and_keeps_words_readable() -> None:
    assert fmt.md("- x") == "\\- x" and fmt.md("12. x") == "12\\. x"
    assert fmt.md("EMEA-AE, v1.2") == "EMEA-AE, v1.2"
    assert fmt.md("two\nlines") == "two lines"
