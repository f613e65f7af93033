"""Fixtures for the support-request store: every store test runs on SQLite and on PostgreSQL.

PostgreSQL is the session's test server (``postgres_url`` in tests/conftest.py): each test gets its own
database, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support_requests.model import RequestDraft
from support_requests.store import RequestStore
from tests.support_requests.helpers import FakeClock, make_draft


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'requests.db'}"
    return request.getfixturevalue("postgres_url")


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
