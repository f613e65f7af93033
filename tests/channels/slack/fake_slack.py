"""A local fake of the Slack Web API (aiohttp), recording every call, for the Slack channel's tests.

``POST /api/{method}`` (such as ``chat.postMessage``) records the method, its JSON body and its
``Authorization`` header and answers ``{"ok": true, ...}``; a call without the expected bot token is answered
``{"ok": false, "error": "invalid_auth"}``. ``POST /response/{name}`` stands in for a slash command's
``response_url``. :meth:`FakeSlack.rate_limit` makes the next calls answer 429 with a ``Retry-After``.

It runs in the test's event loop (``async with FakeSlack(...)``) or, for a Rasa server in another process, in a
thread of its own (``with FakeSlack(...).in_thread()``). It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Call:
    """One request the fake received: ``method`` (``chat.postMessage``, or ``response_url``), the JSON body."""

    method: str
    body: dict[str, Any]
    authorization: str = ""
    at: float = field(default_factory=time.monotonic)


class FakeSlack:
    """The fake Web API. ``calls`` lists what it received; ``api_url`` is the base address for the channel."""

    def __init__(self, token: str = "xoxb-test-token"):
        self.token = token
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._limits: list[str | None] = []
        self._server: TestServer | None = None
        self._ts = 0

    @property
    def url(self) -> str:
        assert self._server is not None, "the fake Slack is not running"
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def response_url(self, name: str) -> str:
        return f"{self.url}/response/{name}"

    def rate_limit(self, times: int, retry_after: str | None = "0") -> None:
        """Answer the next ``times`` calls with 429 and this ``Retry-After`` (``None``: no header)."""
        with self._lock:
            self._limits.extend([retry_after] * times)

    def recorded(self, method: str | None = None) -> list[Call]:
        """The calls received so far, of one method when given."""
        with self._lock:
            return [call for call in self.calls if method is None or call.method == method]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def wait_for(self, count: int, method: str = "chat.postMessage", timeout: float = 120.0,
                  settle: float = 0.0) -> list[Call]:
        """Block until at least ``count`` calls of ``method`` arrived (then ``settle`` seconds more, to see any
        extra ones); returns them. Raises AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.recorded(method)) >= count:
                time.sleep(settle)
                return self.recorded(method)
            time.sleep(0.1)
        raise AssertionError(f"expected {count} {method} call(s), got {len(self.recorded(method))}")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response)
        return app

    async def _limited(self) -> web.Response | None:
        with self._lock:
            if not self._limits:
                return None
            retry_after = self._limits.pop(0)
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)

    async def _api(self, request: web.Request) -> web.Response:
        body = await request.json()
        method = request.match_info["method"]
        authorization = request.headers.get("Authorization", "")
        with self._lock:
            self.calls.append(Call(method, body, authorization))
        limited = await self._limited()
        if limited is not None:
            return limited
        if authorization != f"Bearer {self.token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        with self._lock:
            self._ts += 1
            ts = f"1700000000.{self._ts:06d}"
        return web.json_response({"ok": True, "channel": body.get("channel"), "ts": ts})

    async def _response(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._lock:
            self.calls.append(Call("response_url", body, request.headers.get("Authorization", "")))
        limited = await self._limited()
        return limited if limited is not None else web.Response(text="ok")

    async def __aenter__(self) -> Self:
        self._server = TestServer(self.app(), host="127.0.0.1")
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None

    @contextlib.contextmanager
    def in_thread(self) -> Iterator[FakeSlack]:
        """Run the fake in a thread with its own event loop for the ``with`` block."""
        loop = asyncio.new_event_loop()
        started = threading.Event()
        thread = threading.Thread(target=self._serve, args=(loop, started), daemon=True)
        thread.start()
        if not started.wait(30):
            raise RuntimeError("the fake Slack did not start")
        try:
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.__aexit__(), loop).result(30)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)
            loop.close()

    def _serve(self, loop: asyncio.AbstractEventLoop, started: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(self.__aenter__())
        started.set()
        loop.run_forever()


def slack_environment(slack: FakeSlack) -> dict[str, str]:
    """The settings that turn the Slack channel on against ``slack`` (the secret and token of
    :mod:`tests.channels.slack.payloads`)."""
    from tests.channels.slack import payloads

    return {"NAVIGATOR_SLACK_SIGNING_SECRET": payloads.SECRET, "NAVIGATOR_SLACK_BOT_TOKEN": payloads.BOT_TOKEN,
            "NAVIGATOR_SLACK_API_URL": slack.api_url}
