"""journal: composite indexes for the queries the worker runs every cycle

- ``ix_decision_status`` -> ``ix_decision_status_lead_id`` (status, lead_id). Every page
  asks which of its leads are held (``status = 'held' AND lead_id IN (...)``); with a
  status-only index SQLite's planner searched by status and scanned every held row once
  per 500 leads. The composite answers it by seeks and still serves status-only queries.
- ``ix_decision_sla_state`` + ``ix_decision_sla_due_at`` -> ``ix_decision_sla_state_due``
  (sla_state, sla_due_at): the SLA sweep reads open clocks in due order; nothing reads by
  either column alone.
- ``ix_decision_rep_key`` dropped: no query filters or sorts by it.

Three fewer b-trees to update per journal row written (a busy page writes 2,000).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 18:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_status")
        batch_op.drop_index("ix_decision_sla_state")
        batch_op.drop_index("ix_decision_sla_due_at")
        batch_op.drop_index("ix_decision_rep_key")
        batch_op.create_index("ix_decision_status_lead_id", ["status", "lead_id"], unique=False)
        batch_op.create_index(
            "ix_decision_sla_state_due", ["sla_state", "sla_due_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_sla_state_due")
        batch_op.drop_index("ix_decision_status_lead_id")
        batch_op.create_index("ix_decision_rep_key", ["rep_key"], unique=False)
        batch_op.create_index("ix_decision_sla_due_at", ["sla_due_at"], unique=False)
        batch_op.create_index("ix_decision_sla_state", ["sla_state"], unique=False)
        batch_op.create_index("ix_decision_status", ["status"], unique=False)
