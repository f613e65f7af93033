"""Which platform events a channel has already taken: Slack and Teams deliver an event again when they think
it was lost (Slack retries after 3 s, Teams after a timeout), and each delivery must give one reply only.

``first_sighting(key)`` records a key and says whether this was the first time. It is atomic across processes
when the store is shared, so several Rasa servers behind a load balancer agree on who takes an event:

- :class:`SqlSeenEvents`: a table (``navigator_seen_events``) in a SQL database, by default Rasa's tracker
  database; an ``INSERT`` that meets the primary key means "seen".
- :class:`RedisSeenEvents`: ``SET key NX EX ttl`` in Redis, when one is configured.
- :class:`MemorySeenEvents`: one process only (tests, a single server).

Keys are stored as SHA-256 digests, so that nothing a platform puts in an id (such as a user id) is kept.
A key is forgotten ``ttl_seconds`` after it was first seen; platforms stop retrying long before (Slack after
three retries within an hour).

This module runs inside the Rasa server (Python 3.10, SQLAlchemy 1.4, redis 4.6) and in the tests (Python
3.11, SQLAlchemy 2): it imports neither Rasa nor anything of Navigator's.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from typing import Any, Protocol

DEFAULT_TTL_SECONDS = 24 * 3600
TABLE_NAME = "navigator_seen_events"
REDIS_PREFIX = "navigator:seen:"
_PURGE_EVERY = 500


class SeenEvents(Protocol):
    """A record of event keys taken by a channel."""

    async def first_sighting(self, key: str) -> bool:
        """Record ``key``. Returns True only for the first caller (in any process sharing the store) within the
        key's time to live, False for every later one."""

    async def close(self) -> None:
        """Release connections; the store is not used afterwards."""


def digest(key: str) -> str:
    """The stored form of a key: the hex SHA-256 of its UTF-8 bytes (64 characters)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class MemorySeenEvents:
    """Keys kept in this process (a single server, tests).

    Args:
        ttl_seconds: how long a key is remembered.
        clock: seconds since the epoch; tests pass a fake one.
    """

    def __init__(self, ttl_seconds: float = DEFAULT_TTL_SECONDS, clock: Callable[[], float] = time.time):
        self._ttl = ttl_seconds
        self._clock = clock
        self._expires: dict[str, float] = {}

    async def first_sighting(self, key: str) -> bool:
        now = self._clock()
        if len(self._expires) >= _PURGE_EVERY:
            self._expires = {k: t for k, t in self._expires.items() if t > now}
        stored = digest(key)
        if self._expires.get(stored, 0.0) > now:
            return False
        self._expires[stored] = now + self._ttl
        return True

    async def close(self) -> None:
        self._expires.clear()


class SqlSeenEvents:
    """Keys in a SQL table, shared by every process that uses the same database.

    Args:
        url: a SQLAlchemy URL (``sqlite:///FILE``, ``postgresql+psycopg2://…``); the table is created if missing.
        ttl_seconds: how long a key is remembered.
        clock: seconds since the epoch; tests pass a fake one.
    """

    def __init__(self, url: str, ttl_seconds: float = DEFAULT_TTL_SECONDS, clock: Callable[[], float] = time.time):
        import sqlalchemy as sa

        self._sa = sa
        self._ttl = ttl_seconds
        self._clock = clock
        self._engine = sa.create_engine(url, pool_pre_ping=True)
        metadata = sa.MetaData()
        self._table = sa.Table(TABLE_NAME, metadata,
                               sa.Column("key", sa.String(64), primary_key=True),
                               sa.Column("expires_at", sa.Float, nullable=False, index=True))
        metadata.create_all(self._engine)
        self._inserts = 0

    async def first_sighting(self, key: str) -> bool:
        # The database call is short; a thread keeps the server's event loop free while it runs.
        return await asyncio.to_thread(self._first_sighting, digest(key), self._clock())

    def _first_sighting(self, stored: str, now: float) -> bool:
        sa, table = self._sa, self._table
        try:
            with self._engine.begin() as connection:
                connection.execute(table.insert().values(key=stored, expires_at=now + self._ttl))
        except sa.exc.IntegrityError:
            # Seen before: it counts as new again only once it has expired, and then only for the one caller
            # whose update finds it still expired.
            with self._engine.begin() as connection:
                renewed = connection.execute(
                    table.update().where(table.c.key == stored, table.c.expires_at <= now)
                    .values(expires_at=now + self._ttl))
                return renewed.rowcount == 1
        self._inserts += 1
        if self._inserts % _PURGE_EVERY == 0:
            with self._engine.begin() as connection:
                connection.execute(table.delete().where(table.c.expires_at <= now))
        return True

    async def close(self) -> None:
        await asyncio.to_thread(self._engine.dispose)


class RedisSeenEvents:
    """Keys in Redis (``SET NX EX``), shared by every process that uses the same Redis database.

    Args:
        url: ``redis://HOST:PORT/DB`` (``rediss://`` for TLS).
        ttl_seconds: how long a key is remembered (whole seconds, at least 1).
        client: an existing ``redis.asyncio`` client (tests); otherwise one is made from ``url``.
    """

    def __init__(self, url: str, ttl_seconds: float = DEFAULT_TTL_SECONDS, client: Any = None):
        if client is None:
            import redis.asyncio as redis_asyncio

            client = redis_asyncio.from_url(url)
        self._client = client
        self._ttl = max(1, int(ttl_seconds))

    async def first_sighting(self, key: str) -> bool:
        return bool(await self._client.set(REDIS_PREFIX + digest(key), b"1", nx=True, ex=self._ttl))

    async def close(self) -> None:
        await self._client.close()


def open_seen_events(dedup_url: str, redis_url: str = "", *, ttl_seconds: float = DEFAULT_TTL_SECONDS) -> SeenEvents:
    """The store a channel's settings name: Redis when ``redis_url`` is set, else SQL at ``dedup_url``, else (both
    empty) this process's memory.

    Returns:
        A :class:`SeenEvents`.
    """
    if redis_url.strip():
        return RedisSeenEvents(redis_url.strip(), ttl_seconds)
    if dedup_url.strip():
        return SqlSeenEvents(dedup_url.strip(), ttl_seconds)
    return MemorySeenEvents(ttl_seconds)
