"""Clocks stopped by another case (a 意见书's report clock by its rectification).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clocks") as batch:
        batch.add_column(sa.Column("linked_case_id", sa.String(150)))
    op.create_index("ix_clocks_linked_case_id", "clocks", ["linked_case_id"])


def downgrade() -> None:
    op.drop_index("ix_clocks_linked_case_id", "clocks")
    with op.batch_alter_table("clocks") as batch:
        batch.drop_column("linked_case_id")
