"""dashboard indexes: the journal's e-mail domain, indexed for search by domain

- ``decision.lead_email_domain``: the lower-cased domain of ``lead_email``
  (``worker.store.models.journal.email_domain``), set by the journal at insert, blanked
  with the snapshot when a lead is purged, backfilled here. The dashboard's "gmail.com"
  search was ``lead_email ILIKE '%@gmail.com'``, which no index serves: a domain with no
  lead scanned every row (6-7 s at a million decisions).
- ``ix_decision_email_domain_decided_at`` (lead_email_domain, decided_at): a domain's
  newest decisions by one seek.
- ``ix_decision_decided_at_kind_status`` -> ``ix_decision_decided_at_kind_status_times``
  (decided_at, kind, status, applied_at, lead_created_at, first_touch_at): the overview's
  week of time-to-assign and first-touch figures read from the index alone instead of
  one table row (~2 kB of trace) per routed lead (5 s at a million decisions); still
  covers the daily counts, and still one b-tree per row written.

Revision ID: 0011_dashboard_indexes
Revises: 0010_revoked_sessions
Create Date: 2026-12-07 00:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_dashboard_indexes"
down_revision: str | None = "0010_revoked_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_decision_email_domain_decided_at"
OLD_COUNTS = "ix_decision_decided_at_kind_status"
COUNTS = "ix_decision_decided_at_kind_status_times"
COUNTS_COLUMNS = ["decided_at", "kind", "status", "applied_at", "lead_created_at", "first_touch_at"]


def _backfill() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        from worker.store.models.journal import email_domain  # the rule the insert uses

        driver = bind.connection.driver_connection
        driver.create_function("lr_email_domain", 1, email_domain, deterministic=True)
        op.execute(
            "UPDATE decision SET lead_email_domain = lr_email_domain(lead_email) "
            "WHERE lead_email LIKE '%@%'"
        )
        return
    # PostgreSQL: the same rule in SQL (after the last '@', trimmed, lower-cased, NULL if empty)
    op.execute(
        "UPDATE decision SET lead_email_domain = "
        "NULLIF(lower(btrim(substring(lead_email from '@([^@]*)$'))), '') "
        "WHERE lead_email LIKE '%@%'"
    )


def upgrade() -> None:
    # plain ADD COLUMN (no batch copy of a million-row table on SQLite)
    op.add_column("decision", sa.Column("lead_email_domain", sa.String(length=255), nullable=True))
    _backfill()
    op.create_index(INDEX, "decision", ["lead_email_domain", "decided_at"], unique=False)
    op.drop_index(OLD_COUNTS, table_name="decision")
    op.create_index(COUNTS, "decision", COUNTS_COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index(COUNTS, table_name="decision")
    op.create_index(OLD_COUNTS, "decision", ["decided_at", "kind", "status"], unique=False)
    op.drop_index(INDEX, table_name="decision")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_column("lead_email_domain")
