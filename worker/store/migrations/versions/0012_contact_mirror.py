"""contact mirror: the org's contacts with an e-mail, for known-e-mail matching

- ``contact_mirror``: Id, lower-cased ``Email`` (indexed), ``AccountId``, ``OwnerId``,
  ``SystemModstamp`` and the full pass that wrote the row.
- ``contact_sync``: the refresh's watermarks (one row), as ``account_sync``'s.

Revision ID: 0012_contact_mirror
Revises: 0011_dashboard_indexes
Create Date: 2026-12-07 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel.sql.sqltypes import AutoString

revision: str = "0012_contact_mirror"
down_revision: str | None = "0011_dashboard_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_mirror",
        sa.Column("id", AutoString(length=18), nullable=False),
        sa.Column("email", AutoString(length=255), nullable=False),
        sa.Column("account_id", AutoString(length=18), nullable=True),
        sa.Column("owner_id", AutoString(length=18), nullable=False),
        sa.Column("system_modstamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contact_mirror", schema=None) as batch_op:
        batch_op.create_index("ix_contact_mirror_email", ["email"], unique=False)
    op.create_table(
        "contact_sync",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phase", AutoString(length=10), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("keys_version", sa.Integer(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("full_cursor", AutoString(length=18), nullable=True),
        sa.Column("full_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("full_loaded", sa.Integer(), nullable=False),
        sa.Column("full_expected", sa.Integer(), nullable=True),
        sa.Column("delta_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delta_id", AutoString(length=18), nullable=False),
        sa.Column("deleted_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("contact_sync")
    with op.batch_alter_table("contact_mirror", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_mirror_email")
    op.drop_table("contact_mirror")
