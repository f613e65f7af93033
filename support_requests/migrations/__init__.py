"""The store's schema migrations (Alembic), run from code: no ``alembic.ini`` is needed.

:func:`upgrade_database` brings a database to the newest schema; the store calls
it at start-up and tests call it on fresh databases. To write a new migration,
add a file to ``versions/`` whose ``down_revision`` is the current head, and
keep ``support_requests/tables.py`` in step (a test compares them).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine.url import URL

from support_requests.database import open_engine, translate_database_errors

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(connection=None):  # -> alembic.config.Config
    """An Alembic configuration for these migrations, optionally bound to an open ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade_database(target: str | URL | Engine, revision: str = "head") -> str | None:
    """Apply every pending migration to the database at ``target`` (a URL or an engine), in one transaction.

    Safe to call on every start-up: an up-to-date database is left as it is, and on
    PostgreSQL concurrent callers wait for each other (an advisory lock).

    Returns:
        The revision the database is at afterwards.

    Raises:
        StoreUnavailableError: when the database cannot be reached.
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    engine = target if isinstance(target, Engine) else open_engine(target)
    try:
        with translate_database_errors(engine), engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if engine is not target:
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for a database never migrated."""
    from alembic.runtime.migration import MigrationContext

    with translate_database_errors(engine), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision among these migrations."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
