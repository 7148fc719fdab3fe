"""Tallies of where the cases stand now (case_tallies: department, kind, status, 涉企, outcome
class, follow-up score, an open clock breached → how many cases) and of the open clocks
(clock_tallies: rule, department, status), kept by the projector with the figure counters, so
the business gauges (/metrics) read a few rows instead of every case and clock; each case's
places are remembered beside its figures in case_figures. A database migrated here has its
counters and tallies built again from the cases by `FigureCounter.ensure` at the next start.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

ZONE_KEY = "figure_counts_zone"  # read_models.figure_counts: the zone the counters were built in


def _places() -> list[sa.Column[object]]:
    return [
        sa.Column("status", sa.String(32), server_default=""),
        sa.Column("enterprise", sa.Boolean, server_default=sa.false()),
        sa.Column("outcome", sa.String(16), server_default=""),
        sa.Column("satisfaction", sa.SmallInteger, server_default="0"),
        sa.Column("breached", sa.Boolean, server_default=sa.false()),
    ]


def upgrade() -> None:
    with op.batch_alter_table("case_figures") as batch:
        for column in _places():
            column.nullable = False
            batch.add_column(column)
        batch.add_column(sa.Column("clock_places", sa.Text, nullable=False, server_default=""))
    op.create_table(
        "case_tallies",
        sa.Column("department", sa.String(200), primary_key=True),
        sa.Column("case_kind", sa.String(32), primary_key=True),
        *(sa.Column(column.name, column.type, primary_key=True) for column in _places()),
        sa.Column("total", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "clock_tallies",
        sa.Column("rule_id", sa.String(100), primary_key=True),
        sa.Column("department", sa.String(200), primary_key=True),
        sa.Column("status", sa.String(32), primary_key=True),
        sa.Column("total", sa.BigInteger, nullable=False),
    )
    # the places of the cases counted so far are unknown: count everything again at the start
    meta = sa.table("projection_meta", sa.column("key", sa.String))
    op.execute(meta.delete().where(meta.c.key == ZONE_KEY))


def downgrade() -> None:
    op.drop_table("clock_tallies")
    op.drop_table("case_tallies")
    with op.batch_alter_table("case_figures") as batch:
        batch.drop_column("clock_places")
        for column in reversed(_places()):
            batch.drop_column(column.name)
