"""Token buckets that hold back one sender or one client address that writes faster than the assistant should
answer: in this process, or in Redis so that several Rasa servers share them.

A bucket holds at most ``burst`` tokens and gains ``messages / seconds`` tokens a second. A message takes its
cost in tokens (one, unless the caller says more; never more than the burst). When the bucket holds fewer, the
first message held back is answered once ("slow down", :attr:`Verdict.WARN`), and the next ones are dropped
without an answer (:attr:`Verdict.DROP`) until enough tokens have grown back; the message that takes them clears
the warning, so that someone who writes too fast again is told again.

- :class:`MemoryBuckets`: one process (``make run``, tests). Buckets of keys unseen for long enough to be full
  again are forgotten, and at most ``max_keys`` are kept (the least recently used go first).
- :class:`RedisBuckets`: one hash per key in Redis, changed by one Lua script, which Redis runs atomically, so
  that two servers taking a token at once cannot both take the last one. Keys are SHA-256 digests of what they
  count (a sender id or an address is personal data) and expire once the bucket would be full again.

Time comes from the ``clock`` given (seconds since the epoch), also for Redis (passed to the script), so that
tests move it by hand; a clock that goes back refills nothing.

Runs inside the Rasa server (Python 3.10, redis 4.6) and in the tests (Python 3.11): it imports neither Rasa
nor anything of Navigator's.
"""

from __future__ import annotations

import enum
import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_MAX_KEYS = 100_000
REDIS_PREFIX = "navigator:rate:"


class Verdict(enum.Enum):
    """What to do with one message, as far as one bucket is concerned."""

    ALLOW = "allow"
    """A token was taken: the message goes on."""
    WARN = "warn"
    """No token, and the first message held back since the last one let through: answer it with "slow down"."""
    DROP = "drop"
    """No token, and the sender was told already: drop the message without an answer."""


@dataclass(frozen=True)
class Rate:
    """The shape of a bucket: ``messages`` per ``seconds`` on average, at most ``burst`` at once.

    Raises:
        ValueError: a number is not positive, or the window is not finite (infinity, NaN).
    """

    messages: int
    seconds: float
    burst: int

    def __post_init__(self) -> None:
        if self.messages < 1 or not 0 < self.seconds < math.inf or self.burst < 1:
            raise ValueError(f"a rate needs at least one message, a positive window and a burst of at least one, "
                             f"got {self.messages}/{self.seconds} s, burst {self.burst}")

    @property
    def per_second(self) -> float:
        """Tokens gained per second."""
        return self.messages / self.seconds

    @property
    def full_after(self) -> float:
        """Seconds an empty bucket takes to be full again."""
        return self.burst / self.per_second

    def describe(self) -> str:
        """``20/60s burst 10``."""
        return f"{self.messages}/{self.seconds:g}s burst {self.burst}"


class Buckets(Protocol):
    """Token buckets by key."""

    async def take(self, key: str, rate: Rate, cost: int = 1) -> Verdict:
        """Take ``cost`` tokens (at most the burst) from the bucket of ``key`` (shaped by ``rate``), and say what to
        do with the message."""

    async def close(self) -> None:
        """Release connections; the buckets are not used afterwards."""


def _verdict(tokens: float, warned: bool, cost: int) -> tuple[float, bool, Verdict]:
    """The bucket's tokens and warning after one message of ``cost`` tokens, and the verdict; shared by both stores
    (the Lua script below does the same)."""
    if tokens >= cost:
        return tokens - cost, False, Verdict.ALLOW
    if not warned:
        return tokens, True, Verdict.WARN
    return tokens, True, Verdict.DROP


