"""Read models: cases, case history, disputes, anomalies, checkpoints.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from casestream.read_models.schema import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(100), primary_key=True),
        sa.Column("case_kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("last_occurred_at", UTCDateTime, nullable=False),
        sa.Column("department", sa.String(200)),
        sa.Column("handler", sa.String(200)),
        sa.Column("enterprise", sa.Boolean, nullable=False),
        sa.Column("enterprise_name", sa.String(200)),
        sa.Column("decision_ref", sa.String(200)),
        sa.Column("subject", sa.Text),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("anomaly_count", sa.Integer, nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
    )
    op.create_index("ix_cases_kind_status", "cases", ["case_kind", "status"])
    op.create_index("ix_cases_received", "cases", ["received_at", "case_id"])
    op.create_index("ix_cases_department", "cases", ["department"])
    op.create_index("ix_cases_enterprise_name", "cases", ["enterprise_name"])
    op.create_table(
        "case_events",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("case_kind", sa.String(32), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("partition", sa.Integer, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.UniqueConstraint("case_id", "version", name="uq_case_events_case_version"),
    )
    op.create_table(
        "disputes",
        sa.Column("decision_ref", sa.String(200), primary_key=True),
        sa.Column("case_id", sa.String(100), primary_key=True),
        sa.Column("case_kind", sa.String(32), nullable=False),
        sa.Column("linked_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "anomalies",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_anomalies_case_id", "anomalies", ["case_id"])
    op.create_table(
        "checkpoints",
        sa.Column("projection", sa.String(100), primary_key=True),
        sa.Column("topic", sa.String(255), primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True),
        sa.Column("next_offset", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "projection_meta",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "projection_meta",
        "checkpoints",
        "anomalies",
        "disputes",
        "case_events",
        "cases",
    ):
        op.drop_table(table)
