"""journal: the lead's routed fields with each decision

``decision.lead_fields`` (JSON text, nullable): the values of every lead field the
routing config read when the decision was made, so What-if replays a lead as the worker
saw it (rules on any field, territories, corroboration), not only the six snapshot
columns. Personal data: blanked by retention and deletion requests like the snapshot.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lead_fields", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_column("lead_fields")
