"""What a job hands to the store to journal: one routing decision, SLA move or SLA note.

Jobs build entries (:mod:`worker.jobs.records`); only :mod:`worker.store.journal_repo`
turns them into :class:`~worker.store.models.journal.JournalRow` rows. The field names
are the table's column names, so the repository can insert a page of entries without a
mapping per row. Two columns are never set by a job when it journals: ``error`` (set
when Salesforce refuses the write) and ``first_touch_at`` (set by the SLA sweep).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalEntry:
    lead_id: str
    cycle_id: str
    kind: str  # a DecisionKind
    status: str  # a DecisionStatus
    reason: str
    trace: str  # the decision's trace as JSON
    hop: int
    decided_at: datetime
    worker_id: str

    owner_id: str | None = None
    owner_name: str | None = None
    previous_owner_id: str | None = None
    rep_key: str | None = None  # the rep's config key (e-mail) of ``owner_id``
    pool: str | None = None
    rule: str | None = None
    method: str | None = None
    lead_created_at: datetime | None = None
    sla_due_at: datetime | None = None
    # set at once for a note (a miss that keeps the lead): it is done when journalled
    applied_at: datetime | None = None
    sla_state: str | None = None

    # the lead's snapshot for search and audit (PII: purged after the retention period)
    lead_name: str | None = None
    lead_email: str | None = None
    lead_company: str | None = None
    lead_country: str | None = None
    lead_source: str | None = None
    lead_rating: str | None = None
    lead_employees: int | None = None
    lead_fields: str | None = None  # the values the routing config read, as JSON


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(JournalEntry))
