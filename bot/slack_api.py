"""The Slack Web API as the channel uses it: posting messages and answering slash commands (aiohttp).

Every call goes to ``{api_url}/{method}`` (``https://slack.com/api`` in production, a local fake in the tests)
with the bot token as a Bearer token and a JSON body. When Slack answers 429 (rate limited), the call waits the
``Retry-After`` seconds it names and tries again, at most ``max_retries`` times and never waiting longer than
``max_retry_after`` seconds at once; then it gives up with :class:`SlackRateLimited`. Slack's own errors
(``{"ok": false, "error": ...}``) raise :class:`SlackApiError`.

A slash command is answered at its ``response_url``, which is accepted only at Slack's own
``https://hooks.slack.com`` or at the API's host (so that a forged payload cannot make the bot post elsewhere;
the requests are signed anyway).

No Rasa or Sanic imports.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api"
SLACK_HOOKS_ORIGIN = "https://hooks.slack.com"
DEFAULT_RETRY_AFTER = 1.0
"""Seconds to wait after a 429 that names no ``Retry-After``."""


class SlackApiError(RuntimeError):
    """A Web API call failed. ``method`` is the method (or ``response_url``), ``error`` Slack's error code or the
    HTTP status (``http_500``)."""

    def __init__(self, method: str, error: str):
        super().__init__(f"Slack {method} failed: {error}")
        self.method = method
        self.error = error


class SlackRateLimited(SlackApiError):
    """Slack kept answering 429, or asked to wait longer than the client may."""


class SlackWebClient:
    """Posts to the Slack Web API with the bot token.

    Args:
        api_url: the API's base address without trailing slash, such as ``https://slack.com/api``.
        token: the bot token (``xoxb-...``).
        max_retries: how many times a rate-limited call is tried again.
        max_retry_after: the longest single wait, in seconds, a ``Retry-After`` may ask for.
        timeout: seconds for one HTTP request.
        sleep: how to wait (tests pass a recorder).
    """

    def __init__(self, api_url: str, token: str, *, max_retries: int = 3, max_retry_after: float = 30.0,
                 timeout: float = 10.0, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep):
        self.api_url = api_url.rstrip("/")
        self._token = token
        self._max_retries = max_retries
        self._max_retry_after = max_retry_after
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None
        api = urlsplit(self.api_url)
        self._response_origins = {SLACK_HOOKS_ORIGIN, f"{api.scheme}://{api.netloc}"}

    async def call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """Call ``method`` (such as ``chat.postMessage``) with a JSON ``body``.

        Returns:
            Slack's answer (``ok`` is true).

        Raises:
            SlackRateLimited: still rate limited after the retries.
            SlackApiError: Slack answered ``ok: false`` or an HTTP error.
        """
        answer = await self._post(method, f"{self.api_url}/{method}", body,
                                  {"Authorization": f"Bearer {self._token}"})
        if not isinstance(answer, dict) or not answer.get("ok"):
            raise SlackApiError(method, str((answer or {}).get("error") or "not_ok"))
        return answer

    async def post_message(self, channel: str, body: dict[str, Any], thread_ts: str | None = None) -> dict[str, Any]:
        """``chat.postMessage`` of ``body`` (``text``, ``blocks``) to ``channel``, in the thread ``thread_ts`` when
        given. Links are not unfurled and names are not turned into mentions."""
        message = {**body, "channel": channel, "unfurl_links": False, "unfurl_media": False, "link_names": False}
        if thread_ts:
            message["thread_ts"] = thread_ts
        return await self.call("chat.postMessage", message)

    def response_url_allowed(self, url: str) -> bool:
        """Whether a slash command's ``response_url`` is at Slack's hooks host or the API's host (https there)."""
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" in self._response_origins and not parts.username

    async def respond(self, response_url: str, body: dict[str, Any]) -> None:
        """Post ``body`` to a slash command's ``response_url``.

        Raises:
            SlackApiError: the URL is not allowed (``response_url_not_allowed``) or the post failed.
        """
        if not self.response_url_allowed(response_url):
            raise SlackApiError("response_url", "response_url_not_allowed")
        await self._post("response_url", response_url, body, {})

    async def close(self) -> None:
        """Close the HTTP session, if one was opened."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _post(self, method: str, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        for attempt in range(self._max_retries + 1):
            try:
                async with self._session.post(url, json=body, headers=headers) as response:
                    if response.status == 429:
                        wait = _retry_after(response.headers.get("Retry-After"))
                        if attempt == self._max_retries or wait > self._max_retry_after:
                            raise SlackRateLimited(method, "ratelimited")
                        log.info("Slack %s rate limited; retrying in %.1f s", method, wait)
                        await self._sleep(wait)
                        continue
                    if response.status >= 400:
                        raise SlackApiError(method, f"http_{response.status}")
                    if response.content_type == "application/json":
                        return await response.json()
                    return {"ok": True, "text": await response.text()}
            except aiohttp.ClientError as error:
                raise SlackApiError(method, type(error).__name__) from error
        raise SlackRateLimited(method, "ratelimited")  # pragma: no cover - the loop returns or raises


def _retry_after(value: str | None) -> float:
    """Seconds from a ``Retry-After`` header (Slack sends whole seconds); the default when absent or unreadable."""
    try:
        seconds = float(value) if value is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER
    return seconds if seconds >= 0 else DEFAULT_RETRY_AFTER
