"""The figure counters of enforcement supervision (执法监督): the opinions (评查意见) of a 考评
review, in all and by category, and the 不予处罚 decisions by ground. Every existing row counts
none of them (no such case existed before).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

FIGURES = (
    "opinions",
    "opinions_facts",
    "opinions_evidence",
    "opinions_procedure",
    "opinions_law",
    "opinions_documents",
    "opinions_discretion",
    "opinions_property",
    "opinions_other",
    "exemption_minor",
    "exemption_first_offence",
    "exemption_no_fault",
    "exemption_other",
)
TABLES = ("case_figures", "figure_counts")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            for name in FIGURES:
                batch.add_column(sa.Column(name, sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            for name in reversed(FIGURES):
                batch.drop_column(name)
