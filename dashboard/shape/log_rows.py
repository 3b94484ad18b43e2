"""Distribution log page: the filter the pickers stand for, paging, the rows shown, the
labels of the trace picker and a decision's trace as numbered lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

from dashboard import fmt
from dashboard.trace import trace_lines
from worker.store.queries.journal_log import LogFilter

HIDDEN_COLUMNS = ("kind", "status", "hop")  # kept for the export, not worth a column
# What a reader scans for first: when, what happened, to whom and why; the lead's details
# and the rule after (the table scrolls sideways at 1280 px from ``lead_company`` on).
COLUMN_ORDER = (
    "decided_at",
    "outcome",
    "owner_name",
    "reason",
    "lead_company",
    "lead_name",
    "lead_id",
    "pool",
    "rule",
    "lead_country",
)
TEXT_COLUMNS = ("outcome", "owner_name", "reason", "lead_company", "lead_name", "lead_id",
                "pool", "rule", "lead_country")  # fmt: skip
HISTORY_COLUMNS = ("decided_at", "outcome", "owner_name", "pool", "reason")


def period_bounds(
    value: object, viewer: fmt.Viewer = fmt.UTC_VIEWER
) -> tuple[datetime | None, datetime | None]:
    """A date picker's value as [start, end) in UTC, the days being the viewer's; one day
    picked is that day, nothing picked is no bound."""
    if isinstance(value, tuple | list) and value:
        end_day: date = value[1] if len(value) > 1 else value[0]
        return viewer.day_bounds(value[0], end_day)
    return None, None


def log_filter(
    period: object,
    owners: Sequence[str],
    pools: Sequence[str],
    rules: Sequence[str],
    outcomes: Sequence[str],
    search: str,
    viewer: fmt.Viewer = fmt.UTC_VIEWER,
) -> LogFilter:
    start, end = period_bounds(period, viewer)
    return LogFilter(
        start, end, tuple(owners), tuple(pools), tuple(rules), tuple(outcomes), search.strip()
    )


def page_count(total: int, size: int) -> int:
    """Pages of ``size`` rows for ``total`` decisions; an empty log still has one."""
    return max(1, -(-total // size))


def shown_rows(rows: pd.DataFrame, viewer: fmt.Viewer = fmt.UTC_VIEWER) -> pd.DataFrame:
    """The rows as the table shows them: internal columns left out, the decision time in
    the viewer's wall clock, empty text cells blank."""
    shown = rows.drop(columns=list(HIDDEN_COLUMNS), errors="ignore")
    if "decided_at" in shown.columns and not shown.empty:
        shown = shown.assign(decided_at=viewer.wall_clock(shown["decided_at"]))
    return fmt.blanks(shown, [c for c in TEXT_COLUMNS if c in shown.columns])


def _given(value: Any) -> Any:
    """A cell's value, or None when it is empty (pandas holds a missing text as NaN,
    which is truthy and would be shown as "nan")."""
    return None if value is None or pd.isna(value) else value


def trace_choices(rows: pd.DataFrame, viewer: fmt.Viewer = fmt.UTC_VIEWER) -> dict[int, str]:
    """Decision id -> the label the trace picker shows for it (no company: a dash; no
    owner: the outcome)."""
    return {
        int(r.id): f"{viewer.when(r.decided_at)} · {r.lead_id} · "
        f"{_given(r.lead_company) or '–'} → "
        f"{_given(r.owner_name) or r.outcome}"
        for r in rows.itertuples()
    }


def trace_text(detail: Mapping[str, Any]) -> str:
    """The decision's trace as numbered lines, or its reason when it has no trace."""
    lines = trace_lines(detail["trace"])
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1)) or detail["reason"]


def history_rows(
    history: Sequence[Mapping[str, Any]], viewer: fmt.Viewer | None = None
) -> list[dict[str, Any]]:
    """Every decision about one lead, in the columns the page shows (with a ``viewer``:
    the time as their text, empty cells blank)."""
    rows = [{k: h[k] for k in HISTORY_COLUMNS} for h in history]
    if viewer is None:
        return rows
    return [
        {k: viewer.when(v) if k == "decided_at" else fmt.blank(v) for k, v in row.items()}
        for row in rows
    ]
