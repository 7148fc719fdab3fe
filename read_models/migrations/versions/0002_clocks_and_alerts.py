"""Deadline clocks of every case, and the alerts raised on them.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from casestream.read_models.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clocks",
        sa.Column("clock_id", sa.String(250), primary_key=True),
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("case_kind", sa.String(32), nullable=False),
        sa.Column("rule_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("provisional", sa.Boolean, nullable=False),
        sa.Column("stopped_at", UTCDateTime),
        sa.Column("department", sa.String(200)),
        sa.Column("enterprise", sa.Boolean, nullable=False),
        sa.Column("next_alert_at", UTCDateTime),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_clocks_case_id", "clocks", ["case_id"])
    op.create_index("ix_clocks_next_alert_at", "clocks", ["next_alert_at"])
    op.create_index("ix_clocks_status_due", "clocks", ["status", "due_at"])
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(36), primary_key=True),
        sa.Column("clock_id", sa.String(250), nullable=False),
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("case_kind", sa.String(32), nullable=False),
        sa.Column("rule_id", sa.String(100), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("notify", sa.String(64)),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("scheduled_at", UTCDateTime, nullable=False),
        sa.Column("raised_at", UTCDateTime, nullable=False),
        sa.Column("department", sa.String(200)),
        sa.Column("enterprise", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cleared_at", UTCDateTime),
    )
    op.create_index("ix_alerts_clock_id", "alerts", ["clock_id"])
    op.create_index("ix_alerts_status_raised", "alerts", ["status", "raised_at"])


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("clocks")
