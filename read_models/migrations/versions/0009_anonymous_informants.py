"""Anonymous informants leave the stored case states: a tip-off made anonymously keeps no
informant in `cases.state` (domain/anonymity.py), so rows written before that rule lose it
here, as a replay would write them. The events in `case_events` stay as received.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# the person fields as domain/anonymity.py had them when this revision was written
PERSON_FIELDS = ("applicant", "complainant", "informant", "plaintiff")


def upgrade() -> None:
    cases = sa.table(
        "cases",
        sa.column("case_id", sa.String),
        sa.column("case_kind", sa.String),
        sa.column("state", sa.JSON),
    )
    conn = op.get_bind()
    anonymous = conn.execute(
        sa.select(cases.c.case_id, cases.c.state).where(
            cases.c.case_kind == "enterprise_tip",
            cases.c.state["anonymous"].as_boolean().is_(True),
        )
    )
    scrubbed = [
        {"row_id": row.case_id, "row_state": {**row.state, **dict.fromkeys(named)}}
        for row in anonymous
        if (named := [key for key in PERSON_FIELDS if row.state.get(key) is not None])
    ]
    if scrubbed:
        conn.execute(
            sa.update(cases)
            .where(cases.c.case_id == sa.bindparam("row_id"))
            .values(state=sa.bindparam("row_state", type_=sa.JSON)),
            scrubbed,
        )


def downgrade() -> None:
    """Nothing to restore: the identity stays in the events, and a read model never held it
    since this revision."""
