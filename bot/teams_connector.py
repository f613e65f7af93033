"""Sending replies to Teams through the Bot Connector REST API, asynchronously (aiohttp).

- The bot's access token comes from the tenant's token endpoint
  (``https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token``; new Azure bots are single-tenant) by the
  client-credentials grant with the scope ``https://api.botframework.com/.default``. It is cached and fetched
  again ``refresh_margin`` seconds before it expires; concurrent replies share one fetch.
- A reply is ``POST {serviceUrl}/v3/conversations/{conversationId}/activities[/{replyToId}]``. The serviceUrl is
  checked against the allow-list before anything is sent, so the token never goes to another host, whatever an
  activity says.
- A 401 from the connector drops the cached token and tries once more with a new one; 429 and 5xx answers are
  retried after ``Retry-After`` (bounded), at most ``attempts`` times in all.

Pure: no Rasa or Sanic import; the tests run it against local fakes of the login and connector servers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
from teams_auth import ServiceUrlPolicy

DEFAULT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
SCOPE = "https://api.botframework.com/.default"
REFRESH_MARGIN_SECONDS = 300.0
MAX_RETRY_AFTER_SECONDS = 10.0


class ConnectorError(Exception):
    """A reply could not be sent; the message says why, never with the token or a user id."""


class ServiceUrlRefused(ConnectorError):
    """The serviceUrl is not on the allow-list: nothing was sent."""


class TokenError(ConnectorError):
    """The login server gave no access token."""


def token_url_for(token_url: str, tenant_id: str) -> str:
    """The token endpoint with ``{tenant}`` replaced by the tenant id.

    Raises:
        ValueError: the URL has ``{tenant}`` and no tenant id is given.
    """
    if "{tenant}" in token_url:
        if not tenant_id:
            raise ValueError("tenant_id is required (NAVIGATOR_TEAMS_TENANT_ID): the token URL names {tenant}")
        return token_url.replace("{tenant}", quote(tenant_id, safe=""))
    return token_url


def activities_url(service_url: str, conversation_id: str, reply_to_id: str | None = None) -> str:
    """``{serviceUrl}/v3/conversations/{id}/activities[/{replyToId}]`` with the ids percent-encoded."""
    url = f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}/activities"
    return f"{url}/{quote(reply_to_id, safe='')}" if reply_to_id else url


class ConnectorClient:
    """The bot's outbound side: its access token and the replies it posts.

    Args:
        app_id, app_password: the bot's Microsoft app id and client secret.
        token_url: the tenant's token endpoint (``{tenant}`` already replaced, see :func:`token_url_for`).
        policy: the serviceUrl hosts replies may go to.
        clock: seconds (monotonic), for the token's lifetime; tests pass a fake.
        timeout: seconds for one HTTP call.
    """

    def __init__(self, app_id: str, app_password: str, token_url: str, policy: ServiceUrlPolicy, *,
                 clock: Callable[[], float] = time.monotonic, timeout: float = 10.0,
                 refresh_margin: float = REFRESH_MARGIN_SECONDS, attempts: int = 3):
        self.app_id = app_id
        self.policy = policy
        self.token_url = token_url
        self.refresh_margin = refresh_margin
        self.attempts = attempts
        self.token_fetches = 0
        self._app_password = app_password
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock: asyncio.Lock | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use, inside the server's event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch_json(self, url: str) -> Any:
        """GET ``url`` and return its JSON (for the OpenID metadata and keys).

        Raises:
            aiohttp.ClientError: transport error or a non-2xx answer.
        """
        async with self._client().get(url) as response:
            response.raise_for_status()
            return await response.json(content_type=None)

    async def access_token(self) -> str:
        """The bot's token for the Bot Connector, from the cache while it has more than the margin left.

        Raises:
            TokenError: the login server refused or gave no token.
        """
        if self._token and self._clock() < self._token_expires - self.refresh_margin:
            return self._token
        if self._token_lock is None:
            self._token_lock = asyncio.Lock()
        async with self._token_lock:
            if self._token and self._clock() < self._token_expires - self.refresh_margin:
                return self._token
            self.token_fetches += 1
            form = {"grant_type": "client_credentials", "client_id": self.app_id,
                    "client_secret": self._app_password, "scope": SCOPE}
            try:
                async with self._client().post(self.token_url, data=form) as response:
                    body = await response.json(content_type=None) if response.status == 200 else None
                    status = response.status
            except (TimeoutError, aiohttp.ClientError, ValueError) as error:
                raise TokenError(f"the token endpoint could not be reached ({type(error).__name__})") from error
            token = body.get("access_token") if isinstance(body, Mapping) else None
            if not isinstance(token, str) or not token:
                raise TokenError(f"the token endpoint gave no access token (HTTP {status})")
            expires_in = body.get("expires_in", 3600)
            try:
                lifetime = float(expires_in)
            except (TypeError, ValueError):
                lifetime = 3600.0
            self._token, self._token_expires = token, self._clock() + lifetime
            return token

    def forget_token(self) -> None:
        """Drop the cached token (the connector refused it)."""
        self._token, self._token_expires = None, 0.0

    async def send(self, service_url: str, conversation_id: str, activity: Mapping[str, Any],
                   reply_to_id: str | None = None) -> dict[str, Any]:
        """Post ``activity`` to the conversation, as a reply to ``reply_to_id`` when given.

        Returns:
            The connector's answer (``{"id": ...}`` of the new activity), ``{}`` when it had no JSON body.

        Raises:
            ServiceUrlRefused: the serviceUrl is not allowed; nothing was sent.
            ConnectorError: the connector did not take the activity after the allowed attempts.
        """
        if not self.policy.allows(service_url):
            raise ServiceUrlRefused("the serviceUrl is not an allowed host; the reply was not sent")
        url = activities_url(service_url, conversation_id, reply_to_id)
        status = 0
        refreshed = False
        for attempt in range(1, self.attempts + 1):
            token = await self.access_token()
            try:
                async with self._client().post(url, json=dict(activity),
                                               headers={"Authorization": f"Bearer {token}"}) as response:
                    status = response.status
                    if 200 <= status < 300:
                        body = await response.json(content_type=None) if response.content_length != 0 else None
                        return body if isinstance(body, dict) else {}
                    retry_after = _retry_after(response.headers.get("Retry-After"))
            except (TimeoutError, aiohttp.ClientError) as error:
                status, retry_after = 0, 0.5 * attempt
                if attempt == self.attempts:
                    raise ConnectorError(f"the connector could not be reached ({type(error).__name__})") from error
            if status == 401 and not refreshed:
                self.forget_token()
                refreshed = True
                continue
            if status not in (0, 429) and status < 500:
                break
            if attempt < self.attempts:
                await asyncio.sleep(retry_after)
        raise ConnectorError(f"the connector refused the reply (HTTP {status})")


def _retry_after(value: str | None) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds only), within [0.1, MAX_RETRY_AFTER_SECONDS]."""
    try:
        seconds = float(value) if value is not None else 1.0
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.1), MAX_RETRY_AFTER_SECONDS)
