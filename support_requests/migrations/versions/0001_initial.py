"""Support requests, their entries, notes and history, reference counters and the notification outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATUSES = ("new", "assigned", "in_progress", "connected", "closed", "withdrawn")


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "support_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(20), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=True),
        sa.Column("company_name", sa.String(200), nullable=False),
        sa.Column("contact_person", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("email_key", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("org_number", sa.String(11), nullable=True),
        sa.Column("need_summary", sa.Text(), nullable=False),
        sa.Column("routed_contact", sa.String(100), nullable=False),
        _time("consent_given_at"),
        sa.Column("consent_notice_version", sa.String(50), nullable=False),
        sa.Column("status", sa.Enum(*STATUSES, name="request_status", native_enum=False, create_constraint=True,
                                    length=20), nullable=False),
        sa.Column("assignee", sa.String(200), nullable=True),
        _time("closed_at", nullable=True),
        _time("erased_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_support_requests"),
        sa.UniqueConstraint("reference", name="uq_support_requests_reference"),
        sa.UniqueConstraint("idempotency_key", name="uq_support_requests_idempotency_key"),
    )
    for column in ("created_at", "conversation_id", "email_key", "status", "assignee"):
        op.create_index(f"ix_support_requests_{column}", "support_requests", [column])

    op.create_table(
        "request_entries",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "position", name="pk_request_entries"),
        sa.ForeignKeyConstraint(["request_id"], ["support_requests.id"], ondelete="CASCADE",
                                name="fk_request_entries_request_id_support_requests"),
    )
    op.create_index("ix_request_entries_entry_id", "request_entries", ["entry_id"])

    op.create_table(
        "request_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        _time("at"),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_request_notes"),
        sa.ForeignKeyConstraint(["request_id"], ["support_requests.id"], ondelete="CASCADE",
                                name="fk_request_notes_request_id_support_requests"),
        sa.UniqueConstraint("request_id", "number", name="uq_request_notes_request_number"),
    )
    op.create_index("ix_request_notes_request_id", "request_notes", ["request_id"])

    op.create_table(
        "request_history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), nullable=False),
        _time("at"),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("old_value", sa.String(200), nullable=True),
        sa.Column("new_value", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_request_history"),
        sa.ForeignKeyConstraint(["request_id"], ["support_requests.id"], ondelete="CASCADE",
                                name="fk_request_history_request_id_support_requests"),
    )
    op.create_index("ix_request_history_request_id", "request_history", ["request_id"])

    op.create_table(
        "reference_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_reference_counters"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(2000), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("next_attempt_at"),
        _time("lease_until", nullable=True),
        sa.Column("claim_token", sa.String(36), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        _time("created_at"),
        _time("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(["request_id"], ["support_requests.id"], ondelete="CASCADE",
                                name="fk_outbox_request_id_support_requests"),
    )
    op.create_index("ix_outbox_request_id", "outbox", ["request_id"])
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    for table in ("outbox", "reference_counters", "request_history", "request_notes", "request_entries",
                  "support_requests"):
        op.drop_table(table)
