"""Forged or broken webhook requests for the Teams channel, each with the status it must be refused with.

The same table (``forgeries``) drives the validator's unit tests (tests/channels/teams/test_auth.py) and the
webhook of a real Rasa server (tests/channels/teams/test_teams_e2e.py), where each request must also give no
reply and no tracker event. A case builds ``(Authorization header, activity)`` from the signing keys, the serviceUrl the
fakes listen on and the current time.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.channels.teams.fakes import APP_ID, SigningKeys, message

Request = tuple[str | None, dict[str, Any]]
EVIL_URL = "https://connector.evil.example/"


@dataclass(frozen=True)
class Forgery:
    name: str
    status: int
    build: Callable[[SigningKeys, str, float], Request]


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _signed(keys: SigningKeys, url: str, now: float, activity_url: str | None = None, **overrides: Any) -> Request:
    return f"Bearer {keys.token(url, now=now, **overrides)}", message(activity_url or url, "hello")


def _alg_none(keys: SigningKeys, url: str, now: float) -> Request:
    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": url, "nbf": int(now) - 10,
              "exp": int(now) + 3600}
    return f"Bearer {_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'key-1'})}.{_b64(claims)}.", message(url)


def _hs256_with_public_key(keys: SigningKeys, url: str, now: float) -> Request:
    public_pem = keys.keys["key-1"].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": url, "nbf": int(now) - 10,
              "exp": int(now) + 3600}
    # PyJWT refuses a PEM as an HMAC secret, so the token is assembled by hand, as an attacker would.
    import hashlib
    import hmac
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': 'key-1'})}.{_b64(claims)}"
    signature = base64.urlsafe_b64encode(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())
    return f"Bearer {signing_input}.{signature.rstrip(b'=').decode()}", message(url)


def _rs512(keys: SigningKeys, url: str, now: float) -> Request:
    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": url, "nbf": int(now) - 10,
              "exp": int(now) + 3600}
    token = jwt.encode(claims, keys.keys["key-1"], algorithm="RS512", headers={"kid": "key-1"})
    return f"Bearer {token}", message(url)


def _stranger_key(keys: SigningKeys, url: str, now: float) -> Request:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _signed(keys, url, now, key=stranger)


def _unknown_kid(keys: SigningKeys, url: str, now: float) -> Request:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _signed(keys, url, now, key=stranger, headers={"kid": "key-nobody-published"})


def _tampered(keys: SigningKeys, url: str, now: float) -> Request:
    token = keys.token(url, now=now)
    header, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["aud"] = APP_ID
    claims["serviceurl"] = EVIL_URL
    return f"Bearer {header}.{_b64(claims)}.{signature}", message(EVIL_URL)


def _with_activity(build: Callable[[SigningKeys, str, float], Request], **changes: Any) -> Callable[
        [SigningKeys, str, float], Request]:
    def changed(keys: SigningKeys, url: str, now: float) -> Request:
        header, activity = build(keys, url, now)
        for name, value in changes.items():
            if value is None:
                activity.pop(name, None)
            else:
                activity[name] = value
        return header, activity
    return changed


def _valid(keys: SigningKeys, url: str, now: float) -> Request:
    return _signed(keys, url, now)


def forgeries(beyond: int = 1) -> tuple[Forgery, ...]:
    """The table; ``beyond`` is how many seconds past the 5-minute leeway the clock cases lie.

    The unit tests check the exact boundary (1 s) against a fake clock. A running server reads the real clock
    a moment after the token was made, so the end-to-end test passes a margin no request can eat.
    """
    leeway = 300
    return (
        Forgery("no Authorization header", 401, lambda k, u, n: (None, message(u))),
        Forgery("Basic scheme", 401, lambda k, u, n: (f"Basic {k.token(u, now=n)}", message(u))),
        Forgery("token without a scheme", 401, lambda k, u, n: (k.token(u, now=n), message(u))),
        Forgery("Bearer with no token", 401, lambda k, u, n: ("Bearer", message(u))),
        Forgery("malformed token", 401, lambda k, u, n: ("Bearer not.a.jwt", message(u))),
        Forgery("random bytes", 401, lambda k, u, n: ("Bearer " + "A" * 300, message(u))),
        Forgery("wrong iss", 401, lambda k, u, n: _signed(k, u, n, iss="https://sts.windows.net/evil/")),
        Forgery("iss with a trailing slash", 401,
                lambda k, u, n: _signed(k, u, n, iss="https://api.botframework.com/")),
        Forgery("no iss", 401, lambda k, u, n: _signed(k, u, n, iss=None)),
        Forgery("wrong aud", 401, lambda k, u, n: _signed(k, u, n, aud="another-bot-id")),
        Forgery("no aud", 401, lambda k, u, n: _signed(k, u, n, aud=None)),
        Forgery("expired beyond the leeway", 401,
                lambda k, u, n: _signed(k, u, n, exp=int(n) - leeway - beyond, nbf=int(n) - 4000)),
        Forgery("no exp", 401, lambda k, u, n: _signed(k, u, n, exp=None)),
        Forgery("nbf in the future beyond the leeway", 401,
                lambda k, u, n: _signed(k, u, n, nbf=int(n) + leeway + beyond)),
        Forgery("alg none", 401, _alg_none),
        Forgery("HS256 signed with the public key", 401, _hs256_with_public_key),
        Forgery("RS512 instead of RS256", 401, _rs512),
        Forgery("no kid", 401, lambda k, u, n: ("Bearer " + jwt.encode(
            {"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": u, "exp": int(n) + 3600},
            k.keys["key-1"], algorithm="RS256"), message(u))),
        Forgery("unknown kid", 401, _unknown_kid),
        Forgery("known kid, signed with another key", 401, _stranger_key),
        Forgery("claims altered after signing", 401, _tampered),
        Forgery("key not endorsed for the channel", 403,
                _with_activity(_valid, channelId="slack")),
        Forgery("activity without channelId", 403, _with_activity(_valid, channelId=None)),
        Forgery("serviceurl claim is not the activity's serviceUrl", 403,
                lambda k, u, n: _signed(k, u, n, activity_url=u.rstrip("/") + "/other/")),
        Forgery("no serviceurl claim", 403, lambda k, u, n: _signed(k, u, n, serviceurl=None)),
        Forgery("serviceUrl outside the allow-list", 403, lambda k, u, n: _signed(k, EVIL_URL, n)),
        Forgery("plain http to an allowed remote host", 403,
                lambda k, u, n: _signed(k, "http://europe.botframework.com/", n)),
        Forgery("allowed host as user name of another host", 403,
                lambda k, u, n: _signed(k, "https://smba.trafficmanager.net@evil.example/", n)),
        Forgery("look-alike of a wildcard host", 403,
                lambda k, u, n: _signed(k, "https://evilbotframework.com/", n)),
    )


FORGERIES = forgeries()
