"""Columns for the figures read at every metrics scrape and in GET /stats: a complaint's
follow-up score and a decided dispute's outcome class, so that counting them reads no JSON.
Existing rows are filled from their stored state.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# the outcome classes as domain/outcomes.py had them when this revision was written
CORRECTIONS = ("altered", "confirmed_illegal", "ordered_to_perform", "revoked")
LOSSES = ("altered", "compensation", "confirmed_illegal", "ordered_to_perform", "revoked")


def upgrade() -> None:
    op.add_column("cases", sa.Column("satisfaction", sa.SmallInteger))
    op.add_column("cases", sa.Column("outcome", sa.String(16)))
    cases = sa.table(
        "cases",
        sa.column("case_kind", sa.String),
        sa.column("state", sa.JSON),
        sa.column("satisfaction", sa.SmallInteger),
        sa.column("outcome", sa.String),
    )
    score = cases.c.state["satisfaction"].as_integer()
    decision = cases.c.state["decision"].as_string()
    judgment = cases.c.state["judgment_outcome"].as_string()
    op.execute(sa.update(cases).where(cases.c.case_kind == "complaint").values(satisfaction=score))
    op.execute(
        sa.update(cases)
        .where(cases.c.case_kind == "reconsideration", decision.is_not(None))
        .values(outcome=sa.case((decision.in_(CORRECTIONS), "correction"), else_="other"))
    )
    op.execute(
        sa.update(cases)
        .where(cases.c.case_kind == "litigation", judgment.is_not(None))
        .values(outcome=sa.case((judgment.in_(LOSSES), "loss"), else_="other"))
    )


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("outcome")
        batch.drop_column("satisfaction")
