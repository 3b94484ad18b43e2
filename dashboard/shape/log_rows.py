"""Distribution log page: the filter the pickers stand for, paging, the rows shown, the
labels of the trace picker and a decision's trace as numbered lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd

from dashboard import fmt
from dashboard.trace import trace_lines
from worker.store.queries.journal_log import LogFilter

HIDDEN_COLUMNS = ("kind", "status", "hop")  # kept for the export, not worth a column
COLUMN_ORDER = (
    "decided_at",
    "outcome",
    "lead_id",
    "lead_name",
    "lead_company",
    "lead_country",
    "owner_name",
    "pool",
    "rule",
    "reason",
)
HISTORY_COLUMNS = ("decided_at", "outcome", "owner_name", "pool", "reason")


def period_bounds(value: object) -> tuple[datetime | None, datetime | None]:
    """A date picker's value as [start, end) in UTC; one day picked is that day, nothing
    picked is no bound."""
    if isinstance(value, tuple | list) and value:
        start = datetime.combine(value[0], time.min, UTC)
        end_day: date = value[1] if len(value) > 1 else value[0]
        return start, datetime.combine(end_day + timedelta(days=1), time.min, UTC)
    return None, None


def log_filter(
    period: object,
    owners: Sequence[str],
    pools: Sequence[str],
    rules: Sequence[str],
    outcomes: Sequence[str],
    search: str,
) -> LogFilter:
    start, end = period_bounds(period)
    return LogFilter(
        start, end, tuple(owners), tuple(pools), tuple(rules), tuple(outcomes), search.strip()
    )


def page_count(total: int, size: int) -> int:
    """Pages of ``size`` rows for ``total`` decisions; an empty log still has one."""
    return max(1, -(-total // size))


def shown_rows(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.drop(columns=list(HIDDEN_COLUMNS), errors="ignore")


def _given(value: Any) -> Any:
    """A cell's value, or None when it is empty (pandas holds a missing text as NaN,
    which is truthy and would be shown as "nan")."""
    return None if value is None or pd.isna(value) else value


def trace_choices(rows: pd.DataFrame) -> dict[int, str]:
    """Decision id -> the label the trace picker shows for it (no company: a dash; no
    owner: the outcome)."""
    return {
        int(r.id): f"{fmt.when(r.decided_at)} · {r.lead_id} · {_given(r.lead_company) or '–'} → "
        f"{_given(r.owner_name) or r.outcome}"
        for r in rows.itertuples()
    }


def trace_text(detail: Mapping[str, Any]) -> str:
    """The decision's trace as numbered lines, or its reason when it has no trace."""
    lines = trace_lines(detail["trace"])
    return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1)) or detail["reason"]


def history_rows(history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every decision about one lead, in the columns the page shows."""
    return [{k: h[k] for k in HISTORY_COLUMNS} for h in history]
