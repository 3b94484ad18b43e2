"""Distribution log shaping: the filter the pickers stand for, paging, rows and labels."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pandas as pd

from dashboard.shape import log_rows as shape
from worker.store.queries.journal_log import LogFilter


def test_a_picked_range_covers_both_days_whole() -> None:
    start, end = shape.period_bounds((date(2026, 11, 20), date(2026, 11, 23)))
    assert start == datetime(2026, 11, 20, tzinfo=UTC)
    assert end == datetime(2026, 11, 24, tzinfo=UTC)


def test_one_day_picked_is_that_day_and_nothing_picked_is_no_bound() -> None:
    assert shape.period_bounds((date(2026, 11, 20),)) == (
        datetime(2026, 11, 20, tzinfo=UTC),
        datetime(2026, 11, 21, tzinfo=UTC),
    )
    assert shape.period_bounds(()) == (None, None)
    assert shape.period_bounds(None) == (None, None)


def test_the_filter_holds_the_pickers_and_the_trimmed_search() -> None:
    flt = shape.log_filter((), ["005A"], ["EMEA"], [], ["held"], "  acme ")
    assert flt == LogFilter(None, None, ("005A",), ("EMEA",), (), ("held",), "acme")


def test_page_count() -> None:
    assert [shape.page_count(n, 50) for n in (0, 1, 50, 51, 100, 101)] == [1, 1, 1, 2, 2, 3]


def rows() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"id": 7, "decided_at": datetime(2026, 11, 23, 9, 5, 1, tzinfo=UTC),
             "lead_id": "00Q1", "lead_company": "Acme", "owner_name": "Anna", "outcome": "routed",
             "kind": "route", "status": "applied", "hop": 0},
            {"id": 8, "decided_at": datetime(2026, 11, 23, 9, 6, 0, tzinfo=UTC),
             "lead_id": "00Q2", "lead_company": "Beta", "owner_name": "", "outcome": "held",
             "kind": "route", "status": "held", "hop": 0},
        ]
    )  # fmt: skip


def test_the_table_leaves_out_the_internal_columns() -> None:
    assert list(shape.shown_rows(rows()).columns) == [
        "id", "decided_at", "lead_id", "lead_company", "owner_name", "outcome",
    ]  # fmt: skip


def test_trace_picker_labels_name_the_owner_or_else_the_outcome() -> None:
    assert shape.trace_choices(rows()) == {
        7: "2026-11-23 09:05:01 UTC · 00Q1 · Acme → Anna",
        8: "2026-11-23 09:06:00 UTC · 00Q2 · Beta → held",
    }


def test_trace_text_numbers_the_steps_or_falls_back_to_the_reason() -> None:
    steps = [{"kind": "rule", "message": "rule emea matched", "data": {}},
             {"kind": "note", "message": "Anna chosen", "data": {}}]  # fmt: skip
    shown = shape.trace_text({"trace": json.dumps(steps), "reason": "why"})
    assert shown.splitlines()[0].startswith("1. ")
    assert shown.splitlines()[-1].startswith(f"{len(shown.splitlines())}. ")
    assert shape.trace_text({"trace": None, "reason": "held: nobody eligible"}) == (
        "held: nobody eligible"
    )


def test_lead_history_rows_keep_the_columns_shown() -> None:
    history = [{"id": 1, "decided_at": "t", "outcome": "routed", "owner_name": "Anna",
                "pool": "EMEA", "reason": "r", "trace": "[]"}]  # fmt: skip
    assert shape.history_rows(history) == [
        {"decided_at": "t", "outcome": "routed", "owner_name": "Anna", "pool": "EMEA",
         "reason": "r"}
    ]  # fmt: skip


def test_a_decision_without_company_or_owner_is_labelled_with_a_dash_and_its_outcome() -> None:
    """The log's frame holds missing text as NaN: it must not be shown as "nan"."""
    held = pd.DataFrame(
        [(9, datetime(2026, 11, 23, 9, 7, tzinfo=UTC), "00Q3", None, None, "held"),
         (10, datetime(2026, 11, 23, 9, 8, tzinfo=UTC), "00Q4", "Acme", "Anna", "routed")],
        columns=["id", "decided_at", "lead_id", "lead_company", "owner_name", "outcome"],
    )  # fmt: skip
    assert shape.trace_choices(held)[9] == "2026-11-23 09:07:00 UTC · 00Q3 · – → held"
