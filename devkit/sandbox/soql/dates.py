"""Relative date literals (``TODAY``, ``LAST_N_DAYS:n``...) as half-open day ranges.

Each literal is a range that starts at 00:00:00; ``=`` means inside the range, ``<``
before its start and ``>`` after its end ("Date Formats and Date Literals"). Salesforce
computes the boundaries in the querying user's time zone; the sandbox's integration user
is on UTC, so ranges are UTC. Weeks start on Sunday (the en_US locale). There is no
minute/hour literal in the documented list, so ``LAST_N_MINUTES`` and friends are refused.
"""

from __future__ import annotations

from datetime import date, timedelta

PLAIN_LITERALS = frozenset(
    "YESTERDAY TODAY TOMORROW LAST_WEEK THIS_WEEK NEXT_WEEK LAST_MONTH THIS_MONTH NEXT_MONTH "
    "LAST_90_DAYS NEXT_90_DAYS LAST_YEAR THIS_YEAR NEXT_YEAR".split()
)
N_LITERALS = frozenset(
    "LAST_N_DAYS NEXT_N_DAYS N_DAYS_AGO LAST_N_WEEKS NEXT_N_WEEKS N_WEEKS_AGO "
    "LAST_N_MONTHS NEXT_N_MONTHS N_MONTHS_AGO".split()
)


def _week_start(d: date) -> date:
    return d - timedelta(days=(d.weekday() + 1) % 7)  # Sunday


def _month_start(d: date, shift: int = 0) -> date:
    index = d.year * 12 + d.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


def day_range(name: str, n: int | None, today: date) -> tuple[date, date]:
    """The literal as ``[start, end)`` in whole days, relative to ``today``."""
    day = timedelta(days=1)
    week = timedelta(days=7)
    k = n or 0
    simple: dict[str, tuple[date, date]] = {
        "YESTERDAY": (today - day, today),
        "TODAY": (today, today + day),
        "TOMORROW": (today + day, today + 2 * day),
        "LAST_90_DAYS": (today - 90 * day, today + day),
        "NEXT_90_DAYS": (today + day, today + 91 * day),
        # LAST_N_DAYS:n includes today (docs: "starts 00:00:00 of the current day and
        # continues for the last n days").
        "LAST_N_DAYS": (today - k * day, today + day),
        "NEXT_N_DAYS": (today + day, today + (k + 1) * day),
        "N_DAYS_AGO": (today - k * day, today - (k - 1) * day),
    }
    if name in simple:
        return simple[name]
    ws = _week_start(today)
    weeks = {
        "LAST_WEEK": (ws - week, ws),
        "THIS_WEEK": (ws, ws + week),
        "NEXT_WEEK": (ws + week, ws + 2 * week),
        "LAST_N_WEEKS": (ws - k * week, ws),
        "NEXT_N_WEEKS": (ws + week, ws + (k + 1) * week),
        "N_WEEKS_AGO": (ws - k * week, ws - (k - 1) * week),
    }
    if name in weeks:
        return weeks[name]
    months = {
        "LAST_MONTH": (-1, 0),
        "THIS_MONTH": (0, 1),
        "NEXT_MONTH": (1, 2),
        "LAST_N_MONTHS": (-k, 0),
        "NEXT_N_MONTHS": (1, k + 1),
        "N_MONTHS_AGO": (-k, -k + 1),
        "LAST_YEAR": (-12 - today.month + 1, -today.month + 1),
        "THIS_YEAR": (-today.month + 1, 13 - today.month),
        "NEXT_YEAR": (13 - today.month, 25 - today.month),
    }
    a, b = months[name]
    return _month_start(today, a), _month_start(today, b)
