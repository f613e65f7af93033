"""The token buckets of the input guard (bot/rate_limit.py).

One contract, run on both stores with a clock the test moves by hand: a burst is let through, the first message
over it is answered "slow down" and the next ones are dropped, a token grows back at the rate and clears the
warning, a bucket never holds more than its burst, keys do not share tokens, and a clock that goes back refills
nothing. Two store objects on one Redis database stand for two Rasa servers: they share every token, even when
they take them at the same moment.
"""

from __future__ import annotations

import asyncio

import pytest
from rate_limit import REDIS_PREFIX, MemoryBuckets, Rate, RedisBuckets, Verdict, open_buckets

ALLOW, WARN, DROP = Verdict.ALLOW, Verdict.WARN, Verdict.DROP
TEN_A_MINUTE = Rate(messages=10, seconds=60, burst=4)  # a token every 6 s, at most 4 at once


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def make_buckets(request: pytest.FixtureRequest):
    """Builds buckets of the kind under test that share one store: ``make_buckets(clock)``. In memory every
    "server" is the same object (one process); in Redis each is a client of its own."""
    made: list[MemoryBuckets | RedisBuckets] = []

    def make(clock: FakeClock) -> MemoryBuckets | RedisBuckets:
        if request.param == "memory":
            if not made:
                made.append(MemoryBuckets(clock))
            return made[0]
        buckets = RedisBuckets(request.getfixturevalue("redis_url"), clock=clock)
        made.append(buckets)
        return buckets

    return make


async def take(buckets, key: str, times: int, rate: Rate = TEN_A_MINUTE) -> list[Verdict]:
    return [await buckets.take(key, rate) for _ in range(times)]


async def test_below_at_and_above_the_burst(make_buckets) -> None:
    clock = FakeClock()
    buckets = make_buckets(clock)
    assert await take(buckets, "sender:a", 3) == [ALLOW] * 3  # below
    assert await take(buckets, "sender:a", 1) == [ALLOW]  # at: the fourth of a burst of four
    assert await take(buckets, "sender:a", 4) == [WARN, DROP, DROP, DROP]  # above: told once, then silence
    await buckets.close()


async def test_a_token_grows_back_at_the_rate_and_clears_the_warning(make_buckets) -> None:
    clock = FakeClock()
    buckets = make_buckets(clock)
    await take(buckets, "sender:a", 5)
    clock.now += 5.9  # not quite a token (one every 6 s)
    assert await take(buckets, "sender:a", 1) == [DROP]
    clock.now += 0.1
    assert await take(buckets, "sender:a", 1) == [ALLOW]
    # Writing too fast again is told again.
    assert await take(buckets, "sender:a", 2) == [WARN, DROP]
    clock.now += 12  # two tokens
    assert await take(buckets, "sender:a", 3) == [ALLOW, ALLOW, WARN]
    await buckets.close()


async def test_a_bucket_never_holds_more_than_its_burst(make_buckets) -> None:
    clock = FakeClock()
    buckets = make_buckets(clock)
    await take(buckets, "sender:a", 1)
    clock.now += 3600
    assert await take(buckets, "sender:a", 5) == [ALLOW] * 4 + [WARN]
    await buckets.close()


async def test_a_message_takes_its_cost_in_tokens_never_more_than_the_burst(make_buckets) -> None:
    clock = FakeClock()
    buckets = make_buckets(clock)
    assert await buckets.take("sender:a", TEN_A_MINUTE, 3) is ALLOW  # 4 - 3: one left
    assert [await buckets.take("sender:a", TEN_A_MINUTE, 2) for _ in range(2)] == [WARN, DROP]
    assert await buckets.take("sender:a", TEN_A_MINUTE, 1) is ALLOW  # the one left, and the warning cleared
    clock.now += 12  # two tokens: not yet enough for three
    assert await buckets.take("sender:a", TEN_A_MINUTE, 3) is WARN
    clock.now += 6
    assert await buckets.take("sender:a", TEN_A_MINUTE, 3) is ALLOW
    # A cost above the burst is the burst: a full bucket lets it through once.
    assert await buckets.take("sender:b", TEN_A_MINUTE, 100) is ALLOW
    assert await buckets.take("sender:b", TEN_A_MINUTE, 1) is WARN
    await buckets.close()


