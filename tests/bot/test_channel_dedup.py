"""The shared record of platform events a channel has taken (bot/channel_dedup.py).

One contract, run on every store: the first sighting of a key wins, every later one within the time to live
loses, an expired key counts as new once, and two processes sharing the store agree (two store objects on the
same database stand for two Rasa servers).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from channel_dedup import (
    TABLE_NAME,
    MemorySeenEvents,
    RedisSeenEvents,
    SqlSeenEvents,
    digest,
    open_seen_events,
)


class FakeClock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.integration),
                        pytest.param("redis", marks=pytest.mark.integration)])
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path):
    """Builds stores of the kind under test that share one database: ``make_store(ttl, clock)``."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'seen.db'}"
    elif kind == "postgresql":
        url = request.getfixturevalue("postgres_url")
    elif kind == "redis":
        url = request.getfixturevalue("redis_url")
    memory: list[MemorySeenEvents] = []

    def make(ttl: float = 60.0, clock: FakeClock | None = None):
        clock = clock or FakeClock()
        if kind == "memory":
            # One process: every "server" is the same object.
            if not memory:
                memory.append(MemorySeenEvents(ttl, clock))
            store = memory[0]
        elif kind == "redis":
            store = RedisSeenEvents(url, ttl)
        else:
            store = SqlSeenEvents(url, ttl, clock)
        return store

    return make


async def test_first_sighting_wins_and_repeats_lose(make_store) -> None:
    store = make_store()
    assert await store.first_sighting("slack:Ev001") is True
    assert [await store.first_sighting("slack:Ev001") for _ in range(4)] == [False] * 4
    assert await store.first_sighting("slack:Ev002") is True
    assert await store.first_sighting("teams:Ev001") is True
    await store.close()


async def test_two_servers_sharing_the_store_take_each_event_once(make_store) -> None:
    first, second = make_store(), make_store()
    keys = [f"slack:Ev{i:04d}" for i in range(40)]
    # Every key is offered to both servers at the same time, twice each.
    results = await asyncio.gather(*(store.first_sighting(key) for key in keys for store in (first, second, second,
                                                                                               first)))
    taken = [sum(results[i * 4:(i + 1) * 4]) for i in range(len(keys))]
    assert taken == [1] * len(keys)
    await first.close()
    await second.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
async def test_an_expired_key_is_new_again_once(make_store) -> None:
    # Redis expires keys by its own clock: see test_redis_keys_carry_the_time_to_live.
    clock = FakeClock()
    store = make_store(ttl=60.0, clock=clock)
    assert await store.first_sighting("k") is True
    clock.now += 59
    assert await store.first_sighting("k") is False
    clock.now += 2
    assert await store.first_sighting("k") is True
    assert await store.first_sighting("k") is False
    await store.close()


@pytest.mark.integration
async def test_redis_keys_carry_the_time_to_live(redis_url: str) -> None:
    import redis.asyncio as redis_asyncio

    store = RedisSeenEvents(redis_url, ttl_seconds=120)
    assert await store.first_sighting("slack:Ev9") is True
    client = redis_asyncio.from_url(redis_url)
    keys = [key.decode() async for key in client.scan_iter("navigator:seen:*")]
    assert keys == ["navigator:seen:" + digest("slack:Ev9")]
    assert 110 <= await client.ttl(keys[0]) <= 120
    await client.close()
    await store.close()


async def test_keys_are_stored_as_digests_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'seen.db'}"
    store = SqlSeenEvents(url)
    await store.first_sighting("slack:T1:U0PERSONAL:Ev1")
    await store.close()
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        stored = [row[0] for row in connection.execute(sa.text(f"SELECT key FROM {TABLE_NAME}"))]
    engine.dispose()
    assert stored == [digest("slack:T1:U0PERSONAL:Ev1")]
    assert "U0PERSONAL" not in stored[0] and len(stored[0]) == 64


def test_the_settings_choose_the_store(tmp_path: Path) -> None:
    assert isinstance(open_seen_events("", ""), MemorySeenEvents)
    sql = open_seen_events(f"sqlite:///{tmp_path / 'seen.db'}", "")
    assert isinstance(sql, SqlSeenEvents)
    asyncio.run(sql.close())
    assert isinstance(open_seen_events(f"sqlite:///{tmp_path / 'seen.db'}", "redis://127.0.0.1:1/0"),
                      RedisSeenEvents)
