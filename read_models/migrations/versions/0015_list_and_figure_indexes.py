"""Indexes for the API under load and for the business gauges at province scale.

Each filter of GET /cases (kind, status, department, enterprise) gets an index in the list's
order (filter, received_at, case_id): a page, and a page deep in the list after its cursor, is a
range of one index instead of a walk of every newer case. The department and enterprise ones
replace their single-column indexes (they serve those lookups as well).

A case's open clocks (not stopped) by case, status and due instant: a listed case's next due
instant and whether it is overdue are read from the index alone.

The gauges (/metrics) read indexes only: cases by (kind, status, department, enterprise), which
replaces (kind, status); open clocks by (rule, department, status, due instant); decided
disputes; scored complaints.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

NOT_STOPPED = sa.text("stopped_at IS NULL")
DECIDED = sa.text("outcome IS NOT NULL")
SCORED = sa.text("satisfaction IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_cases_department", "cases")
    op.drop_index("ix_cases_enterprise_name", "cases")
    op.drop_index("ix_cases_kind_status", "cases")
    for name, column in (
        ("ix_cases_kind_received", "case_kind"),
        ("ix_cases_status_received", "status"),
        ("ix_cases_department_received", "department"),
        ("ix_cases_enterprise_name_received", "enterprise_name"),
    ):
        op.create_index(name, "cases", [column, "received_at", "case_id"])
    op.create_index(
        "ix_cases_kind_status_department",
        "cases",
        ["case_kind", "status", "department", "enterprise"],
    )
    op.create_index(
        "ix_cases_decided",
        "cases",
        ["case_kind", "department", "outcome"],
        postgresql_where=DECIDED,
        sqlite_where=DECIDED,
    )
    op.create_index(
        "ix_cases_scored",
        "cases",
        ["case_kind", "satisfaction"],
        postgresql_where=SCORED,
        sqlite_where=SCORED,
    )
    op.create_index(
        "ix_clocks_open_case",
        "clocks",
        ["case_id", "status", "due_at"],
        postgresql_where=NOT_STOPPED,
        sqlite_where=NOT_STOPPED,
    )
    op.create_index(
        "ix_clocks_open_rule",
        "clocks",
        ["rule_id", "department", "status", "due_at"],
        postgresql_where=NOT_STOPPED,
        sqlite_where=NOT_STOPPED,
    )


def downgrade() -> None:
    for name, table in (
        ("ix_clocks_open_rule", "clocks"),
        ("ix_clocks_open_case", "clocks"),
        ("ix_cases_scored", "cases"),
        ("ix_cases_decided", "cases"),
        ("ix_cases_kind_status_department", "cases"),
        ("ix_cases_enterprise_name_received", "cases"),
        ("ix_cases_department_received", "cases"),
        ("ix_cases_status_received", "cases"),
        ("ix_cases_kind_received", "cases"),
    ):
        op.drop_index(name, table)
    op.create_index("ix_cases_kind_status", "cases", ["case_kind", "status"])
    op.create_index("ix_cases_enterprise_name", "cases", ["enterprise_name"])
    op.create_index("ix_cases_department", "cases", ["department"])
