"""Fixtures for the support-request store: every store test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``NAVIGATOR_TEST_POSTGRES_URL`` (default: the local test
server); each test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support_requests.model import RequestDraft
from support_requests.store import RequestStore
from tests.support_requests.helpers import FakeClock, make_draft

POSTGRES_URL = os.environ.get("NAVIGATOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def postgres_admin():
    from sqlalchemy import create_engine

    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def _postgres_schema_url(admin) -> tuple[str, Callable[[], None]]:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    schema = f"nav_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))

    return url.render_as_string(hide_password=False), drop


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'requests.db'}"
        return
    url, drop = _postgres_schema_url(request.getfixturevalue("postgres_admin"))
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def open_store(database_url: str, clock: FakeClock) -> Iterator[Callable[..., RequestStore]]:
    """Opens stores on the test database (closed after the test); several model several processes."""
    stores: list[RequestStore] = []

    def opener(**options) -> RequestStore:
        options.setdefault("clock", clock)
        store = RequestStore.from_url(database_url, **options)
        stores.append(store)
        return store

    yield opener
    for store in stores:
        store.close()


@pytest.fixture
def store(open_store: Callable[..., RequestStore]) -> RequestStore:
    return open_store()


@pytest.fixture
def draft(clock: FakeClock) -> Callable[..., RequestDraft]:
    return lambda **changes: make_draft(clock, **changes)
