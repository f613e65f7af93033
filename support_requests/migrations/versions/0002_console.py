"""Advisors' accounts, API tokens and the log of unmet needs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "advisors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_signins", sa.Integer(), nullable=False),
        _time("locked_until", nullable=True),
        _time("created_at"),
        _time("last_signin_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_advisors"),
        sa.UniqueConstraint("username", name="uq_advisors_username"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        _time("created_at"),
        _time("revoked_at", nullable=True),
        _time("last_used_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("name", name="uq_api_tokens_name"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_table(
        "unmet_needs",
        sa.Column("id", sa.Integer(), primary_key=True),
        _time("created_at"),
        sa.Column("need", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("best_score", sa.Float(), nullable=True),
        sa.Column("best_entry_id", sa.String(100), nullable=True),
        sa.Column("conversation_key", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_unmet_needs"),
    )
    op.create_index("ix_unmet_needs_created_at", "unmet_needs", ["created_at"])
    op.create_index("ix_unmet_needs_conversation_key", "unmet_needs", ["conversation_key"])


def downgrade() -> None:
    for table in ("unmet_needs", "api_tokens", "advisors"):
        op.drop_table(table)
