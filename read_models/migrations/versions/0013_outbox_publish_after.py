"""The outbox's `publish_after`: a command's events, which the API sends itself, are left to the
worker's relay only once the API has had its time to send them (no second send of each).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from casestream.read_models.schema import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # rows written before this revision have none: the relay takes them at once, as it did
    op.add_column("outbox", sa.Column("publish_after", UTCDateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("publish_after")
