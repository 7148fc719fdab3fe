"""Index the scanner's exact order (next_alert_at, clock_id): a page of due clocks is read
from the index instead of sorting every due row (a midnight cohort of warnings).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_clocks_next_alert_at", "clocks")
    op.create_index("ix_clocks_next_alert_at_clock", "clocks", ["next_alert_at", "clock_id"])


def downgrade() -> None:
    op.drop_index("ix_clocks_next_alert_at_clock", "clocks")
    op.create_index("ix_clocks_next_alert_at", "clocks", ["next_alert_at"])
