"""The migrations build exactly the schema the models describe, and start-up applies them safely."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from support_requests.database import open_engine
from support_requests.migrations import alembic_config, current_revision, head_revision, upgrade_database
from support_requests.tables import Base


def test_migrations_match_the_models(database_url: str) -> None:
    assert upgrade_database(database_url) == head_revision()
    engine = open_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_keeps_data(store, draft, database_url: str) -> None:
    created = store.create(draft(), "form-1")
    assert upgrade_database(database_url) == head_revision()
    assert upgrade_database(store.engine) == head_revision()
    assert store.get(created.reference) == created
    assert current_revision(store.engine) == head_revision()


def test_a_fresh_database_is_empty_until_migrated(database_url: str) -> None:
    engine = open_engine(database_url)
    try:
        assert current_revision(engine) is None
        assert "support_requests" not in inspect(engine).get_table_names()
        upgrade_database(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"support_requests", "request_entries", "request_notes", "request_history", "reference_counters",
                "outbox", "alembic_version"} <= tables
    finally:
        engine.dispose()


def test_the_status_check_failures_table_upgrades_and_downgrades(store, draft, database_url: str) -> None:
    from alembic import command

    created = store.create(draft(), "form-1")
    assert "status_check_failures" in inspect(store.engine).get_table_names()
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0003")
    assert current_revision(store.engine) == "0003"
    assert "status_check_failures" not in inspect(store.engine).get_table_names()
    with store.engine.connect() as connection:  # the requests stay (read as that revision's table)
        assert connection.execute(text("SELECT reference FROM support_requests")).scalars().all() == [
            created.reference]
    assert upgrade_database(database_url) == head_revision()
    assert "status_check_failures" in inspect(store.engine).get_table_names()
    assert store.get(created.reference) == created


def test_sqlite_connections_use_wal_and_a_busy_timeout(tmp_path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'sub' / 'dir' / 'x.db'}", busy_timeout_ms=1234)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() == 1234
            assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    finally:
        engine.dispose()
    assert (tmp_path / "sub" / "dir" / "x.db").exists()


def test_in_memory_sqlite_works_for_quick_use() -> None:
    from support_requests.store import RequestStore
    from tests.support_requests.helpers import make_draft

    with RequestStore.from_url("sqlite://") as store:
        assert store.create(make_draft(store.clock), "form-1").reference.startswith("SLT-")
        assert len(store.list()) == 1
