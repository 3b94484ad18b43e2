"""The journal entry jobs hand to the store: its fields are the journal's columns."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields
from datetime import UTC, datetime

import pytest

from worker.store import journal_repo
from worker.store.journal_entry import COLUMNS, JournalEntry
from worker.store.models.journal import JournalRow

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def an_entry() -> JournalEntry:
    return JournalEntry(
        lead_id="00QA", cycle_id="c1", kind="sla_remind", status="applied", reason="why",
        trace='[{"kind": "sla"}]', hop=2, decided_at=AT, worker_id="w", owner_id="005A",
        pool="sales", rule="default", sla_due_at=AT, applied_at=AT, lead_company="Acme",
        lead_employees=12, lead_fields='{"Country": "DE"}',
    )  # fmt: skip


def test_every_field_is_a_column_and_only_the_columns_a_job_never_sets_are_left_out() -> None:
    columns = set(JournalRow.__table__.columns.keys())  # type: ignore[attr-defined]
    assert set(COLUMNS) <= columns
    # the e-mail's domain is derived by the journal from the entry's e-mail, not set by a job
    assert columns - set(COLUMNS) == {"id", "error", "first_touch_at", "lead_email_domain"}
    assert set(journal_repo.ROW_COLUMNS) == columns - {"id", "error", "first_touch_at"}


def test_an_entry_becomes_the_row_holding_its_values() -> None:
    entry = an_entry()
    row = journal_repo.as_row(entry, 7)
    assert row.id == 7 and row.error is None and row.first_touch_at is None
    assert {f.name: getattr(row, f.name) for f in fields(entry)} == {
        f.name: getattr(entry, f.name) for f in fields(entry)
    }


def test_an_entry_cannot_be_changed_after_it_is_built() -> None:
    with pytest.raises(FrozenInstanceError):
        an_entry().reason = "other"  # type: ignore[misc]
