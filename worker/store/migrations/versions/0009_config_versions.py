"""config versions: the routing section's published versions and the shared draft

``config_version`` holds every published (then ``archived``) version of the routing
section, numbered, with its author, time and message, and the one ``draft`` row
(``draft_slot`` unique) the dashboard's routing editor saves into, guarded by its
``revision`` counter.

Revision ID: 0009_config_versions
Revises: 0008_pubsub_replay
Create Date: 2026-12-06 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009_config_versions"
down_revision: str | None = "0008_pubsub_replay"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "config_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("draft_slot", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("base_number", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("draft_slot"),
    )
    op.create_index("ix_config_version_status", "config_version", ["status"])


def downgrade() -> None:
    op.drop_index("ix_config_version_status", table_name="config_version")
    op.drop_table("config_version")
