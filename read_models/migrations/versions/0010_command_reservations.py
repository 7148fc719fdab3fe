"""One writer per case: the versions commands were decided on (`schema.command_reservations`).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from casestream.read_models.schema import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "command_reservations",
        sa.Column("case_id", sa.String(100), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("next_version", sa.Integer, nullable=False),
        sa.Column("command", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("event_ids", sa.JSON, nullable=False),
        sa.Column("reserved_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("command_reservations")
