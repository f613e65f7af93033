"""The follow-up of completed requests: one row per request with its link's id and expiry and the company's
answer (a score from 1 to 5 and an optional comment).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        _time("created_at"),
        _time("due_at"),
        _time("expires_at"),
        _time("answered_at", nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_follow_ups"),
        sa.ForeignKeyConstraint(["request_id"], ["support_requests.id"],
                                name="fk_follow_ups_request_id_support_requests", ondelete="CASCADE"),
        sa.UniqueConstraint("request_id", name="uq_follow_ups_request_id"),
        sa.UniqueConstraint("public_id", name="uq_follow_ups_public_id"),
        sa.CheckConstraint("score IS NULL OR (score >= 1 AND score <= 5)", name="ck_follow_ups_score_range"),
    )
    op.create_index("ix_follow_ups_answered_at", "follow_ups", ["answered_at"])


def downgrade() -> None:
    op.drop_table("follow_ups")
