"""Parsing rep entries (also used for the dashboard's per-rep overrides): e-mail key,
time zone, weight, caps, tags, working hours, holidays, out of office, on/off toggle."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from worker.routing import _libs
from worker.routing.model import Caps, DateRange, Rep, TimeBlock
from worker.routing_config.problems import Collector
from worker.routing_config.yamlsrc import Path

REP_KEYS = (
    "email", "name", "timezone", "weight", "caps", "tags", "working_hours", "holidays",
    "out_of_office", "enabled", "disabled_reason",
)  # fmt: skip
CAP_KEYS = ("per_hour", "per_day", "max_open")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {"weekdays": "mon-fri", "weekend": "sat-sun", "daily": "mon-sun"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BLOCK = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


def parse_timezone(c: Collector, raw: Any, path: Path) -> str:
    name = c.text(raw, path)
    if name is None:
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        c.error(path, f"unknown time zone {name!r} (use an IANA name like Europe/Berlin)")
        return "UTC"
    return name


def parse_caps(c: Collector, raw: Any, path: Path, keys: tuple[str, ...] = CAP_KEYS) -> Caps:
    m = c.mapping(raw, path, keys)
    if not m:
        return Caps()
    values = {k: c.number(m.get(k), (*path, k), minimum=0, integer=True) for k in keys}
    return Caps(**{k: None if v is None else int(v) for k, v in values.items()})


def _days(c: Collector, spec: str, path: Path) -> list[int]:
    spec = _DAY_ALIASES.get(spec.lower(), spec.lower())
    out: list[int] = []
    for part in spec.split(","):
        first, _, last = part.strip().partition("-")
        if first not in DAYS or (last and last not in DAYS):
            c.error(
                path,
                f"unknown day {part.strip()!r} (use mon..sun, mon-fri, weekdays, weekend, daily)",
            )
            return []
        a, b = DAYS.index(first), DAYS.index(last or first)
        out.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return out


def parse_block(c: Collector, raw: Any, path: Path) -> TimeBlock | None:
    if not isinstance(raw, str) or not (m := _BLOCK.match(raw.strip())):
        c.error(path, f'must be a quoted "HH:MM-HH:MM" block, got {raw!r}')
        return None
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or start > 1440 or end > 1440:
        c.error(path, f"not a time of day: {raw!r}")
        return None
    if end <= start:
        c.error(path, f"block ends before it starts: {raw!r} (split blocks that cross midnight)")
        return None
    return TimeBlock(start, end)


def fmt_minutes(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_working_hours(
    c: Collector, raw: Any, path: Path
) -> tuple[tuple[TimeBlock, ...], ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        c.error(path, 'must map days (mon-fri, sat ...) to lists of "HH:MM-HH:MM" blocks')
        return None
    week: list[list[TimeBlock]] = [[] for _ in range(7)]
    for spec, blocks in raw.items():
        days = _days(c, str(spec), (*path, str(spec)))
        items = blocks if isinstance(blocks, list) else [blocks]
        for i, item in enumerate(items):
            block = parse_block(c, item, (*path, str(spec), i))
            for d in days if block else []:
                week[d].append(block)  # type: ignore[arg-type]
    for d, blocks in enumerate(week):
        blocks.sort(key=lambda b: b.start)
        for a, b in zip(blocks, blocks[1:], strict=False):
            if b.start < a.end:
                c.error(
                    path,
                    f"overlapping working hours on {DAYS[d]}: "
                    f"{fmt_minutes(a.start)}-{fmt_minutes(a.end)} and "
                    f"{fmt_minutes(b.start)}-{fmt_minutes(b.end)}",
                )
    if not any(week):
        c.summary(
            path, "no working hours at all: leave working_hours out for an always-available rep"
        )
    return tuple(tuple(b) for b in week)


def _date(c: Collector, raw: Any, path: Path) -> date | None:
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            pass
    c.error(path, f"must be a date YYYY-MM-DD, got {raw!r}")
    return None


def parse_ooo(c: Collector, raw: Any, path: Path) -> tuple[DateRange, ...]:
    out: list[DateRange] = []
    for i, item in enumerate(c.seq(raw, path)):
        m = c.mapping(item, (*path, i), ("from", "to"), required=("from", "to"))
        if not m or m.get("from") is None or m.get("to") is None:
            continue
        start, end = _date(c, m["from"], (*path, i, "from")), _date(c, m["to"], (*path, i, "to"))
        if start and end:
            if end < start:
                c.error((*path, i, "to"), "ends before it starts")
            else:
                out.append(DateRange(start, end))
    return tuple(out)


def parse_tags(c: Collector, raw: Any, path: Path) -> frozenset[str]:
    return frozenset(
        t.lower() for i, x in enumerate(c.seq(raw, path)) if (t := c.text(x, (*path, i)))
    )


def parse_holidays(c: Collector, raw: Any, path: Path) -> str | None:
    code = c.text(raw, path)
    if code and not _libs.is_known_holiday_calendar(code):
        c.error(path, f"unknown holiday calendar {code!r} (a country code like DE or US-CA)")
        return None
    return code.upper() if code else None


def parse_rep(c: Collector, raw: Any, path: Path) -> Rep | None:
    m = c.mapping(raw, path, REP_KEYS, required=("email",))
    if m is None:
        return None
    email = c.text(m.get("email"), (*path, "email"), required=True)
    if email is None:
        return None
    if not _EMAIL.match(email):
        c.error((*path, "email"), f"not an e-mail address: {email!r}")
    weight = c.number(m.get("weight"), (*path, "weight"), positive=True)
    enabled = c.flag(m.get("enabled"), (*path, "enabled"), True)
    return Rep(
        key=email.lower(),
        name=c.text(m.get("name"), (*path, "name")) or email.split("@")[0],
        timezone=parse_timezone(c, m.get("timezone"), (*path, "timezone")),
        weight=1.0 if weight is None else weight,
        caps=parse_caps(c, m.get("caps"), (*path, "caps")),
        tags=parse_tags(c, m.get("tags"), (*path, "tags")),
        working_hours=parse_working_hours(c, m.get("working_hours"), (*path, "working_hours")),
        holidays=parse_holidays(c, m.get("holidays"), (*path, "holidays")),
        out_of_office=parse_ooo(c, m.get("out_of_office"), (*path, "out_of_office")),
        enabled=enabled,
        disabled_reason=c.text(m.get("disabled_reason"), (*path, "disabled_reason")),
    )
