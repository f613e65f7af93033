"""Properties of the input guard (bot/input_guard.py, bot/rate_limit.py) and of the message origin that the REST and
socket.io channels attach (bot/message_origin.py, bot/rest_channel.py), over generated hostile input
(tests/fuzz/strategies.py), with in-memory buckets and a clock that moves only when told.

For any text of any class (every Unicode category, controls, lone surrogates, oversized, JSON, payload syntax,
whitespace), sender and origin: the guard decides without raising; nothing longer than the limit passes; a text
in the payload syntax passes as a payload only when the bot offered it, it is open or the channel built it, and
otherwise loses what made it a payload; the tracker is read only for such texts; the counters count every
refusal. Under a sender limit, a flood is let through up to the burst, told once, then dropped, and an oversized
text never passes on the way. A user's metadata can never carry an origin, and the client address is an address.
The settings read from credentials raise nothing but ValueError.
"""

from __future__ import annotations

import ipaddress
import math
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st
from input_guard import (
    OPEN_PAYLOADS,
    GuardSettings,
    InputGuard,
    Outcome,
    Reason,
    is_payload,
    well_formed,
)
from message_origin import (
    ORIGIN_KEY,
    MessageOrigin,
    TrustedProxies,
    client_address,
    origin_of_request,
    take_origin,
    with_origin,
)
from rate_limit import MemoryBuckets, Rate

from tests.bot.test_rate_limit import FakeClock
from tests.fuzz.strategies import (
    MAX_MESSAGE_CHARS,
    SEEDED,
    hostile_text,
    json_values,
    payload_text,
)

OFFERED = ('/ask_details{"position": "1"}', '/ask_details{"position": "2"}', "/show_more", "/ask_human")

addresses = st.one_of(
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
    st.sampled_from(["127.0.0.1", "::ffff:10.1.2.3", "fe80::1%eth0", "unknown", "", " 10.0.0.1 ", "999.1.1.1"]),
    st.text(max_size=20),
)
origins = st.one_of(st.none(), st.builds(MessageOrigin, addresses, st.lists(addresses, max_size=4).map(tuple),
                                         st.booleans()))
proxies = st.sampled_from([TrustedProxies(), TrustedProxies(["127.0.0.1"]), TrustedProxies(["10.0.0.0/8", "::1"])])


class Offered:
    """The payloads the bot offered, counting the tracker reads."""

    def __init__(self, payloads: frozenset[str]):
        self.payloads = payloads
        self.reads = 0

    async def __call__(self) -> frozenset[str]:
        self.reads += 1
        return self.payloads


def as_rasa_reads(text: str | None) -> str | None:
    """The text as Rasa's ``UserMessage`` hands it on: trimmed."""
    return text.strip() if text else text


def only_slashes(text: str) -> bool:
    return not text.replace("/", "").strip()


@SEEDED
@given(text=st.one_of(st.none(), hostile_text), offered=st.frozensets(st.sampled_from(OFFERED)), origin=origins,
       trusted=proxies, sender=st.text(max_size=40))
async def test_the_guard_decides_on_any_text_and_lets_nothing_oversized_or_forged_through(
        text, offered, origin, trusted, sender) -> None:
    guard = InputGuard(GuardSettings(sender_rate=None, address_rate=None, trusted_proxies=trusted),
                       MemoryBuckets(FakeClock()))
    read = as_rasa_reads(text)
    tracker = Offered(offered)
    admission = await guard.admit(read, sender, origin, tracker)
    if read is not None and len(read) > MAX_MESSAGE_CHARS:
        assert admission.outcome is Outcome.REFUSE and admission.text is None and admission.reason is Reason.SIZE
        assert guard.counters.snapshot()[("size", "refuse")] == 1
        assert tracker.reads == 0
        return
    assert admission.outcome is Outcome.PASS
    assert admission.text is None or len(admission.text) <= MAX_MESSAGE_CHARS
    if admission.text is not None:  # no lone surrogate (encoding raises) and no NUL left
        assert admission.text.encode("utf-8") is not None and "\x00" not in admission.text
    read = well_formed(read) if read is not None else None
    if not is_payload(read):
        assert admission.text == read and tracker.reads == 0
        assert admission.reason is (None if read == as_rasa_reads(text) else Reason.ENCODING)
        return
    taken = (origin is not None and origin.channel_built) or read.strip() in OPEN_PAYLOADS | offered
    if taken:
        assert admission.text == read and admission.reason in (None, Reason.ENCODING)
    else:
        assert admission.reason is Reason.PAYLOAD
        # What made it a payload is gone; a text of nothing but slashes is no payload Rasa takes either.
        assert not is_payload(admission.text) or only_slashes(admission.text)
        assert admission.text and admission.text == admission.text.strip() or only_slashes(admission.text)
        assert guard.counters.snapshot()[("payload", "rewrite")] == 1
    assert tracker.reads <= 1


