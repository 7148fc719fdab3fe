"""Per-day figure counters (figure_counts) and what each case adds to them (case_figures),
kept by the projector so a period's figures do not read every case; clocks indexed by case,
rule and status. A database migrated here
with cases in it has its counters built once by `FigureCounter.ensure` at the next start.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

FIGURES = (
    "received",
    "closed",
    "on_time",
    "overdue",
    "ent_received",
    "ent_closed",
    "ent_on_time",
    "ent_overdue",
    "visited",
    "score_sum",
    "satisfied",
    "flagged",
    "supervised",
    "decided",
    "corrections",
    "judged",
    "losses",
    "heard",
    "appeared",
    "hearings",
    "head_appeared",
    "opened",
    "cancelled",
)


def _figures() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger, nullable=False, server_default="0") for name in FIGURES]


def upgrade() -> None:
    op.create_table(
        "case_figures",
        sa.Column("case_id", sa.String(100), primary_key=True),
        sa.Column("department", sa.String(200), nullable=False),
        sa.Column("case_kind", sa.String(32), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        *_figures(),
    )
    op.create_table(
        "figure_counts",
        sa.Column("department", sa.String(200), primary_key=True),
        sa.Column("case_kind", sa.String(32), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        *_figures(),
    )
    op.create_index("ix_figure_counts_day", "figure_counts", ["day"])
    # the figures ask "has this case a met (breached) clock of these rules": from the index
    op.create_index("ix_clocks_case_rule_status", "clocks", ["case_id", "rule_id", "status"])
    op.drop_index("ix_clocks_case_id", table_name="clocks")


def downgrade() -> None:
    op.create_index("ix_clocks_case_id", "clocks", ["case_id"])
    op.drop_index("ix_clocks_case_rule_status", table_name="clocks")
    op.drop_index("ix_figure_counts_day", table_name="figure_counts")
    op.drop_table("figure_counts")
    op.drop_table("case_figures")
