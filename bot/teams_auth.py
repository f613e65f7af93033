"""Checking that an activity posted to the Teams webhook comes from Microsoft's Bot Connector.

Implements the checks of Microsoft's "Authenticate requests from the Bot Connector service to your bot", which
Rasa 3.6's stock ``botframework`` channel skips in part:

1. the ``Authorization`` header uses the ``Bearer`` scheme;
2. the token is a JWT signed with RS256 (the algorithm is fixed here, never read from the token's header);
3. ``iss`` is ``https://api.botframework.com`` and ``aud`` is the bot's app id;
4. ``exp`` and ``nbf`` hold with 5 minutes of clock skew;
5. the signing key is one of the OpenID metadata's ``jwks_uri`` keys; an unknown ``kid`` makes the keys be
   fetched again (at most once per :attr:`KeySet.refetch_interval`, so forged kids cannot flood Microsoft);
6. the key's ``endorsements`` include the activity's ``channelId``;
7. the token's ``serviceurl`` claim equals the activity's ``serviceUrl``;
8. the ``serviceUrl`` is on the allow-list (:class:`ServiceUrlPolicy`), so that a reply and its access token go
   to Microsoft only.

A failed check raises :class:`Unauthorized` (401: no valid token) or :class:`Forbidden` (403: a valid token that
does not fit the activity). The messages name the check, never a user id or the token.

Pure: no Rasa or Sanic import. The HTTP fetch of the metadata and keys is passed in, so tests give a fake.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
ALGORITHM = "RS256"
CLOCK_SKEW_SECONDS = 300
DEFAULT_OPENID_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
DEFAULT_SERVICE_URL_HOSTS = ("smba.trafficmanager.net", "*.botframework.com")

FetchJson = Callable[[str], Awaitable[Any]]
"""Fetches a URL and returns its JSON body; raises on a transport error or a non-2xx answer."""


class TeamsAuthError(Exception):
    """An inbound request that must be refused. ``status`` is the HTTP status to answer with."""

    status = 401


class Unauthorized(TeamsAuthError):
    """No valid Bot Connector token: missing, malformed, badly signed, expired, or for another bot (401)."""

    status = 401


class Forbidden(TeamsAuthError):
    """A valid token that does not cover this activity: channel, serviceUrl or its host (403)."""

    status = 403


class KeyFetchError(Unauthorized):
    """The OpenID metadata or the keys could not be fetched; the request is refused (it may be retried)."""


_LOOPBACK_NAMES = ("localhost",)


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServiceUrlPolicy:
    """The hosts a ``serviceUrl`` may name: the only hosts the bot sends replies and its access token to.

    ``hosts`` are exact host names (``smba.trafficmanager.net``) or ``*.`` wildcards (``*.botframework.com``,
    which matches ``europe.botframework.com`` but not ``botframework.com`` itself nor ``evilbotframework.com``).
    A ``serviceUrl`` must be ``https``, except for a loopback host (``127.0.0.1``, ``::1``, ``localhost``) that is
    listed exactly: local fakes and emulators speak plain ``http``; a remote host never may. URLs with a user
    name or password are refused.
    """

    hosts: tuple[str, ...] = DEFAULT_SERVICE_URL_HOSTS

    @classmethod
    def from_hosts(cls, hosts: Iterable[str] | str) -> ServiceUrlPolicy:
        """From a list or a comma-separated string of hosts; blanks are ignored, case does not matter."""
        items = hosts.split(",") if isinstance(hosts, str) else list(hosts)
        return cls(tuple(h.strip().lower().rstrip(".") for h in items if h and h.strip()))

    def allows(self, service_url: object) -> bool:
        """Whether a reply (with the bot's token) may be sent to ``service_url``."""
        if not isinstance(service_url, str) or not service_url:
            return False
        try:
            parts = urlsplit(service_url)
            host = (parts.hostname or "").lower().rstrip(".")
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            return False
        if not host or parts.username is not None or parts.password is not None or parts.query or parts.fragment:
            return False
        exact = host in self.hosts
        if parts.scheme == "https":
            return exact or any(h.startswith("*.") and host.endswith(h[1:]) and len(host) > len(h) - 1
                                for h in self.hosts)
        return parts.scheme == "http" and exact and _is_loopback(host)


@dataclass
class _Key:
    public_key: Any
    endorsements: frozenset[str] | None


class KeySet:
    """The Bot Connector's signing keys, from the OpenID metadata's ``jwks_uri``.

    Keys are fetched on first use, again after ``max_age`` seconds, and again when a token names a ``kid`` that
    is not known, but then at most once every ``refetch_interval`` seconds: a rotated-in key is found at its first
    use, while a stream of forged kids causes one fetch per interval. Concurrent requests share one fetch.

    Args:
        openid_url: the OpenID metadata document (``DEFAULT_OPENID_URL``).
        fetch_json: GETs a URL and returns its JSON.
        clock: seconds (monotonic is fine); tests pass a fake.
    """

    def __init__(self, openid_url: str, fetch_json: FetchJson, *, clock: Callable[[], float] = time.monotonic,
                 max_age: float = 24 * 3600, refetch_interval: float = 60.0):
        self.openid_url = openid_url
        self.max_age = max_age
        self.refetch_interval = refetch_interval
        self.fetches = 0
        self._fetch_json = fetch_json
        self._clock = clock
        self._keys: dict[str, _Key] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> _Key:
        """The key with id ``kid``.

        Raises:
            Unauthorized: no such key, even after a fetch allowed now.
            KeyFetchError: the metadata or the keys could not be fetched.
        """
        if self._stale() or (kid not in self._keys and self._may_refetch()):
            async with self._lock:
                # Another request may have fetched while this one waited.
                if self._stale() or (kid not in self._keys and self._may_refetch()):
                    await self._fetch()
        found = self._keys.get(kid)
        if found is None:
            raise Unauthorized("the token's signing key (kid) is not one of the Bot Connector's keys")
        return found

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self.max_age

    def _may_refetch(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self.refetch_interval

    async def _fetch(self) -> None:
        self.fetches += 1
        # Counted as a fetch even when it fails, so that an outage is not hammered either.
        self._fetched_at = self._clock()
        try:
            metadata = await self._fetch_json(self.openid_url)
            jwks_uri = metadata["jwks_uri"] if isinstance(metadata, Mapping) else None
            if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
                raise KeyFetchError("the OpenID metadata names no jwks_uri")
            document = await self._fetch_json(jwks_uri)
        except TeamsAuthError:
            raise
        except Exception as error:
            raise KeyFetchError(f"the Bot Connector's keys could not be fetched ({type(error).__name__})") from error
        keys: dict[str, _Key] = {}
        for jwk in document.get("keys", []) if isinstance(document, Mapping) else []:
            if not isinstance(jwk, Mapping) or jwk.get("kty") != "RSA" or not isinstance(jwk.get("kid"), str):
                continue
            try:
                public_key = RSAAlgorithm.from_jwk(json.dumps(dict(jwk)))
            except (jwt.InvalidKeyError, ValueError, KeyError, TypeError):
                continue
            endorsements = jwk.get("endorsements")
            keys[jwk["kid"]] = _Key(public_key, frozenset(str(e) for e in endorsements)
                                    if isinstance(endorsements, list) else None)
        if keys:
            self._keys = keys


@dataclass(frozen=True)
class VerifiedRequest:
    """What a valid token says: the claims, for logging nothing and checking what the channel needs."""

    claims: dict[str, Any]


class BotConnectorAuthenticator:
    """Validates the ``Authorization`` header of an activity posted to the webhook.

    Args:
        app_id: the bot's Microsoft app id (the tokens' ``aud``).
        keys: the Bot Connector's signing keys.
        policy: the allowed ``serviceUrl`` hosts.
        clock: seconds since the epoch, for ``exp`` and ``nbf``; tests pass a fake.
    """

    def __init__(self, app_id: str, keys: KeySet, policy: ServiceUrlPolicy, *,
                 clock: Callable[[], float] = time.time, leeway: int = CLOCK_SKEW_SECONDS):
        if not app_id:
            raise ValueError("app_id is required: the bot's Microsoft app id (NAVIGATOR_TEAMS_APP_ID)")
        self.app_id = app_id
        self.keys = keys
        self.policy = policy
        self.leeway = leeway
        self._clock = clock

    async def authenticate(self, authorization: str | None, activity: Mapping[str, Any]) -> VerifiedRequest:
        """Check the header against the activity it came with.

        Returns:
            The token's verified claims.

        Raises:
            Unauthorized: 401, no valid token.
            Forbidden: 403, a valid token that does not fit the activity or an activity whose serviceUrl is not
                allowed.
        """
        token = bearer_token(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthorized("the token is not a JWT") from error
        if header.get("alg") != ALGORITHM:
            raise Unauthorized(f"the token is not signed with {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("the token names no signing key (kid)")
        key = await self.keys.key(kid)
        try:
            claims = jwt.decode(
                token, key.public_key, algorithms=[ALGORITHM], audience=self.app_id, issuer=ISSUER,
                # exp and nbf are checked below against the injected clock.
                options={"require": ["exp", "iss", "aud"], "verify_exp": False, "verify_nbf": False,
                         "verify_iat": False})
        except jwt.InvalidAudienceError as error:
            raise Unauthorized("the token is for another bot (aud)") from error
        except jwt.InvalidIssuerError as error:
            raise Unauthorized("the token was not issued by the Bot Connector (iss)") from error
        except jwt.PyJWTError as error:
            raise Unauthorized(f"the token is not valid ({type(error).__name__})") from error
        self._check_times(claims)
        channel_id = activity.get("channelId")
        if key.endorsements is not None and channel_id not in key.endorsements:
            raise Forbidden("the signing key is not endorsed for the activity's channel")
        if not isinstance(channel_id, str) or not channel_id:
            raise Forbidden("the activity names no channel")
        service_url = activity.get("serviceUrl")
        if claims.get("serviceurl") != service_url or not isinstance(service_url, str):
            raise Forbidden("the token's serviceurl claim is not the activity's serviceUrl")
        if not self.policy.allows(service_url):
            raise Forbidden("the activity's serviceUrl is not an allowed host")
        return VerifiedRequest(claims)

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        now = self._clock()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            raise Unauthorized("the token's exp is not a number")
        if now > exp + self.leeway:
            raise Unauthorized("the token has expired")
        if nbf is not None:
            if not isinstance(nbf, (int, float)) or isinstance(nbf, bool):
                raise Unauthorized("the token's nbf is not a number")
            if now < nbf - self.leeway:
                raise Unauthorized("the token is not valid yet")


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header.

    Raises:
        Unauthorized: no header, another scheme, or no token.
    """
    if not authorization:
        raise Unauthorized("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthorized("the Authorization header does not use the Bearer scheme")
    token = token.strip()
    if not token or " " in token:
        raise Unauthorized("the Authorization header carries no token")
    return token