@SEEDED
@given(forged=payload_text, offered=st.frozensets(st.sampled_from(OFFERED)))
async def test_a_payload_is_taken_only_when_offered_open_or_built_by_the_channel(forged, offered) -> None:
    guard = InputGuard(GuardSettings(sender_rate=None, address_rate=None), MemoryBuckets(FakeClock()))
    read = as_rasa_reads(forged)
    admission = await guard.admit(read, "user-1", None, Offered(offered))
    assert admission.outcome is Outcome.PASS
    if read.strip() in offered | OPEN_PAYLOADS:
        assert admission.text == read
    else:
        assert admission.text != read or only_slashes(read)
    built = await guard.admit(read, "user-1", MessageOrigin(channel_built=True), Offered(frozenset()))
    assert built.text == read


@SEEDED
@given(texts=st.lists(st.one_of(st.none(), hostile_text), min_size=1, max_size=40), burst=st.integers(1, 12),
       origin=origins, trusted=proxies)
async def test_a_flood_passes_up_to_the_burst_is_told_once_then_dropped(texts, burst, origin, trusted) -> None:
    guard = InputGuard(GuardSettings(sender_rate=Rate(1, 3600, burst), address_rate=Rate(1, 3600, 1000),
                                     trusted_proxies=trusted), MemoryBuckets(FakeClock()))
    outcomes, left, told = [], burst, False
    for text in texts:
        read = as_rasa_reads(text)
        cost = min(guard.cost(read), burst)
        admission = await guard.admit(read, "flooder", origin, Offered(frozenset(OFFERED)))
        outcomes.append(admission.outcome)
        if admission.outcome is Outcome.PASS:
            assert read is None or len(read) <= MAX_MESSAGE_CHARS
        # No token grows back here: a message is let in (read or refused for its size) exactly while its cost is
        # left; the first held back after one let in is told to slow down, the next ones dropped.
        if cost <= left:
            assert admission.outcome in (Outcome.PASS, Outcome.REFUSE)
            left, told = left - cost, False
        else:
            assert admission.outcome is (Outcome.DROP if told else Outcome.SLOW_DOWN)
            told = True
    counted = guard.counters.snapshot()
    assert counted[("rate_sender", "slow_down")] == outcomes.count(Outcome.SLOW_DOWN)
    assert counted[("rate_sender", "drop")] == outcomes.count(Outcome.DROP)
    assert counted[("size", "refuse")] == outcomes.count(Outcome.REFUSE)


@SEEDED
@given(origin=origins, trusted=proxies)
def test_the_client_address_is_an_address_or_none(origin, trusted) -> None:
    address = client_address(origin, trusted)
    if address is None:
        return
    network = ipaddress.ip_network(address)
    assert network.version == 4 and network.prefixlen == 32 or network.version == 6 and network.prefixlen == 64
    if origin is not None and (peer := ipaddress.ip_address(address.split("/")[0])) and not origin.forwarded_for:
        assert str(peer) in address


@SEEDED
@given(metadata=json_values)
def test_a_users_metadata_never_carries_an_origin(metadata) -> None:
    origin, rest = take_origin(metadata)
    assert origin is None
    if isinstance(metadata, dict) and ORIGIN_KEY in metadata:
        assert rest is None or ORIGIN_KEY not in rest
    forged = {ORIGIN_KEY: metadata, "page": "/"}
    assert take_origin(forged) == (None, {"page": "/"})
    attached = MessageOrigin("203.0.113.9", ("198.51.100.1",))
    found, left = take_origin(with_origin(metadata, attached))
    assert found == attached
    assert left == ({k: v for k, v in metadata.items() if k != ORIGIN_KEY} or None if isinstance(metadata, dict)
                    else None)


class Headers:
    """Sanic's multi-valued headers: ``getall``."""

    def __init__(self, values: list[str]):
        self.values = values

    def getall(self, name: str, default: list[str]) -> list[str]:
        return self.values if name == "X-Forwarded-For" else default


@SEEDED
@given(ip=st.one_of(st.none(), addresses), values=st.lists(st.text(max_size=60), max_size=4))
def test_the_origin_of_any_request_is_read_without_failing(ip, values) -> None:
    origin = origin_of_request(SimpleNamespace(ip=ip, headers=Headers(values)))
    assert origin.peer == (ip or "")
    assert all(entry and entry == entry.strip() and "," not in entry for entry in origin.forwarded_for)
    assert not origin.channel_built
    assert origin_of_request(SimpleNamespace()) == MessageOrigin()


settings_values = st.one_of(json_values, st.floats(), st.sampled_from([math.inf, -math.inf, math.nan, "1e999"]))
rates = st.one_of(settings_values, st.fixed_dictionaries({"messages": settings_values, "seconds": settings_values,
                                                          "burst": settings_values}))


@SEEDED
@given(given_settings=st.fixed_dictionaries({}, optional={
    "max_message_chars": settings_values, "sender_rate": rates, "address_rate": rates,
    "trusted_proxies": st.one_of(settings_values, st.lists(addresses, max_size=3)), "redis_url": settings_values}))
def test_settings_from_credentials_raise_nothing_but_value_error(given_settings) -> None:
    try:
        settings = GuardSettings.from_credentials(given_settings)
    except ValueError:
        return
    assert settings.max_message_chars >= 1
    for rate in (settings.sender_rate, settings.address_rate):
        if rate is not None:
            assert rate.messages >= 1 and rate.burst >= 1
            assert math.isfinite(rate.seconds) and rate.seconds > 0

