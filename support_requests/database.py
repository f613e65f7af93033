"""Opening the request database: SQLite (embedded default) or PostgreSQL by URL.

SQLite connections get WAL mode, a busy timeout and foreign keys on every
connect, and every transaction starts with ``BEGIN IMMEDIATE``: a writer takes
the write lock at the start, so concurrent writers wait (up to the busy
timeout) instead of failing half-way with "database is locked".
PostgreSQL is reached through psycopg 3 (``postgresql+psycopg://``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.engine.url import URL
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from support_requests.errors import StoreUnavailableError

SQLITE_BUSY_TIMEOUT_MS = 30_000
ENGINE_LOGGING_NAME = "support_requests"


class _NoRowLogging(logging.Filter):
    """Drops SQLAlchemy's DEBUG records (result rows hold personal data); statements at INFO stay, without values."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_ROW_FILTER = _NoRowLogging()


def _guard_logging(engine: Engine) -> Engine:
    logger = logging.getLogger(f"sqlalchemy.engine.Engine.{ENGINE_LOGGING_NAME}")
    if _ROW_FILTER not in logger.filters:
        logger.addFilter(_ROW_FILTER)
    return engine


def open_engine(url: str | URL, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> Engine:
    """An engine for ``url``, set up for concurrent use. Nothing connects until first use.

    Args:
        url: ``sqlite:///path/to/file.db`` (its folder is created), ``sqlite://`` for a
            private in-memory database, or ``postgresql+psycopg://user@host:port/db``.
            A PostgreSQL schema can be chosen with ``?options=-csearch_path%3Dname``.

    Raises:
        StoreUnavailableError: for a URL that cannot be parsed or a driver that is not installed.
    """
    try:
        parsed = make_url(url)
    except exc.ArgumentError as error:
        raise StoreUnavailableError(f"the database URL cannot be read: {error}") from None
    # Statements are logged and errors raised without their values, and rows are never logged: they hold personal data.
    options: dict[str, Any] = {"hide_parameters": True, "logging_name": ENGINE_LOGGING_NAME}
    if parsed.get_backend_name() == "sqlite":
        return _guard_logging(_sqlite_engine(parsed, busy_timeout_ms, options))
    try:
        return _guard_logging(create_engine(parsed, pool_pre_ping=True, **options))
    except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as error:
        raise StoreUnavailableError(f"cannot use the database URL for {parsed.drivername}: {error}") from None


def _sqlite_engine(url: URL, busy_timeout_ms: int, options: dict[str, Any]) -> Engine:
    memory = url.database in (None, "", ":memory:")
    if memory:
        # One shared connection, so every session sees the same private database.
        options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        options.update(connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False})
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, see below
        cursor = dbapi_connection.cursor()
        try:
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``engine`` that keep loaded values usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextlib.contextmanager
def translate_database_errors(engine: Engine) -> Iterator[None]:
    """Turn "cannot reach or lock the database" into :class:`StoreUnavailableError`; other errors pass.

    The message names the database without its password and carries the driver's
    own message, never the statement's parameters.
    """
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError) as error:
        where = engine.url.render_as_string(hide_password=True)
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise StoreUnavailableError(f"the request database {where} cannot be used: {reason}") from error


def is_postgresql(engine: Engine) -> bool:
    """True when ``engine`` talks to PostgreSQL (row locks with SKIP LOCKED are available)."""
    return engine.dialect.name == "postgresql"
