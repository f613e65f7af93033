"""Shared fixtures of the web tests: the service on the sample catalogue, a scratch database, advisor accounts.

- ``console``: a :class:`ConsoleWorld`: the test client on ``create_app`` with fakes (sample catalogue, hashing
  embedder, scratch request database), the request store, the account store (with cheap argon2 parameters) and
  helpers to add advisors, sign in and read CSRF tokens. Nobody is signed in. Every test that uses it runs on
  SQLite and on PostgreSQL (``request_db_url`` in tests/conftest.py); Rasa's tracker store stays a SQLite file.
- ``console_factory``: builds such a world with more settings or an extra test route.
- ``signed_in``: the same world with the advisor ``eva`` (Eva Ek, role advisor) signed in.

The settings turn ``NAVIGATOR_COOKIE_SECURE`` off: aiohttp's test client talks plain HTTP to 127.0.0.1, and its
cookie jar (rightly) never sends a Secure cookie there. The session key is a fresh one per test
(``NAVIGATOR_SESSION_SECRET``), so nothing is written to the project's ``var/``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher
from cryptography.fernet import Fernet

from index.catalogue import load_catalogue
from navigator.runtime import Runtime
from navigator.service import create_app
from navigator.wiring import open_services
from navigator.settings import Settings
from support_requests.store import RequestStore
from web.services import Services
from support_requests.accounts import AccountStore, Advisor
from tests.support_requests.helpers import FakeClock

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
"""Cheap argon2 parameters, so that tests do not spend 50 ms per hash."""

PASSWORD = "correct horse battery"
"""The password of every advisor the fixtures create."""

_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def web_settings(tmp_path: Path, **environment: str) -> Settings:
    """Settings for a web test: scratch databases below ``tmp_path``, a fresh session key, cookies over HTTP.

    Args:
        tmp_path: the test's folder.
        **environment: more ``NAVIGATOR_*`` variables, overriding these.
    """
    env = {"NAVIGATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'requests.db'}",
           "NAVIGATOR_TRACKER_DB_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
           "NAVIGATOR_SESSION_SECRET": Fernet.generate_key().decode(),
           "NAVIGATOR_COOKIE_SECURE": "false"}
    env.update(environment)
    return Settings.from_env(env)


def csrf_from(html: str) -> str:
    """The CSRF token in a console page (its first hidden ``csrf_token`` field)."""
    found = _CSRF_FIELD.search(html)
    assert found, "the page has no csrf_token field"
    return found.group(1)


@dataclass
class ConsoleWorld:
    """A running service and what console tests need to drive it."""

    client: TestClient
    app: web.Application
    settings: Settings
    store: RequestStore
    accounts: AccountStore
    advisor: Advisor | None = field(default=None)

    def add_advisor(self, username: str = "eva", display_name: str = "Eva Ek", role: str = "advisor",
                    password: str = PASSWORD) -> Advisor:
        """Create an account (or return the existing one with that username)."""
        existing = self.accounts.find(username)
        if existing is not None:
            return existing.advisor
        return self.accounts.add(username, display_name, password, role)

    async def csrf(self) -> str:
        """This client session's CSRF token, read from a console page (the sign-in page when signed out)."""
        response = await self.client.get("/console/sign-in")
        assert response.status == 200, response.status
        return csrf_from(await response.text())

    async def sign_in(self, username: str = "eva", password: str = PASSWORD,
                      next_path: str = "/console/") -> web.StreamResponse:
        """Post the sign-in form (with a valid CSRF token); returns the answer without following a redirect."""
        token = await self.csrf()
        return await self.client.post("/console/sign-in", data={
            "username": username, "password": password, "next": next_path, "csrf_token": token},
            allow_redirects=False)

    async def post_form(self, path: str, data: Mapping[str, object], *, csrf: bool = True) -> web.StreamResponse:
        """Post a console form with this session's CSRF token (unless ``csrf`` is false), without following
        the redirect."""
        body = dict(data)
        if csrf:
            body["csrf_token"] = await self.csrf()
        return await self.client.post(path, data=body, allow_redirects=False)


ConsoleFactory = Callable[..., Awaitable[ConsoleWorld]]


@pytest.fixture
async def console_factory(aiohttp_client, tmp_path, sample_dir, sample_engine, embedder, processor,
                          request_db_url) -> AsyncIterator[ConsoleFactory]:
    """Builds a :class:`ConsoleWorld`: ``await console_factory(prepare=None, **environment)``.

    ``prepare(app)`` runs before the server starts (to add a test route); ``environment`` holds more
    ``NAVIGATOR_*`` settings (see :func:`web_settings`); the request database is ``request_db_url`` unless
    ``NAVIGATOR_DATABASE_URL`` is given. Call it once per test.
    """
    opened: list[Services] = []

    async def build(prepare: Callable[[web.Application], None] | None = None, **environment: str) -> ConsoleWorld:
        settings = web_settings(tmp_path, **{"NAVIGATOR_DATABASE_URL": request_db_url, **environment})
        runtime = Runtime(settings, load_catalogue(sample_dir), embedder, processor, sample_engine, None)
        services = open_services(settings, runtime=runtime, store=RequestStore.from_url(settings.database_url),
                                 password_hasher=FAST_HASHER)
        opened.append(services)
        app = create_app(settings, services=services)
        if prepare is not None:
            prepare(app)
        client = await aiohttp_client(app)
        return ConsoleWorld(client=client, app=app, settings=settings, store=services.store,
                            accounts=services.accounts)

    yield build
    for services in opened:
        services.close()


async def signed_in_with_fake_clock(factory: ConsoleFactory, **environment: str) -> tuple[ConsoleWorld, FakeClock]:
    """A world built with ``environment``, the advisor eva signed in, and its request store on a fake clock that
    the test moves."""
    world = await factory(**environment)
    world.advisor = world.add_advisor()
    assert (await world.sign_in()).status == 303
    clock = FakeClock()
    world.store.clock = clock
    return world, clock


async def assert_sign_in_required(world: ConsoleWorld, path: str) -> None:
    """An anonymous visitor to ``path`` is sent to the sign-in page, which will bring them back to it."""
    response = await world.client.get(path, allow_redirects=False)
    assert response.status == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/console/sign-in" and parse_qs(location.query) == {"next": [path]}


@pytest.fixture
async def console(console_factory: ConsoleFactory) -> ConsoleWorld:
    return await console_factory()


@pytest.fixture
async def signed_in(console: ConsoleWorld) -> ConsoleWorld:
    console.advisor = console.add_advisor()
    response = await console.sign_in()
    assert response.status == 303, await response.text()
    return console
