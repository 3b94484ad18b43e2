"""account mirror: the org's accounts in the store, for account matching at any org size

- ``account_mirror``: one row per Account (the fields matching reads), indexed on the
  registered web-site domain, the normalised name key and the owner.
- ``account_name``: accounts per name key; ``account_block``: fuzzy block -> name key;
  ``account_block_size``: names per block, and the names of blocks small enough to search.
- ``account_sync``: the refresh's watermarks (one row).

On SQLite the key-only tables are WITHOUT ROWID (stored in key order: a block's names are
read from one place).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 16:53:09
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AutoString = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "account_mirror",
        sa.Column("id", AutoString(length=18), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("website", sa.Text(), nullable=True),
        sa.Column("owner_id", AutoString(length=18), nullable=True),
        sa.Column("owner_active", sa.Boolean(), nullable=False),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("country", AutoString(length=80), nullable=True),
        sa.Column("phone", AutoString(length=40), nullable=True),
        sa.Column("last_activity", sa.Date(), nullable=True),
        sa.Column("open_opportunities", sa.Integer(), nullable=False),
        sa.Column("system_modstamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("domain", AutoString(length=255), nullable=True),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("account_mirror", schema=None) as batch_op:
        batch_op.create_index("ix_account_mirror_domain", ["domain"], unique=False)
        batch_op.create_index("ix_account_mirror_name_key", ["name_key"], unique=False)
        batch_op.create_index("ix_account_mirror_owner_id", ["owner_id"], unique=False)
    op.create_table(
        "account_name",
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name_key"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "account_block",
        sa.Column("block", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("block", "name_key"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "account_block_size",
        sa.Column("block", sa.Text(), nullable=False),
        sa.Column("names", sa.Integer(), nullable=False),
        sa.Column("members", sa.Text(), nullable=True),
        sa.Column("sorted_members", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("block"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "account_sync",
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
        sa.Column("users_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("account_sync")
    op.drop_table("account_block_size")
    op.drop_table("account_block")
    op.drop_table("account_name")
    with op.batch_alter_table("account_mirror", schema=None) as batch_op:
        batch_op.drop_index("ix_account_mirror_owner_id")
        batch_op.drop_index("ix_account_mirror_name_key")
        batch_op.drop_index("ix_account_mirror_domain")
    op.drop_table("account_mirror")
