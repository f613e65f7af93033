"""What a user message must pass before Rasa reads it, so that one user cannot slow the assistant down for everyone.

Rasa's NLU runs in the Rasa server's only event loop: a 100,000-character message took 56.7 s to answer, and
while one was read every other user waited. Rasa also reads any text that starts with ``/`` as an intent with
entities (``/request_support{"company": "<script>x</script>"}``), whatever a user types. So, in this order:

1. **Rate** (:mod:`rate_limit`): a token bucket per sender and, when the channel knows it, per client address
   (:mod:`message_origin`). A message over either limit gets ``utter_slow_down`` once; the next ones are dropped
   without an answer until a token has grown back. Counted first, so that a flood of oversized messages is
   silenced too. A dropped message's (empty) answer is held back for ``drop_hold_seconds``
   (:meth:`InputGuard.hold_dropped`): a client that waits for each answer, as an HTTP client does, can then send
   one message per connection per hold instead of as many as the server can receive, each of which costs the
   server's one event loop a request to read and answer even when it is dropped.
2. **Size**: a message longer than ``max_message_chars`` characters gets ``utter_message_over_limit`` (with the
   limit) and goes no further: no NLU, no tracker event.
3. **Text that can be stored**: a lone UTF-16 surrogate (JSON carries one as ``"\ud800"``, and Python's and
   ujson's parsers let it through) is replaced by U+FFFD, as a browser shows it, and NUL characters are removed.
   UTF-8 cannot encode the one and PostgreSQL's text refuses the other, so they fail where the text is written:
   a need with a lone surrogate failed the search action as it wrote the need to the demand log.
4. **Payloads only from buttons**: a message in Rasa's payload syntax is taken as a payload only when it is one
   the bot offered in this conversation's current session (the buttons of its bot messages, read from the
   tracker store by the caller, and only for such messages), when it is one of :data:`OPEN_PAYLOADS` (entity-free
   intents anyone may send, such as the widget's opening ``/greet``), or when the channel built it
   (:attr:`message_origin.MessageOrigin.channel_built`). Anything else is kept as plain text with its leading
   slashes removed, which Rasa's payload parser does not take.

The rule accepts the buttons of earlier turns of the session, not only of the last one: the website widget shows
buttons under every message and Slack and Teams keep old cards clickable, and a click on the "Details" of a
result list after asking about another result must keep working. A payload from an earlier session, or one no
button carried, is text.

Every event is counted (:class:`GuardCounters`, with no sender or address in it). No Rasa or Sanic import: the
Rasa side (bot/guarded_agent.py) reads the tracker and utters the answers.
"""

from __future__ import annotations

import asyncio
import enum
import re
import threading
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from message_origin import MessageOrigin, TrustedProxies, client_address
from rate_limit import Buckets, Rate, Verdict

PAYLOAD_PREFIX = "/"
"""Rasa's payload syntax (``rasa.shared.constants.INTENT_MESSAGE_PREFIX``), looked for after leading whitespace
as Rasa does."""

OPEN_PAYLOADS = frozenset({"/greet"})
"""Payloads anyone may send: no entities, and the same answer as typing "hello". The widget opens a conversation
with ``/greet`` (web/static/widget/widget.js), and Teams greets with it when the bot is added."""

DEFAULT_MAX_MESSAGE_CHARS = 2000
DEFAULT_SENDER_RATE = Rate(20, 60, 10)
DEFAULT_ADDRESS_RATE = Rate(120, 60, 60)
CHARS_PER_TOKEN = 500
"""A message takes one token of each rate limit per this many characters begun: NLU time grows with the length
(docs/input-limits.md), so a 2,000-character message costs four tokens and a 40-character one one."""
DEFAULT_DROP_HOLD_SECONDS = 2.0
MAX_DROP_HOLD_SECONDS = 60.0
MAX_HELD = 1000
"""The most dropped messages held back at once (per Rasa server); beyond it a dropped message is answered at once,
so that a client opening ever more connections cannot make the server keep ever more of them waiting."""

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