class MemoryBuckets:
    """Buckets in this process.

    Args:
        clock: seconds since the epoch; tests pass a fake one.
        max_keys: the most buckets kept; beyond it the least recently used one is forgotten (its key starts again
            with a full bucket).
    """

    def __init__(self, clock: Callable[[], float] = time.time, max_keys: int = DEFAULT_MAX_KEYS):
        self._clock = clock
        self._max_keys = max_keys
        # key -> [tokens, stamp, warned, full_after], least recently used first.
        self._buckets: OrderedDict[str, list[Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    async def take(self, key: str, rate: Rate, cost: int = 1) -> Verdict:
        return self.take_now(key, rate, cost)

    def take_now(self, key: str, rate: Rate, cost: int = 1) -> Verdict:
        """:meth:`take` without the coroutine (the guard's fast path)."""
        now = self._clock()
        self._forget_full(now)
        state = self._buckets.pop(key, None)
        if state is None:
            tokens, stamp, warned = float(rate.burst), now, False
        else:
            tokens, stamp, warned = state[0], state[1], state[2]
            if now > stamp:
                tokens, stamp = min(float(rate.burst), tokens + (now - stamp) * rate.per_second), now
        tokens, warned, verdict = _verdict(tokens, warned, _bounded(cost, rate))
        self._buckets[key] = [tokens, stamp, warned, rate.full_after]
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return verdict

    def _forget_full(self, now: float) -> None:
        """Drop the least recently used buckets while they would be full again by now (a new one is the same)."""
        while self._buckets:
            state = next(iter(self._buckets.values()))
            if state[1] + state[3] > now:
                return
            self._buckets.popitem(last=False)

    async def close(self) -> None:
        self._buckets.clear()


# KEYS[1]: the bucket (a hash of tokens, stamp, warned). ARGV: now (s), burst, tokens per second, lifetime in ms,
# the message's cost in tokens.
# Returns 0 (allow), 1 (warn) or 2 (drop). Numbers are kept as strings with 17 significant digits, so that
# nothing is lost between calls.
_TAKE = """
local now = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local per_second = tonumber(ARGV[3])
local cost = tonumber(ARGV[5])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp', 'warned')
local tokens = tonumber(state[1])
local stamp = tonumber(state[2])
local warned = state[3] == '1'
if tokens == nil or stamp == nil then
  tokens = burst
  stamp = now
  warned = false
elseif now > stamp then
  tokens = math.min(burst, tokens + (now - stamp) * per_second)
  stamp = now
end
local verdict
if tokens >= cost then
  tokens = tokens - cost
  warned = false
  verdict = 0
elseif not warned then
  warned = true
  verdict = 1
else
  verdict = 2
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'stamp', string.format('%.17g', stamp),
           'warned', warned and '1' or '0')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return verdict
"""

_VERDICTS = (Verdict.ALLOW, Verdict.WARN, Verdict.DROP)


class RedisBuckets:
    """Buckets in Redis, shared by every process that uses the same Redis database.

    Args:
        url: ``redis://HOST:PORT/DB`` (``rediss://`` for TLS).
        client: an existing ``redis.asyncio`` client (tests); otherwise one is made from ``url``, with timeouts of
            a few seconds (a Redis that does not answer fails the turn, which the turn guard apologises for).
        clock: seconds since the epoch; tests pass a fake one.
        prefix: the keys' prefix.

    Raises (from :meth:`take`):
        redis.RedisError: Redis cannot be used.
    """

    def __init__(self, url: str = "", client: Any = None, clock: Callable[[], float] = time.time,
                 prefix: str = REDIS_PREFIX):
        if client is None:
            import redis.asyncio as redis_asyncio

            client = redis_asyncio.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._client = client
        self._clock = clock
        self._prefix = prefix
        self._take = client.register_script(_TAKE)

    def key(self, key: str) -> str:
        """The Redis key of a bucket: the prefix and the SHA-256 of ``key`` (never the key itself)."""
        return self._prefix + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    async def take(self, key: str, rate: Rate, cost: int = 1) -> Verdict:
        lifetime_ms = math.ceil(rate.full_after * 1000) + 1000
        answer = await self._take(keys=[self.key(key)],
                                  args=[repr(float(self._clock())), rate.burst, repr(rate.per_second), lifetime_ms,
                                        _bounded(cost, rate)])
        return _VERDICTS[int(answer)]

    async def close(self) -> None:
        await self._client.close()


def _bounded(cost: int, rate: Rate) -> int:
    """A message's cost, from one token to the burst (a bucket never holds more)."""
    return max(1, min(int(cost), rate.burst))


def open_buckets(redis_url: str = "", *, clock: Callable[[], float] = time.time) -> Buckets:
    """Redis buckets when ``redis_url`` is set (several Rasa servers share them), else this process's."""
    if redis_url.strip():
        return RedisBuckets(redis_url.strip(), clock=clock)
    return MemoryBuckets(clock)
