"""pubsub replay: where the change event subscription resumes

``pubsub_replay`` holds, per topic, the replay id (opaque bytes) of the last change
event whose decisions are journaled; a restarted or standby worker resumes after it.

Revision ID: 0008_pubsub_replay
Revises: 0007
Create Date: 2026-12-06 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008_pubsub_replay"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pubsub_replay",
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("replay_id", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.PrimaryKeyConstraint("topic"),
    )


def downgrade() -> None:
    op.drop_table("pubsub_replay")