OVER_LIMIT_RESPONSE = "utter_message_over_limit"
METRIC = "navigator_input_guard_total"
SLOW_DOWN_RESPONSE = "utter_slow_down"


class Outcome(enum.Enum):
    """What the guard does with one message."""

    PASS = "pass"
    """Rasa handles it (its text possibly rewritten)."""
    REFUSE = "refuse"
    """Answer ``utter_message_over_limit``; Rasa never sees it."""
    SLOW_DOWN = "slow_down"
    """Answer ``utter_slow_down``; Rasa never sees it."""
    DROP = "drop"
    """No answer; Rasa never sees it."""


class Reason(enum.Enum):
    """Why the guard stepped in (the ``reason`` label of the counters)."""

    SIZE = "size"
    RATE_SENDER = "rate_sender"
    RATE_ADDRESS = "rate_address"
    ENCODING = "encoding"
    PAYLOAD = "payload"


@dataclass(frozen=True)
class Admission:
    """The guard's decision on one message.

    Attributes:
        outcome: what to do with it.
        text: the text to hand to Rasa (for :attr:`Outcome.PASS`; a payload not offered is rewritten, a lone
            surrogate replaced).
        reason: why the guard stepped in (the last reason when there were two), or None when it passed unchanged.
    """

    outcome: Outcome
    text: str | None
    reason: Reason | None = None


@dataclass(frozen=True)
class GuardSettings:
    """The limits, from the action relay's ``input_guard`` entry in credentials.yml (written by the launcher from
    ``NAVIGATOR_MAX_MESSAGE_CHARS``, ``NAVIGATOR_SENDER_RATE``, ``NAVIGATOR_ADDRESS_RATE`` and their bursts,
    ``NAVIGATOR_TRUSTED_PROXIES`` and ``NAVIGATOR_REDIS_URL``).

    Attributes:
        max_message_chars: the longest message read, in characters (Unicode code points) after Rasa's trimming.
        sender_rate: the bucket per sender id, or None for no limit.
        address_rate: the bucket per client address, or None for no limit.
        trusted_proxies: whose ``X-Forwarded-For`` is believed.
        redis_url: the buckets' Redis (shared by several Rasa servers), or empty for this process's memory.
        drop_hold_seconds: how long a dropped message's (empty) answer is held back; 0 answers it at once.
    """

    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS
    sender_rate: Rate | None = DEFAULT_SENDER_RATE
    address_rate: Rate | None = DEFAULT_ADDRESS_RATE
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)
    redis_url: str = field(default="", repr=False)
    drop_hold_seconds: float = DEFAULT_DROP_HOLD_SECONDS

    @classmethod
    def from_credentials(cls, given: Mapping[str, Any] | None) -> GuardSettings:
        """From ``{"max_message_chars": 2000, "sender_rate": {"messages": 20, "seconds": 60, "burst": 10} | null,
        "address_rate": {...} | null, "trusted_proxies": [...], "redis_url": "...", "drop_hold_seconds": 2.0}``;
        missing keys keep their
        defaults, so that a credentials.yml without the entry gets the default limits.

        Raises:
            ValueError: a value cannot be used; the message names the key.
        """
        given = dict(given or {})
        unknown = sorted(set(given) - {"max_message_chars", "sender_rate", "address_rate", "trusted_proxies",
                                       "redis_url", "drop_hold_seconds"})
        if unknown:
            raise ValueError(f"unknown input_guard setting(s) {', '.join(unknown)} in the action relay's credentials")
        defaults = cls()
        try:
            limit = int(given.get("max_message_chars", defaults.max_message_chars))
        except (TypeError, ValueError, OverflowError):
            raise ValueError("input_guard.max_message_chars must be a whole number") from None
        if limit < 1:
            raise ValueError(f"input_guard.max_message_chars must be at least 1, got {limit}")
        proxies = given.get("trusted_proxies") or []
        if isinstance(proxies, str):
            proxies = proxies.split(",")
        if not isinstance(proxies, list | tuple):
            raise ValueError("input_guard.trusted_proxies must be a list of addresses or networks, or one "  # noqa: TRY004
                             "comma-separated text")
        return cls(limit, _rate(given, "sender_rate", defaults.sender_rate),
                   _rate(given, "address_rate", defaults.address_rate), TrustedProxies(proxies),
                   str(given.get("redis_url") or ""), _hold(given, defaults.drop_hold_seconds))


