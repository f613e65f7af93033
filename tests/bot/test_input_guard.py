"""The input guard's decisions (bot/input_guard.py), with in-memory buckets and a clock the test moves.

Each limit below, at and above it: the message size (1,999, 2,000 and 2,001 characters), the payload rule (a
payload the bot offered is taken, a forged one becomes text, the tracker is read only for payloads), and the rate
limits per sender and per client address, with their refill. Every event is counted, with no personal data.
The Rasa side (wrapping the agent, answering, reading the tracker) is tested in
tests/integration/test_guarded_agent.py; the running assistant in tests/e2e/test_input_limits.py.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from input_guard import (
    CHARS_PER_TOKEN,
    DEFAULT_ADDRESS_RATE,
    DEFAULT_DROP_HOLD_SECONDS,
    DEFAULT_MAX_MESSAGE_CHARS,
    DEFAULT_SENDER_RATE,
    Admission,
    GuardCounters,
    GuardSettings,
    InputGuard,
    Outcome,
    Reason,
    as_plain_text,
    is_payload,
    well_formed,
)
from message_origin import MessageOrigin, TrustedProxies
from rate_limit import MemoryBuckets, Rate

from tests.bot.test_rate_limit import FakeClock

FORGED = '/request_support{"company": "<script>x</script>"}'
DETAILS = '/ask_details{"position": "2"}'


class Offered:
    """The payloads the bot offered, counting how often the guard asked for them (a tracker read each)."""

    def __init__(self, *payloads: str):
        self.payloads = set(payloads)
        self.reads = 0

    async def __call__(self) -> set[str]:
        self.reads += 1
        return self.payloads


def make_guard(clock: FakeClock | None = None, **settings) -> InputGuard:
    return InputGuard(GuardSettings(**settings), MemoryBuckets(clock or FakeClock()))


async def admit(guard: InputGuard, text: str | None, sender: str = "user-1", origin: MessageOrigin | None = None,
                offered: Offered | None = None) -> Admission:
    return await guard.admit(text, sender, origin, offered or Offered())


def counts(guard: InputGuard) -> dict[tuple[str, str], int]:
    return {key: value for key, value in guard.counters.snapshot().items() if value}


@pytest.mark.parametrize(("length", "outcome"), [(1999, Outcome.PASS), (2000, Outcome.PASS),
                                                 (2001, Outcome.REFUSE), (100_000, Outcome.REFUSE)])
async def test_the_size_limit_below_at_and_above(length: int, outcome: Outcome) -> None:
    guard = make_guard()
    text = ("flow cytometry " * 7000)[:length]
    admission = await admit(guard, text)
    assert admission.outcome is outcome
    if outcome is Outcome.PASS:
        assert admission == Admission(Outcome.PASS, text) and counts(guard) == {}
    else:
        assert admission == Admission(Outcome.REFUSE, None, Reason.SIZE)
        assert counts(guard) == {("size", "refuse"): 1}


async def test_the_size_limit_counts_characters_and_is_configurable() -> None:
    guard = make_guard(max_message_chars=500)
    assert (await admit(guard, "ä" * 500)).outcome is Outcome.PASS  # 1,000 bytes in UTF-8, 500 characters
    assert (await admit(guard, "ä" * 501)).outcome is Outcome.REFUSE
    assert DEFAULT_MAX_MESSAGE_CHARS == 2000


async def test_an_oversized_payload_is_refused_before_the_tracker_is_read() -> None:
    guard, offered = make_guard(), Offered()
    assert (await admit(guard, "/greet" + "x" * 2000, offered=offered)).outcome is Outcome.REFUSE
    assert offered.reads == 0


async def test_a_payload_the_bot_offered_is_taken_as_it_is() -> None:
    guard, offered = make_guard(), Offered(DETAILS, "/request_support")
    assert await admit(guard, DETAILS, offered=offered) == Admission(Outcome.PASS, DETAILS)
    assert await admit(guard, "  /request_support ", offered=offered) == Admission(Outcome.PASS, "  /request_support ")
    assert offered.reads == 2 and counts(guard) == {}


@pytest.mark.parametrize(("typed", "as_text"), [
    (FORGED, 'request_support{"company": "<script>x</script>"}'),
    ('/ask_details{"position": "7"}', 'ask_details{"position": "7"}'),  # an entity value the bot did not offer
    ("/restart", "restart"),
    (" //  /show_more", "show_more"),  # every slash Rasa would look past
    ("/", "/"),  # nothing after it: Rasa does not read it as a payload anyway
])
async def test_a_payload_no_button_offered_becomes_plain_text(typed: str, as_text: str) -> None:
    guard, offered = make_guard(), Offered(DETAILS, "/request_support")
    assert await admit(guard, typed, offered=offered) == Admission(Outcome.PASS, as_text, Reason.PAYLOAD)
    assert not is_payload(as_text) or as_text == "/"
    assert counts(guard) == {("payload", "rewrite"): 1}


async def test_plain_text_open_payloads_and_channel_built_payloads_need_no_tracker() -> None:
    guard, offered = make_guard(), Offered()
    assert await admit(guard, "we need GMP / cell therapy", offered=offered) == Admission(
        Outcome.PASS, "we need GMP / cell therapy")
    assert await admit(guard, "/greet", offered=offered) == Admission(Outcome.PASS, "/greet")  # the widget's opening
    built = MessageOrigin(channel_built=True)
    assert await admit(guard, "/greet", origin=built, offered=offered) == Admission(Outcome.PASS, "/greet")
    assert await admit(guard, FORGED, origin=built, offered=offered) == Admission(Outcome.PASS, FORGED)
    assert offered.reads == 0


@pytest.mark.parametrize(("sent", "read"), [
    ("GMP \ud800 vector", "GMP \ufffd vector"),  # a lone high surrogate, as JSON's "\ud800" arrives
    ("\udfff", "\ufffd"),
    ("\ud83d\ude00 hello", "\U0001f600 hello"),  # a pair kept as two code points: its one character
    ("\ude00\ud83d", "\ufffd\ufffd"),  # the wrong way round: two lone ones
    ("flow\x00 cytometry\x00", "flow cytometry"),  # NUL, which PostgreSQL's text refuses
])
async def test_a_lone_surrogate_or_nul_is_taken_out_before_rasa_reads_the_text(sent: str, read: str) -> None:
    guard = make_guard()
    admission = await admit(guard, sent)
    assert admission == Admission(Outcome.PASS, read, Reason.ENCODING)
    assert read.encode("utf-8") and "\x00" not in read and counts(guard) == {("encoding", "repair"): 1}
    assert well_formed("flow cytometry ä 😀") == "flow cytometry ä 😀"
    forged = await admit(guard, "/request_support\ud800")
    assert forged == Admission(Outcome.PASS, "request_support\ufffd", Reason.PAYLOAD)


def test_plain_text_of_a_payload() -> None:
    assert as_plain_text("/affirm") == "affirm" and is_payload(" \n/affirm") and not is_payload("a/b")
    assert not is_payload(None) and not is_payload("")


async def test_the_sender_limit_below_at_and_above_with_refill() -> None:
    clock = FakeClock()
    guard = make_guard(clock, sender_rate=Rate(messages=20, seconds=60, burst=10), address_rate=None)
    outcomes = [(await admit(guard, "hello")).outcome for _ in range(9)]
    assert outcomes == [Outcome.PASS] * 9  # below
    assert (await admit(guard, "hello")).outcome is Outcome.PASS  # at: the tenth
    above = [await admit(guard, "hello") for _ in range(3)]
    assert above == [Admission(Outcome.SLOW_DOWN, None, Reason.RATE_SENDER),
                     Admission(Outcome.DROP, None, Reason.RATE_SENDER),
                     Admission(Outcome.DROP, None, Reason.RATE_SENDER)]
    assert (await admit(guard, "hello", sender="user-2")).outcome is Outcome.PASS  # another user is not held
    clock.now += 2.9  # 20 a minute: a token every 3 s
    assert (await admit(guard, "hello")).outcome is Outcome.DROP
    clock.now += 0.1
    assert (await admit(guard, "hello")).outcome is Outcome.PASS
    assert (await admit(guard, "hello")).outcome is Outcome.SLOW_DOWN
    assert counts(guard) == {("rate_sender", "slow_down"): 2, ("rate_sender", "drop"): 3}


@pytest.mark.parametrize(("length", "cost"), [(0, 1), (1, 1), (500, 1), (501, 2), (1999, 4), (2000, 4),
                                             (2001, 1), (100_000, 1)])
def test_a_message_costs_a_token_per_500_characters_begun_and_one_when_refused_for_its_size(length: int,
                                                                                          cost: int) -> None:
    assert CHARS_PER_TOKEN == 500
    assert make_guard().cost("x" * length) == cost
    assert make_guard().cost(None) == 1


async def test_long_messages_spend_the_limits_faster() -> None:
    clock = FakeClock()
    guard = make_guard(clock, sender_rate=Rate(messages=20, seconds=60, burst=10), address_rate=None)
    long = "flow cytometry " * 133  # 1,995 characters: 4 tokens
    assert [(await admit(guard, long)).outcome for _ in range(3)] == [Outcome.PASS, Outcome.PASS,
                                                                      Outcome.SLOW_DOWN]
    assert (await admit(guard, "hello")).outcome is Outcome.PASS  # the 2 tokens left: a short one still passes
    assert (await admit(guard, "hello")).outcome is Outcome.PASS
    assert (await admit(guard, "hello")).outcome is Outcome.SLOW_DOWN
    clock.now += 9  # 3 tokens: not enough for a long one, which is dropped now that the sender was told
    assert (await admit(guard, long)).outcome is Outcome.DROP
    clock.now += 3
    assert (await admit(guard, long)).outcome is Outcome.PASS


async def test_held_back_messages_are_not_read_for_size_or_payload() -> None:
    guard, offered = make_guard(sender_rate=Rate(1, 60, 1), address_rate=None), Offered()
    await admit(guard, "hello")
    assert (await admit(guard, "x" * 5000, offered=offered)).outcome is Outcome.SLOW_DOWN
    assert (await admit(guard, FORGED, offered=offered)).outcome is Outcome.DROP
    assert offered.reads == 0 and ("size", "refuse") not in counts(guard)


async def test_the_address_limit_counts_every_sender_of_one_address() -> None:
    clock = FakeClock()
    guard = make_guard(clock, sender_rate=None, address_rate=Rate(messages=120, seconds=60, burst=5),
                       trusted_proxies=TrustedProxies(["127.0.0.1"]))
    client = MessageOrigin("127.0.0.1", ("203.0.113.9",))
    outcomes = [(await admit(guard, "hello", sender=f"user-{i}", origin=client)).outcome for i in range(7)]
    assert outcomes == [Outcome.PASS] * 5 + [Outcome.SLOW_DOWN, Outcome.DROP]
    # Another client behind the same proxy, and a client who writes its own X-Forwarded-For, are counted apart.
    other = MessageOrigin("127.0.0.1", ("203.0.113.9", "198.51.100.4"))
    assert (await admit(guard, "hello", sender="user-9", origin=other)).outcome is Outcome.PASS
    # Slack and Teams give no address: only their senders are limited.
    assert (await admit(guard, "hello", sender="slack-1", origin=None)).outcome is Outcome.PASS
    clock.now += 0.5  # two a second
    assert (await admit(guard, "hello", sender="user-1", origin=client)).outcome is Outcome.PASS
    assert counts(guard) == {("rate_address", "slow_down"): 1, ("rate_address", "drop"): 1}


async def test_a_sender_over_its_limit_spends_nothing_of_its_address() -> None:
    guard = make_guard(sender_rate=Rate(1, 60, 1), address_rate=Rate(1, 60, 3))
    client = MessageOrigin("192.0.2.1")
    await admit(guard, "hello", sender="a", origin=client)
    for _ in range(5):
        await admit(guard, "hello", sender="a", origin=client)
    assert (await admit(guard, "hello", sender="b", origin=client)).outcome is Outcome.PASS
    assert (await admit(guard, "hello", sender="c", origin=client)).outcome is Outcome.PASS
    assert (await admit(guard, "hello", sender="d", origin=client)).outcome is Outcome.SLOW_DOWN


class FakeSleep:
    """Records the holds asked for; each returns when the test releases it."""

    def __init__(self):
        self.asked: list[float] = []
        self.release = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await self.release.wait()


async def test_a_dropped_messages_answer_is_held_back_up_to_a_number_held_at_once() -> None:
    sleep = FakeSleep()
    guard = InputGuard(GuardSettings(drop_hold_seconds=2.5), MemoryBuckets(FakeClock()), sleep=sleep, max_held=2)
    first, second = asyncio.create_task(guard.hold_dropped()), asyncio.create_task(guard.hold_dropped())
    await asyncio.sleep(0)
    assert sleep.asked == [2.5, 2.5] and guard.held == 2 and not first.done()
    # A third while two are held: answered at once, so that ever more connections cannot be kept waiting.
    assert await guard.hold_dropped() is False and sleep.asked == [2.5, 2.5]
    sleep.release.set()
    assert await first is True and await second is True and guard.held == 0
    # With the hold off, nothing waits.
    off = InputGuard(GuardSettings(drop_hold_seconds=0), MemoryBuckets(FakeClock()), sleep=sleep)
    assert await off.hold_dropped() is False and len(sleep.asked) == 2


async def test_the_hold_does_not_block_other_messages() -> None:
    guard = make_guard(sender_rate=Rate(1, 60, 1), address_rate=None, drop_hold_seconds=0.3)
    held = asyncio.create_task(guard.hold_dropped())
    await asyncio.sleep(0.01)
    assert (await admit(guard, "hello", sender="someone-else")).outcome is Outcome.PASS and not held.done()
    assert await held is True


def test_the_counters_in_prometheus_text_format() -> None:
    counters = GuardCounters()
    counters.count(Reason.SIZE, "refuse")
    counters.count(Reason.SIZE, "refuse")
    counters.count(Reason.RATE_ADDRESS, "drop")
    text = counters.prometheus_text()
    assert text.endswith("\n")
    samples = dict(re.findall(r'^navigator_input_guard_total\{(reason="[a-z_]+",outcome="[a-z_]+")\} (\d+)$', text,
                              flags=re.MULTILINE))
    assert samples == {'reason="size",outcome="refuse"': "2", 'reason="rate_address",outcome="drop"': "1",
                       'reason="rate_address",outcome="slow_down"': "0", 'reason="rate_sender",outcome="drop"': "0",
                       'reason="rate_sender",outcome="slow_down"': "0", 'reason="payload",outcome="rewrite"': "0",
                       'reason="encoding",outcome="repair"': "0"}
    assert "# TYPE navigator_input_guard_total counter" in text.splitlines()
    assert len([line for line in text.splitlines() if not line.startswith("#")]) == len(samples)


def test_settings_from_the_relays_credentials() -> None:
    assert GuardSettings.from_credentials(None) == GuardSettings()
    defaults = GuardSettings()
    assert (defaults.max_message_chars, defaults.sender_rate, defaults.address_rate) == (
        2000, DEFAULT_SENDER_RATE, DEFAULT_ADDRESS_RATE)
    assert DEFAULT_SENDER_RATE == Rate(20, 60, 10) and DEFAULT_ADDRESS_RATE == Rate(120, 60, 60)
    assert defaults.drop_hold_seconds == DEFAULT_DROP_HOLD_SECONDS == 2.0
    given = GuardSettings.from_credentials({
        "max_message_chars": 500, "sender_rate": {"messages": 5, "seconds": 10, "burst": 2}, "address_rate": None,
        "trusted_proxies": ["127.0.0.1", "10.0.0.0/8"], "redis_url": "redis://127.0.0.1:6379/0",
        "drop_hold_seconds": 0.25})
    assert given.max_message_chars == 500 and given.sender_rate == Rate(5, 10, 2) and given.address_rate is None
    assert given.drop_hold_seconds == 0.25
    assert len(given.trusted_proxies.networks) == 2 and given.redis_url == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(("given", "message"), [
    ({"max_message_chars": "many"}, "max_message_chars"),
    ({"max_message_chars": 0}, "max_message_chars"),
    ({"sender_rate": {"messages": 5}}, "sender_rate"),
    ({"address_rate": {"messages": 0, "seconds": 60, "burst": 1}}, "address_rate"),
    ({"trusted_proxies": ["proxy.local"]}, "proxy.local"),
    ({"max_chars": 10}, "max_chars"),
    ({"drop_hold_seconds": -1}, "drop_hold_seconds"),
    ({"drop_hold_seconds": 61}, "drop_hold_seconds"),
    ({"drop_hold_seconds": "nan"}, "drop_hold_seconds"),
    ({"drop_hold_seconds": [1]}, "drop_hold_seconds"),
])
def test_unusable_settings_are_refused_by_name(given: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GuardSettings.from_credentials(given)
