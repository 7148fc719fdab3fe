"""Transactional outbox of derived events (review and rectification of lost cases).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from casestream.read_models.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("case_kind", sa.String(32), nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("published", sa.Boolean, nullable=False),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["published", "occurred_at"])


def downgrade() -> None:
    op.drop_table("outbox")
