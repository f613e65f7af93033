"""Alembic's environment for the support-request store: always run on a connection passed in by code."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from support_requests.tables import Base

MIGRATION_LOCK_ID = 7_402_153_911  # any constant; shared by every process migrating this database

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run these migrations through support_requests.migrations.upgrade_database(url)")

if connection.dialect.name == "postgresql":
    # Two processes starting at once must not both create the tables.
    connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
