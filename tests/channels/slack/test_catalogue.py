"""The Navigator API client of the Slack channel (bot/slack_catalogue.py), against a local stand-in API."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_catalogue import NavigatorCatalogue

TOKEN = "reader-token"


class FakeNavigator:
    def __init__(self) -> None:
        self.requests: list[str] = []
        self.down = False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/search", self.search)
        app.router.add_get("/api/entries/{entry_id}", self.entry)
        return app

    def _check(self, request: web.Request) -> None:
        self.requests.append(request.path_qs)
        if self.down:
            raise web.HTTPServiceUnavailable()
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            raise web.HTTPUnauthorized()

    async def search(self, request: web.Request) -> web.Response:
        self._check(request)
        return web.json_response({"query": request.query["q"], "count": 1,
                                  "hits": [{"rank": 1, "id": "vecura-gmp", "name": "Vecura"}]})

    async def entry(self, request: web.Request) -> web.Response:
        self._check(request)
        if request.match_info["entry_id"] != "vecura-gmp":
            raise web.HTTPNotFound()
        return web.json_response({"id": "vecura-gmp", "url": "https://example.org/vecura"})


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def navigator():
    fake = FakeNavigator()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    yield fake, f"http://127.0.0.1:{server.port}/"
    await server.close()


async def test_search_sends_the_need_and_the_token(navigator) -> None:
    fake, url = navigator
    catalogue = NavigatorCatalogue(url, TOKEN)
    assert await catalogue.search("GMP & fill/finish") == [{"rank": 1, "id": "vecura-gmp", "name": "Vecura"}]
    await catalogue.close()
    assert fake.requests == ["/api/search?q=GMP+%26+fill/finish&limit=5"]


async def test_entries_are_cached_and_missing_ones_left_out(navigator) -> None:
    fake, url = navigator
    clock = Clock()
    catalogue = NavigatorCatalogue(url, TOKEN, cache_seconds=60, clock=clock)
    assert await catalogue.entries(["vecura-gmp", "nope", "vecura-gmp"]) == {
        "vecura-gmp": {"id": "vecura-gmp", "url": "https://example.org/vecura"}}
    await catalogue.entries(["vecura-gmp"])
    assert fake.requests.count("/api/entries/vecura-gmp") == 1
    clock.now = 61
    await catalogue.entries(["vecura-gmp"])
    await catalogue.close()
    assert fake.requests.count("/api/entries/vecura-gmp") == 2


async def test_failures_give_nothing_rather_than_an_error(navigator) -> None:
    fake, url = navigator
    fake.down = True
    catalogue = NavigatorCatalogue(url, TOKEN)
    assert await catalogue.search("gmp") is None
    assert await catalogue.entries(["vecura-gmp"]) == {}
    await catalogue.close()
    wrong = NavigatorCatalogue(url, "wrong-token")
    fake.down = False
    assert await wrong.search("gmp") is None
    await wrong.close()
    unreachable = NavigatorCatalogue("http://127.0.0.1:9", TOKEN, timeout=2)
    assert await unreachable.search("gmp") is None
    await unreachable.close()