def _hold(given: Mapping[str, Any], default: float) -> float:
    try:
        seconds = float(given.get("drop_hold_seconds", default))
    except (TypeError, ValueError):
        raise ValueError("input_guard.drop_hold_seconds must be a number of seconds") from None
    if not 0 <= seconds <= MAX_DROP_HOLD_SECONDS:
        raise ValueError(f"input_guard.drop_hold_seconds must be from 0 to {MAX_DROP_HOLD_SECONDS:g}, got {seconds}")
    return seconds


def _rate(given: Mapping[str, Any], key: str, default: Rate | None) -> Rate | None:
    if key not in given:
        return default
    value = given[key]
    if value is None:
        return None
    try:
        return Rate(int(value["messages"]), float(value["seconds"]), int(value["burst"]))
    except (TypeError, KeyError, ValueError, OverflowError) as error:
        raise ValueError(f"input_guard.{key} must be null or {{messages, seconds, burst}} with positive numbers: "
                         f"{error}") from None


def is_payload(text: str | None) -> bool:
    """Whether Rasa would read ``text`` as a payload: it starts with ``/`` once leading whitespace is removed."""
    return bool(text) and text.strip().startswith(PAYLOAD_PREFIX)  # type: ignore[union-attr]


def well_formed(text: str) -> str:
    """``text`` as UTF-8 and PostgreSQL can carry it: a surrogate pair kept as two code points becomes its one
    character, a lone surrogate becomes U+FFFD (the replacement character) and NUL characters are removed; any
    other text is returned as it is."""
    if _UNSTORABLE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").replace("\x00", "")


def as_plain_text(text: str) -> str:
    """``text`` without the leading whitespace and slashes that make Rasa read it as a payload (``/greet`` becomes
    ``greet``); a text of nothing but slashes stays as it is, since Rasa does not take it as a payload."""
    stripped = text.strip()
    while stripped.startswith(PAYLOAD_PREFIX):
        stripped = stripped[len(PAYLOAD_PREFIX):].strip()
    return stripped or text


class GuardCounters:
    """How often the guard stepped in, by reason and outcome; no sender, address or text is kept.

    Counted from the server's event loop, read by the metrics route; the lock makes reads from other threads
    (a test) consistent.
    """

    OUTCOMES: ClassVar[dict[Reason, tuple[str, ...]]] = {
        Reason.SIZE: ("refuse",), Reason.RATE_SENDER: ("slow_down", "drop"),
        Reason.RATE_ADDRESS: ("slow_down", "drop"), Reason.ENCODING: ("repair",), Reason.PAYLOAD: ("rewrite",)}

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = {(reason.value, outcome): 0 for reason, outcomes in self.OUTCOMES.items()
                        for outcome in outcomes}

    def count(self, reason: Reason, outcome: str) -> None:
        with self._lock:
            self._counts[(reason.value, outcome)] = self._counts.get((reason.value, outcome), 0) + 1

    def snapshot(self) -> dict[tuple[str, str], int]:
        """``{(reason, outcome): count}``, every known pair included (zero until it happens)."""
        with self._lock:
            return dict(self._counts)

    def prometheus_text(self) -> str:
        """The counters in Prometheus' text exposition format (version 0.0.4)."""
        about = ("Messages the input guard held back or changed before Rasa read them, by reason (size, rate_sender, "
                 "rate_address, encoding, payload) and outcome.")
        lines = [f"# HELP {METRIC} {about}", f"# TYPE {METRIC} counter"]
        for (reason, outcome), count in sorted(self.snapshot().items()):
            lines.append(f'{METRIC}{{reason="{reason}",outcome="{outcome}"}} {count}')
        return "\n".join(lines) + "\n"


