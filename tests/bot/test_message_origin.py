"""Where a message came from (bot/message_origin.py): a mark that no JSON a user sends can forge, and a client
address that only trusted proxies may name."""

from __future__ import annotations

import json

import pytest
from message_origin import (
    ORIGIN_KEY,
    MessageOrigin,
    TrustedProxies,
    client_address,
    forwarded_entries,
    origin_of_request,
    take_origin,
    with_origin,
)

HAPROXY = TrustedProxies(["127.0.0.1"])
NOBODY = TrustedProxies()


class Headers:
    def __init__(self, values: dict[str, list[str]]):
        self.values = {key.lower(): value for key, value in values.items()}

    def getall(self, name: str, default: list[str]) -> list[str]:
        return self.values.get(name.lower(), default)


class Request:
    """What a Sanic request offers: the peer (``ip``) and headers with ``getall``."""

    def __init__(self, ip: str, forwarded: list[str] | None = None):
        self.ip = ip
        self.headers = Headers({"X-Forwarded-For": forwarded} if forwarded else {})


def test_the_origin_rides_beside_the_users_metadata_and_is_taken_out_again() -> None:
    origin = MessageOrigin("192.0.2.7")
    metadata = with_origin({"language": "sv", ORIGIN_KEY: "the user's"}, origin)
    assert metadata == {"language": "sv", ORIGIN_KEY: origin}
    assert take_origin(metadata) == (origin, {"language": "sv"})
    assert take_origin(with_origin(None, origin)) == (origin, None)
    assert take_origin(with_origin(["not", "an", "object"], origin)) == (origin, None)


@pytest.mark.parametrize("forged", [
    {"peer": "10.9.8.7", "forwarded_for": [], "channel_built": True},
    "MessageOrigin(peer='10.9.8.7', channel_built=True)",
    True,
])
def test_whatever_a_user_sends_under_the_key_is_no_origin_and_is_removed(forged: object) -> None:
    sent = json.loads(json.dumps({"language": "en", ORIGIN_KEY: forged}))  # as it arrives: JSON
    assert take_origin(sent) == (None, {"language": "en"})


def test_metadata_without_the_key_is_left_as_it_is() -> None:
    assert take_origin({"language": "en"}) == (None, {"language": "en"})
    assert take_origin(None) == (None, None)


def test_a_request_gives_its_peer_and_every_forwarded_for_entry() -> None:
    origin = origin_of_request(Request("127.0.0.1", ["203.0.113.9, 198.51.100.4", "192.0.2.1"]))
    assert origin == MessageOrigin("127.0.0.1", ("203.0.113.9", "198.51.100.4", "192.0.2.1"))
    assert origin_of_request(Request("192.0.2.1")) == MessageOrigin("192.0.2.1")
    assert forwarded_entries([" a ,, b", ""]) == ("a", "b")


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "expected"), [
    # No proxy trusted: the peer, whatever the header says.
    ("192.0.2.1", ("203.0.113.9",), NOBODY, "192.0.2.1"),
    ("127.0.0.1", ("203.0.113.9",), NOBODY, "127.0.0.1"),
    # Behind HAProxy: the address HAProxy appended (the rightmost), not the one the client wrote before it.
    ("127.0.0.1", ("203.0.113.9",), HAPROXY, "203.0.113.9"),
    ("127.0.0.1", ("6.6.6.6", "203.0.113.9"), HAPROXY, "203.0.113.9"),
    # A client that reaches the server directly cannot name an address, even a trusted one.
    ("192.0.2.1", ("127.0.0.1", "203.0.113.9"), HAPROXY, "192.0.2.1"),
    # A chain of trusted proxies is walked through.
    ("10.0.0.5", ("203.0.113.9", "10.0.0.7"), TrustedProxies(["10.0.0.0/8"]), "203.0.113.9"),
    # A trusted proxy that forwarded nothing is the client itself; garbage stops at the hop that reported it.
    ("127.0.0.1", (), HAPROXY, "127.0.0.1"),
    ("127.0.0.1", ("not-an-address",), HAPROXY, "127.0.0.1"),
    # IPv6 counts by /64; an IPv4-mapped IPv6 peer is IPv4.
    ("2001:db8:1:2:aaaa::1", (), NOBODY, "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.1", (), NOBODY, "192.0.2.1"),
    ("127.0.0.1", ("[2001:db8::5]",), HAPROXY, "2001:db8::/64"),
])
def test_the_client_address(peer: str, forwarded: tuple[str, ...], trusted: TrustedProxies, expected: str) -> None:
    assert client_address(MessageOrigin(peer, forwarded), trusted) == expected


def test_no_origin_or_no_peer_gives_no_address() -> None:
    assert client_address(None, HAPROXY) is None  # Slack, Teams: the platform's servers are not the user
    assert client_address(MessageOrigin(""), HAPROXY) is None  # a unix socket


def test_a_trusted_proxy_must_be_an_address_or_a_network() -> None:
    assert bool(TrustedProxies([" ", ""])) is False
    with pytest.raises(ValueError, match="haproxy.local"):
        TrustedProxies(["127.0.0.1", "haproxy.local"])
