"""Where a user message came from, as the channel that received it saw it: a mark that users cannot forge.

Rasa's ``UserMessage.metadata`` is partly the user's to write (the REST channel's ``metadata`` field, the socket.io
channel's ``customData``), so nothing in it that a user could have sent may be trusted. Our channels put one
:class:`MessageOrigin` object under :data:`ORIGIN_KEY`: a Python object, which no JSON a user sends can become,
so the input guard (bot/input_guard.py) trusts the key only when it holds that type, and removes the key in every
case before Rasa sees the message (the origin is not stored in the tracker, and a client address is personal
data).

An origin says:

- ``peer``, ``forwarded_for``: the TCP peer of the request and the ``X-Forwarded-For`` entries it carried (REST
  and socket.io). :func:`client_address` believes the header only as far as the hops it names are trusted
  proxies (HAProxy in ``make cluster``), so a client cannot choose its own address;
- ``channel_built``: the channel wrote the text itself (Teams' greeting when the bot is added), so a payload in it
  was not typed by anyone.

No Rasa or Sanic imports: a request is read by its ``ip`` and ``headers`` (Sanic's ``Request``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ORIGIN_KEY = "navigator_origin"
FORWARDED_FOR = "X-Forwarded-For"
IPV6_PREFIX = 64
"""An IPv6 client is counted by its /64 network: one subscriber usually has all of it."""

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class MessageOrigin:
    """What the channel knows of a message beyond its text; see the module's description."""

    peer: str = ""
    forwarded_for: tuple[str, ...] = ()
    channel_built: bool = False


def origin_of_request(request: Any, *, channel_built: bool = False) -> MessageOrigin:
    """The origin of a message that arrived in ``request`` (a Sanic request: ``.ip``, ``.headers.getall``)."""
    headers = getattr(request, "headers", None)
    values = headers.getall(FORWARDED_FOR, []) if headers is not None and hasattr(headers, "getall") else []
    return MessageOrigin(str(getattr(request, "ip", "") or ""), forwarded_entries(values), channel_built)


def forwarded_entries(values: Iterable[str]) -> tuple[str, ...]:
    """The addresses of ``X-Forwarded-For`` header values (one header or several), leftmost first."""
    return tuple(part.strip() for value in values for part in str(value).split(",") if part.strip())


def with_origin(metadata: Any, origin: MessageOrigin) -> dict[str, Any]:
    """The metadata a channel hands to Rasa: a copy of the user's (when it is a mapping) with ``origin`` under
    :data:`ORIGIN_KEY`, replacing whatever the user put there."""
    given = dict(metadata) if isinstance(metadata, Mapping) else {}
    given[ORIGIN_KEY] = origin
    return given


def take_origin(metadata: Any) -> tuple[MessageOrigin | None, Any]:
    """The channel's origin in ``metadata`` (None when there is none, or when the key holds anything else, which a
    user sent) and the metadata without the key (None when nothing else is left)."""
    if not isinstance(metadata, Mapping) or ORIGIN_KEY not in metadata:
        return None, metadata
    rest = {key: value for key, value in metadata.items() if key != ORIGIN_KEY}
    origin = metadata[ORIGIN_KEY]
    return (origin if isinstance(origin, MessageOrigin) else None), (rest or None)


class TrustedProxies:
    """Addresses and networks (``127.0.0.1``, ``10.0.0.0/8``, ``fd00::/8``) whose ``X-Forwarded-For`` is believed.

    Raises:
        ValueError: an entry is not an address or a network.
    """

    def __init__(self, entries: Iterable[str] = ()):
        networks = []
        for entry in entries:
            text = str(entry).strip()
            if not text:
                continue
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                raise ValueError(f"a trusted proxy must be an IP address or network such as 127.0.0.1 or "
                                 f"10.0.0.0/8, got '{text}'") from None
        self.networks: tuple[IPNetwork, ...] = tuple(networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrustedProxies) and other.networks == self.networks

    def __hash__(self) -> int:
        return hash(self.networks)

    def __repr__(self) -> str:
        return f"TrustedProxies({[str(network) for network in self.networks]})"

    def __contains__(self, address: IPAddress) -> bool:
        return any(address.version == network.version and address in network for network in self.networks)


def parse_address(text: str) -> IPAddress | None:
    """An IP address (an IPv4-mapped IPv6 address as IPv4, a zone or port-less brackets removed), or None."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1:text.index("]")]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(origin: MessageOrigin | None, trusted: TrustedProxies) -> str | None:
    """The client address to count a message against, or None when the channel gave none (Slack, Teams: their
    requests come from the platform's servers).

    The peer, unless it is a trusted proxy: then the ``X-Forwarded-For`` entries are read from the right (the
    nearest hop first), past every trusted proxy, and the first address that is not one is the client's. An entry
    that is not an address stops the walk at the hop that reported it. IPv6 addresses are reduced to their /64.
    """
    if origin is None:
        return None
    peer = parse_address(origin.peer)
    if peer is None:
        return None
    client = peer
    if client in trusted:
        for entry in reversed(origin.forwarded_for):
            hop = parse_address(entry)
            if hop is None:
                break
            client = hop
            if hop not in trusted:
                break
    if isinstance(client, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((client, IPV6_PREFIX), strict=False))
    return str(client)