async def test_keys_have_buckets_of_their_own(make_buckets) -> None:
    clock = FakeClock()
    buckets = make_buckets(clock)
    assert await take(buckets, "sender:a", 5) == [ALLOW] * 4 + [WARN]
    assert await take(buckets, "sender:b", 4) == [ALLOW] * 4
    assert await take(buckets, "address:192.0.2.1", 1, Rate(1, 60, 1)) == [ALLOW]
    assert await take(buckets, "address:192.0.2.1", 1, Rate(1, 60, 1)) == [WARN]
    await buckets.close()


async def test_a_clock_that_goes_back_refills_nothing(make_buckets) -> None:
    clock = FakeClock()
    buckets = make_buckets(clock)
    await take(buckets, "sender:a", 5)
    clock.now -= 3600
    assert await take(buckets, "sender:a", 1) == [DROP]
    clock.now += 3600 + 6  # one token after the latest time seen, not after the earlier one
    assert await take(buckets, "sender:a", 2) == [ALLOW, WARN]
    await buckets.close()


@pytest.mark.integration
async def test_two_servers_share_the_tokens_of_a_bucket(redis_url: str) -> None:
    clock = FakeClock()
    first, second = RedisBuckets(redis_url, clock=clock), RedisBuckets(redis_url, clock=clock)
    rate = Rate(messages=25, seconds=3600, burst=25)  # a token every 144 s
    # 60 messages of one sender reach the two servers at the same moment.
    verdicts = await asyncio.gather(*(server.take("sender:shared", rate) for _ in range(30)
                                      for server in (first, second)))
    assert verdicts.count(ALLOW) == 25 and verdicts.count(WARN) == 1 and verdicts.count(DROP) == 34
    # The warning is shared too: the other server does not warn again.
    assert await first.take("sender:shared", rate) == DROP
    assert await second.take("sender:shared", rate) == DROP
    clock.now += 144  # one token
    assert await second.take("sender:shared", rate) == ALLOW
    assert await first.take("sender:shared", rate) == WARN
    await first.close()
    await second.close()


@pytest.mark.integration
async def test_redis_keeps_digests_that_expire_once_the_bucket_would_be_full(redis_url: str) -> None:
    import redis.asyncio as redis_asyncio

    buckets = RedisBuckets(redis_url, clock=FakeClock())
    await buckets.take("sender:slack-0123456789abcdef", TEN_A_MINUTE)
    client = redis_asyncio.from_url(redis_url)
    keys = [key.decode() async for key in client.scan_iter(REDIS_PREFIX + "*")]
    assert keys == [buckets.key("sender:slack-0123456789abcdef")]
    assert "slack-" not in keys[0] and len(keys[0]) == len(REDIS_PREFIX) + 64
    # Full again after 4 tokens at one every 6 s: 24 s, and a second's margin.
    assert 24_000 < await client.pttl(keys[0]) <= 25_000
    await client.close()
    await buckets.close()


async def test_memory_forgets_buckets_that_are_full_again_and_keeps_at_most_max_keys() -> None:
    clock = FakeClock()
    buckets = MemoryBuckets(clock, max_keys=3)
    for sender in ("a", "b", "c", "d"):
        await buckets.take(f"sender:{sender}", TEN_A_MINUTE)
    assert len(buckets) == 3  # "a", the least recently used, was forgotten
    clock.now += 10
    assert await take(buckets, "sender:a", 4) == [ALLOW] * 4  # ... and starts again with a full bucket ("b" goes)
    clock.now += 20  # "c" and "d" (3 tokens left 30 s ago) are full again: nothing to remember
    await buckets.take("sender:e", TEN_A_MINUTE)
    assert len(buckets) == 2  # "a" (emptied 20 s ago) and "e"
    assert await take(buckets, "sender:a", 4) == [ALLOW, ALLOW, ALLOW, WARN]  # 20 s: three tokens grew back


def test_a_rate_needs_positive_numbers() -> None:
    assert TEN_A_MINUTE.per_second == pytest.approx(1 / 6) and TEN_A_MINUTE.full_after == pytest.approx(24)
    for messages, seconds, burst in ((0, 60, 1), (1, 0, 1), (1, 60, 0)):
        with pytest.raises(ValueError, match="a rate needs"):
            Rate(messages, seconds, burst)


def test_the_settings_choose_the_store() -> None:
    assert isinstance(open_buckets(""), MemoryBuckets)
    assert isinstance(open_buckets("redis://127.0.0.1:1/0"), RedisBuckets)
