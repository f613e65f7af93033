"""Local stand-ins for Microsoft: the login server (token endpoint), the Bot Connector's OpenID metadata and
keys, and the connector that takes the bot's replies. No test reaches Microsoft.

- :class:`SigningKeys` makes RSA keys with ``cryptography`` and signs Bot Connector-style tokens.
- :class:`FakeMicrosoft` is one aiohttp server on 127.0.0.1, run in a thread of its own so that both async
  tests and a Rasa server in another process can talk to it. It counts key and token fetches and records every
  activity posted to it, with the token it came with.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
APP_ID = "00000000-1111-2222-3333-444444444444"
TENANT = "contoso-tenant"
APP_PASSWORD = "fake-client-secret"
BOT_ID = f"28:{APP_ID}"


@dataclass
class SigningKeys:
    """RSA signing keys by kid, each with its endorsements, and tokens signed with them."""

    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    endorsements: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kid: str, endorsements: tuple[str, ...] = ("msteams", "emulator")) -> rsa.RSAPrivateKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.keys[kid] = key
        self.endorsements[kid] = list(endorsements)
        return key

    def jwks(self) -> dict[str, Any]:
        """The keys' public halves as a JWK set, with Microsoft's ``endorsements`` field."""
        out = []
        for kid, key in self.keys.items():
            jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            out.append({**jwk, "kid": kid, "use": "sig", "endorsements": self.endorsements[kid]})
        return {"keys": out}

    def token(self, service_url: str, *, kid: str = "key-1", now: float | None = None, **overrides: Any) -> str:
        """A token as the Bot Connector sends it, valid for an hour from ``now``; ``overrides`` replace or (with
        value None) remove claims; ``key`` and ``headers`` in overrides sign with another key or header."""
        now = time.time() if now is None else now
        claims: dict[str, Any] = {"iss": ISSUER, "aud": APP_ID, "serviceurl": service_url,
                                  "nbf": int(now) - 10, "exp": int(now) + 3600}
        key = overrides.pop("key", None) or self.keys[kid]
        headers = {"kid": kid, **overrides.pop("headers", {})}
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return jwt.encode(claims, key, algorithm="RS256", headers=headers)


def message(service_url: str, text: str = "hello", *, conversation: str = "a:conversation-1",
            user: str = "29:user-1", activity_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """A Teams message activity from a user to the bot."""
    return {"type": "message", "id": activity_id or uuid.uuid4().hex, "channelId": "msteams",
            "serviceUrl": service_url, "timestamp": "2026-01-05T10:00:00.000Z",
            "from": {"id": user, "name": "Ada Example", "aadObjectId": f"aad-{user}"},
            "recipient": {"id": BOT_ID, "name": "Navigator"},
            "conversation": {"id": conversation, "conversationType": "personal", "tenantId": TENANT},
            "text": text, **extra}


@dataclass
class Recorded:
    """An activity the fake connector took: its path, body and the Authorization header it came with."""

    path: str
    activity: dict[str, Any]
    authorization: str
    received: float = field(default_factory=time.monotonic)


class FakeMicrosoft:
    """Login, OpenID metadata, keys and connector on one local server (see the module's docstring).

    Routes: ``GET /openid``, ``GET /keys``, ``POST /{tenant}/oauth2/v2.0/token``,
    ``POST /v3/conversations/{conversation}/activities[/{reply}]``.
    """

    def __init__(self, keys: SigningKeys, *, token_lifetime: int = 3600):
        self.keys = keys
        self.token_lifetime = token_lifetime
        self.key_fetches = 0
        self.token_requests: list[dict[str, str]] = []
        self.activities: list[Recorded] = []
        self.connector_status = 201
        self._issued = 0
        self._lock = threading.Lock()
        self.url = ""

    @property
    def openid_url(self) -> str:
        return f"{self.url}/openid"

    @property
    def token_url(self) -> str:
        return f"{self.url}/{{tenant}}/oauth2/v2.0/token"

    def issued_tokens(self) -> list[str]:
        return [f"bot-token-{n}" for n in range(1, self._issued + 1)]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/openid", self._openid)
        app.router.add_get("/keys", self._keys)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._activity)
        app.router.add_post("/v3/conversations/{conversation}/activities/{reply}", self._activity)
        return app

    async def _openid(self, request: web.Request) -> web.Response:
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.url}/keys",
                                  "id_token_signing_alg_values_supported": ["RS256"]})

    async def _keys(self, request: web.Request) -> web.Response:
        with self._lock:
            self.key_fetches += 1
        return web.json_response(self.keys.jwks())

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        with self._lock:
            self.token_requests.append({"tenant": request.match_info["tenant"], **{k: str(v) for k, v in form.items()}})
            if form.get("client_secret") != APP_PASSWORD or form.get("grant_type") != "client_credentials":
                return web.json_response({"error": "invalid_client"}, status=401)
            self._issued += 1
            token = f"bot-token-{self._issued}"
        return web.json_response({"token_type": "Bearer", "expires_in": self.token_lifetime, "access_token": token})

    async def _activity(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            self.activities.append(Recorded(request.path, body, request.headers.get("Authorization", "")))
        if self.connector_status >= 300:
            return web.json_response({"error": {"code": "Refused"}}, status=self.connector_status)
        return web.json_response({"id": uuid.uuid4().hex}, status=self.connector_status)

    def texts(self) -> list[str]:
        """Every text the bot sent: plain texts and the TextRuns of its cards, in order."""
        out: list[str] = []
        for recorded in self.activities:
            if recorded.activity.get("text"):
                out.append(recorded.activity["text"])
            for attachment in recorded.activity.get("attachments") or []:
                out.extend(_runs(attachment.get("content")))
        return out

    def submits(self) -> list[str]:
        """Every Action.Submit payload of the bot's cards, in order."""
        return [action["data"]["payload"] for recorded in self.activities
                for attachment in recorded.activity.get("attachments") or []
                for action in (attachment.get("content") or {}).get("actions", [])
                if action.get("type") == "Action.Submit"]


def _runs(node: object) -> Iterator[str]:
    if isinstance(node, Mapping):
        if node.get("type") == "TextRun":
            yield str(node.get("text", ""))
        for value in node.values():
            yield from _runs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _runs(value)


@contextmanager
def running_fake(fake: FakeMicrosoft) -> Iterator[FakeMicrosoft]:
    """Serve ``fake`` on a free port of 127.0.0.1 in a thread; sets ``fake.url``; stops it afterwards."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    runner = web.AppRunner(fake.app(), access_log=None)

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        fake.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, name="fake-microsoft", daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the fake Microsoft server did not start")
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


ALLOWED_HOSTS = "127.0.0.1,smba.trafficmanager.net,*.botframework.com"
"""The serviceUrl hosts the tests allow: the fakes' (loopback) and Microsoft's defaults."""


def teams_environment(fake: FakeMicrosoft) -> dict[str, str]:
    """The settings that turn the Teams channel on against ``fake`` (served: ``fake.url`` is set)."""
    return {"NAVIGATOR_TEAMS_APP_ID": APP_ID, "NAVIGATOR_TEAMS_APP_PASSWORD": APP_PASSWORD,
            "NAVIGATOR_TEAMS_TENANT_ID": TENANT, "NAVIGATOR_TEAMS_OPENID_URL": fake.openid_url,
            "NAVIGATOR_TEAMS_TOKEN_URL": fake.token_url, "NAVIGATOR_TEAMS_SERVICE_URL_HOSTS": ALLOWED_HOSTS}
