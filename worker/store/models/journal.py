"""The distribution journal: one row per routing decision, the source of truth for
"why did this lead go to Sarah?" and for exactly-once write-back.

A row is written as ``pending`` in the same transaction as the routing state it consumed,
then moved to ``applied`` / ``failed`` / ``skipped`` once Salesforce answered; ``held``
rows record a lead nobody could take (it stays in the intake queue and is retried).
Lead snapshot columns (name, email, company...) exist for search and audit only and
are purged after the retention period.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field, SQLModel

from worker.store.models.types import utc_field


class DecisionStatus(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"
    HELD = "held"


class DecisionKind(StrEnum):
    ROUTE = "route"  # first assignment out of the intake queue
    SLA_REASSIGN = "sla_reassign"  # untouched past its SLA: moved to another rep
    ESCALATE = "escalate"  # out of hops: moved to a manager, pool or queue
    # SLA misses that keep the lead with its owner (a note: nothing written to Salesforce)
    SLA_REMIND = "sla_remind"  # the owner reminded, a new response window
    ESCALATE_MANAGER = "escalate_manager"  # the owner reminded, their manager told


NOTE_KINDS = (DecisionKind.SLA_REMIND, DecisionKind.ESCALATE_MANAGER)


class Outcome(StrEnum):
    """What the dashboard filters on; derived from kind + status (see ``outcome_of``)."""

    ASSIGNED = "assigned"
    REASSIGNED = "reassigned"
    HELD = "held"
    SKIPPED = "skipped"
    FAILED = "failed"
    PENDING = "pending"
    REMINDED = "reminded"  # SLA missed, the owner reminded, the lead kept
    ESCALATED = "escalated"  # SLA missed, the owner's manager told, the lead kept


def outcome_of(kind: str, status: str) -> Outcome:
    if status == DecisionStatus.APPLIED:
        if kind == DecisionKind.SLA_REMIND:
            return Outcome.REMINDED
        if kind == DecisionKind.ESCALATE_MANAGER:
            return Outcome.ESCALATED
        return Outcome.ASSIGNED if kind == DecisionKind.ROUTE else Outcome.REASSIGNED
    return Outcome(status)


def email_domain(email: str | None) -> str | None:
    """The domain of an e-mail address, lower-cased (``Jane@Acme.COM`` -> ``acme.com``),
    or None when there is none: what the journal's ``lead_email_domain`` holds and the
    dashboard's domain search compares with (one rule for the insert, the migration's
    backfill and the search)."""
    if not email or "@" not in email:
        return None
    domain = email.rpartition("@")[2].strip().lower()
    return domain or None


def _domain_default(context: Any) -> str | None:
    """Column default: the domain of the row's ``lead_email`` (for inserts that do not
    set it themselves, e.g. the ORM and Core inserts of tests and the devkit)."""
    return email_domain(context.get_current_parameters().get("lead_email"))


class JournalRow(SQLModel, table=True):
    __tablename__ = "decision"
    __table_args__ = (
        Index("ix_decision_decided_at_id", "decided_at", "id"),
        Index("ix_decision_pool_decided_at", "pool", "decided_at"),
        Index("ix_decision_owner_decided_at", "owner_id", "decided_at"),
        # dashboard: daily counts per kind/status and the week's timings (overview) read
        # from the index alone
        Index(
            "ix_decision_decided_at_kind_status_times",
            "decided_at",
            "kind",
            "status",
            "applied_at",
            "lead_created_at",
            "first_touch_at",
        ),
        # "which of these leads are held/pending": seeks, not a scan of every held row
        Index("ix_decision_status_lead_id", "status", "lead_id"),
        # the SLA sweep: open clocks in due order
        Index("ix_decision_sla_state_due", "sla_state", "sla_due_at"),
        # search by e-mail domain, newest first: a seek, not a scan of every e-mail
        Index("ix_decision_email_domain_decided_at", "lead_email_domain", "decided_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lead_id: str = Field(max_length=18, index=True)
    cycle_id: str = Field(max_length=40)  # no index: nothing reads by cycle
    kind: str = Field(default=DecisionKind.ROUTE, max_length=20)
    status: str = Field(default=DecisionStatus.PENDING, max_length=20)

    owner_id: str | None = Field(default=None, max_length=18)
    owner_name: str | None = Field(default=None, max_length=255)
    previous_owner_id: str | None = Field(default=None, max_length=18)
    pool: str | None = Field(default=None, max_length=80)
    rule: str | None = Field(default=None, max_length=120, index=True)
    method: str | None = Field(default=None, max_length=40)
    reason: str = Field(default="", max_length=1000)
    trace: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    error: str | None = Field(default=None, max_length=2000)
    hop: int = 0
    # Added by the worker (issue 5): the rep's config key (e-mail) of ``owner_id``, the
    # SLA follow-up state of an applied decision (open -> touched | moved | closed |
    # escalated (the manager told, the lead kept) | expired; None for a note, an
    # escalation, or a decision that assigned nobody).
    rep_key: str | None = Field(default=None, max_length=255)
    sla_state: str | None = Field(default=None, max_length=20)

    decided_at: datetime = utc_field(default_now=True)
    applied_at: datetime | None = utc_field(nullable=True)
    lead_created_at: datetime | None = utc_field(nullable=True)
    first_touch_at: datetime | None = utc_field(nullable=True)
    sla_due_at: datetime | None = utc_field(nullable=True)

    # Lead snapshot for search and the fairness "leftover leads" check (PII: purged).
    lead_name: str | None = Field(default=None, max_length=255)
    lead_email: str | None = Field(default=None, max_length=255, index=True)
    # the e-mail's domain (``email_domain``), set at insert: "gmail.com" finds by index
    lead_email_domain: str | None = Field(
        default=None, sa_column=Column(String(255), nullable=True, default=_domain_default)
    )
    lead_company: str | None = Field(default=None, max_length=255)  # searched by ILIKE: no index
    lead_country: str | None = Field(default=None, max_length=80)
    lead_source: str | None = Field(default=None, max_length=120)
    lead_rating: str | None = Field(default=None, max_length=40)
    lead_employees: int | None = None
    # the values of every field the routing config read, as JSON: What-if replays the
    # lead as the worker saw it (PII: purged with the snapshot)
    lead_fields: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    worker_id: str | None = Field(default=None, max_length=80)