class InputGuard:
    """Decides what happens to each message; see the module's description.

    Args:
        settings: the limits.
        buckets: where the rate limits' tokens are kept.
        counters: where events are counted (a new set when not given).
        sleep: waits a number of seconds (tests pass a fake one).
        max_held: the most dropped messages held back at once.
    """

    def __init__(self, settings: GuardSettings, buckets: Buckets, counters: GuardCounters | None = None, *,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep, max_held: int = MAX_HELD):
        self.settings = settings
        self.buckets = buckets
        self.counters = counters or GuardCounters()
        self._sleep = sleep
        self._max_held = max_held
        self.held = 0
        """Dropped messages being held back now."""

    async def hold_dropped(self) -> bool:
        """Wait ``drop_hold_seconds`` before a dropped message is answered (with nothing), unless :data:`MAX_HELD`
        are held already; other messages go on meanwhile. Returns whether it waited."""
        if self.settings.drop_hold_seconds <= 0 or self.held >= self._max_held:
            return False
        self.held += 1
        try:
            await self._sleep(self.settings.drop_hold_seconds)
        finally:
            self.held -= 1
        return True

    async def admit(self, text: str | None, sender_id: str, origin: MessageOrigin | None,
                    offered: Callable[[], Awaitable[Collection[str]]]) -> Admission:
        """The decision on one message.

        Args:
            text: the message as Rasa would read it (its channel has trimmed it).
            sender_id: the conversation.
            origin: what the channel saw (None when it gave nothing, or a user forged it).
            offered: the payloads the bot offered in the conversation's current session; called only for a text in
                the payload syntax that is neither open nor built by the channel.
        """
        slowed = await self._rate(sender_id, origin, self.cost(text))
        if slowed is not None:
            return slowed
        if text is not None and len(text) > self.settings.max_message_chars:
            self.counters.count(Reason.SIZE, "refuse")
            return Admission(Outcome.REFUSE, None, Reason.SIZE)
        repaired = None
        if text is not None and (fixed := well_formed(text)) != text:
            self.counters.count(Reason.ENCODING, "repair")
            text, repaired = fixed, Reason.ENCODING
        if not is_payload(text) or (origin is not None and origin.channel_built):
            return Admission(Outcome.PASS, text, repaired)
        payload = text.strip()  # type: ignore[union-attr]
        if payload in OPEN_PAYLOADS or payload in {p.strip() for p in await offered()}:
            return Admission(Outcome.PASS, text, repaired)
        self.counters.count(Reason.PAYLOAD, "rewrite")
        return Admission(Outcome.PASS, as_plain_text(text), Reason.PAYLOAD)  # type: ignore[arg-type]

    def cost(self, text: str | None) -> int:
        """The tokens a message takes: one per :data:`CHARS_PER_TOKEN` characters begun, and one for a message over
        the size limit, which is refused unread (the buckets take at most their burst)."""
        if not text or len(text) > self.settings.max_message_chars:
            return 1
        return -(-len(text) // CHARS_PER_TOKEN)

    async def _rate(self, sender_id: str, origin: MessageOrigin | None, cost: int) -> Admission | None:
        """The admission of a message of ``cost`` tokens over a rate limit, or None when it is within both."""
        checks: list[tuple[Reason, str, Rate]] = []
        if self.settings.sender_rate is not None:
            checks.append((Reason.RATE_SENDER, f"sender:{sender_id}", self.settings.sender_rate))
        address = client_address(origin, self.settings.trusted_proxies) if self.settings.address_rate else None
        if address is not None and self.settings.address_rate is not None:
            checks.append((Reason.RATE_ADDRESS, f"address:{address}", self.settings.address_rate))
        for reason, key, rate in checks:
            verdict = await self.buckets.take(key, rate, cost)
            if verdict is Verdict.WARN:
                self.counters.count(reason, "slow_down")
                return Admission(Outcome.SLOW_DOWN, None, reason)
            if verdict is Verdict.DROP:
                self.counters.count(reason, "drop")
                return Admission(Outcome.DROP, None, reason)
        return None
