"""Formatting shared by every page (plain text: never HTML, never Markdown).

Times are shown in the viewer's time zone with their clock (24-hour or AM/PM): a
:class:`Viewer` carries both and turns instants (always stored in UTC) into text, into
local wall-clock columns for tables and charts, and into the bounds of the viewer's day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import pandas as pd

BLANK = ""  # what an empty cell shows (never "None" or "nan")
DASH = "–"  # what an empty single figure shows


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA zone name the viewer may pick, sorted (UTC first)."""
    return ("UTC", *sorted(z for z in available_timezones() if "/" in z and z != "UTC"))


def zone(name: str | None, default: str = "UTC") -> ZoneInfo:
    """The zone called ``name``; ``default`` when it is empty or unknown."""
    for candidate in (name, default, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


@dataclass(frozen=True)
class Viewer:
    """How one viewer reads times: their zone and clock."""

    tz: tzinfo = UTC
    clock24: bool = True

    @property
    def zone_name(self) -> str:
        return str(self.tz)

    def local(self, at: datetime) -> datetime:
        """``at`` in the viewer's zone (a naive value is taken as UTC, as the store's are)."""
        return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(self.tz)

    @property
    def clock_format(self) -> str:
        return "%H:%M:%S" if self.clock24 else "%I:%M:%S %p"

    def when(self, at: datetime | None) -> str:
        """Date, time and zone abbreviation: ``2026-12-06 15:43:02 EST``."""
        if at is None:
            return DASH
        local = self.local(at)
        return f"{local.strftime('%Y-%m-%d')} {self.clock(local)} {local.tzname()}"

    def clock(self, at: datetime) -> str:
        """The time of day only (``15:43:02`` or ``3:43:02 PM``)."""
        text = self.local(at).strftime(self.clock_format)
        return text if self.clock24 else text.lstrip("0")

    def today(self, now: datetime) -> date:
        return self.local(now).date()

    def day_start(self, now: datetime) -> datetime:
        """Midnight (in UTC) that began the viewer's day holding ``now``."""
        return self.midnight(self.today(now))

    def midnight(self, day: date) -> datetime:
        """The instant (UTC) the viewer's ``day`` begins."""
        return datetime.combine(day, time.min, self.tz).astimezone(UTC)

    def day_bounds(self, first: date, last: date) -> tuple[datetime, datetime]:
        """[start, end) in UTC of the viewer's days ``first`` to ``last`` (both included)."""
        return self.midnight(first), self.midnight(last + timedelta(days=1))

    def wall_clock(self, column: pd.Series) -> pd.Series:
        """Instants as naive local wall-clock times: tables and charts (Vega reads a naive
        time as it is) then show the viewer's time, not UTC nor the browser's."""
        values = pd.to_datetime(column, utc=True)
        return values.dt.tz_convert(self.tz).dt.tz_localize(None)

    @property
    def table_format(self) -> str:
        """The moment.js format of a ``DatetimeColumn`` for this clock."""
        return "YYYY-MM-DD HH:mm:ss" if self.clock24 else "YYYY-MM-DD h:mm:ss A"

    @property
    def axis_format(self) -> str:
        """The d3 time format of a chart axis for this clock."""
        return "%H:%M" if self.clock24 else "%-I %p"

    def column_title(self, title: str) -> str:
        """A time column's header naming the zone: ``decided (Europe/Berlin)``."""
        return f"{title} ({self.zone_name})"


UTC_VIEWER = Viewer()


def duration(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def when(at: datetime | None, viewer: Viewer = UTC_VIEWER) -> str:
    return viewer.when(at)


def ago(seconds: float | None) -> str:
    """How long ago, never negative: a clock a little ahead of ours reads "just now"."""
    if seconds is None:
        return "never"
    if seconds < 1:
        return "just now"
    return f"{duration(seconds)} ago"


def blank(value: Any) -> Any:
    """A cell's value, or :data:`BLANK` when it is empty (None, NaN, NaT)."""
    if value is None:
        return BLANK
    try:
        return BLANK if pd.isna(value) else value
    except (TypeError, ValueError):  # lists and other containers are never "missing"
        return value


def blanks(frame: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """``frame`` with the empty cells of its text columns blank (numbers and times keep
    their missing values: a data grid draws those as "None" unless given
    ``placeholder=""``)."""
    out = frame.copy()
    for name in columns if columns is not None else list(out.columns):
        if name in out.columns and not (
            pd.api.types.is_numeric_dtype(out[name])
            or pd.api.types.is_datetime64_any_dtype(out[name])
        ):
            out[name] = out[name].map(blank).astype(object)
    return out


_MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()<>#|~:$!&")
_LINE_START = re.compile(r"^([-+=]|\d+\.)")  # a list item or a heading underline


def md(text: object) -> str:
    """``text`` (data: a name, a reason, a lead field) made literal inside Markdown that a
    page writes (headers, captions, alerts): every mark that Markdown, HTML, Streamlit's
    ``:color[...]``/``:emoji:`` directives or its ``$math$`` could read is backslash-escaped
    (a list marker only where it would start a line), and line breaks become spaces."""
    flat = " ".join(str(text).split())
    escaped = "".join(f"\\{c}" if c in _MARKDOWN_SPECIALS else c for c in flat)
    return _LINE_START.sub(lambda m: f"{m.group(1)[:-1]}\\{m.group(1)[-1]}", escaped, count=1)


def sf_lead_url(instance_url: str | None, lead_id: str) -> str | None:
    """Lightning record page of a lead, when the Salesforce instance URL is configured."""
    if not instance_url or not lead_id.isalnum():
        return None
    return f"{instance_url.rstrip('/')}/lightning/r/Lead/{lead_id}/view"
