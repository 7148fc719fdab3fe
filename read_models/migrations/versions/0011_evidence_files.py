"""Evidence files: the uploads POST /files has stored (by digest and uploader) and the files
each case's events cite.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from casestream.read_models.schema import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evidence_uploads",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("uploaded_by", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("uploaded_at", UTCDateTime, nullable=False),
    )
    # no event cited a file before this revision: nothing to fill in
    op.create_table(
        "case_files",
        sa.Column("case_id", sa.String(100), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_case_files_sha256", "case_files", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_case_files_sha256", table_name="case_files")
    op.drop_table("case_files")
    op.drop_table("evidence_uploads")
