"""Failed status checks (reference, hashed conversation id, time), which limit guessing of references and emails.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_check_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("conversation_key", sa.String(64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_status_check_failures"),
    )
    op.create_index("ix_status_check_failures_failed_at", "status_check_failures", ["failed_at"])
    op.create_index("ix_status_check_failures_reference_at", "status_check_failures", ["reference", "failed_at"])
    op.create_index("ix_status_check_failures_conversation_at", "status_check_failures",
                    ["conversation_key", "failed_at"])


def downgrade() -> None:
    op.drop_table("status_check_failures")
