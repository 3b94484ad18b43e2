"""journal: drop two indexes no query uses

``ix_decision_cycle_id``: nothing reads the journal by cycle. ``ix_decision_lead_company``:
the log's company search is a case-insensitive prefix match (``ILIKE``), which neither
SQLite nor PostgreSQL answers from a plain b-tree. Each index cost every journal INSERT a
random-order b-tree update (together ~25% of the insert time of a busy page).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_cycle_id")
        batch_op.drop_index("ix_decision_lead_company")


def downgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.create_index("ix_decision_lead_company", ["lead_company"], unique=False)
        batch_op.create_index("ix_decision_cycle_id", ["cycle_id"], unique=False)
