"""The Navigator service in this process, on a fake clock, for browser tests of the console's own data.

The end-to-end browser tests (test_console_browser.py) talk to the session's running stack, whose clock is the
machine's. The programme's figures (companies reached, weeks, working days) depend on the day, so the pages that
show them are tested against a service built here: the same application factory and pages, a catalogue given by
the test, a hashing embedder instead of the model, a fresh SQLite request database and tracker store, and a
:class:`~tests.support_requests.helpers.FakeClock` that the test moves. It serves on ``http://localhost:PORT``
(a secure context for Chromium, so the console's Secure session cookie is kept, as in production) from a thread
of its own, while Playwright's sync API drives the browser from the test's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from index.build import build_index
from index.catalogue import load_catalogue
from index.engine import SearchEngine
from index.text import TextProcessor
from navigator.runtime import Runtime
from navigator.service import create_app
from navigator.settings import Settings
from navigator.wiring import open_services
from support_requests.accounts import AccountStore
from support_requests.store import RequestStore
from tests.fakes import HashingEmbedder
from tests.support_requests.helpers import FakeClock
from tests.web.conftest import FAST_HASHER, web_settings

START_TIMEOUT_SECONDS = 30.0


@dataclass
class ServedConsole:
    """A running service and what a browser test needs to seed and check it.

    Attributes:
        url: the service as the browser reaches it, ``http://localhost:PORT``.
        settings: its settings (``database_url``, ``tracker_db_url`` below the test's folder).
        store: its request store, on ``clock``: requests the test stores are the ones the pages show.
        clock: the fake clock of the store and of every figure the pages compute (today's date on the pages).
        accounts: the advisors' accounts (cheap argon2 parameters).
    """

    url: str
    settings: Settings
    store: RequestStore
    clock: FakeClock
    accounts: AccountStore


@contextlib.contextmanager
def served_console(folder: Path, catalogue_dir: Path, processor: TextProcessor,
                   **environment: str) -> Iterator[ServedConsole]:
    """Start the service on a free port; yields a :class:`ServedConsole`, stops it and closes its stores after.

    Args:
        folder: the test's folder, for the request database and the tracker store.
        catalogue_dir: the catalogue's YAML files (the sample's or the project's ``knowledge/``).
        processor: the text processor (the session's ``processor`` fixture: it takes seconds to load).
        **environment: more ``NAVIGATOR_*`` settings (``tests.web.conftest.web_settings``).
    """
    settings = web_settings(folder, **{"NAVIGATOR_COOKIE_SECURE": "true", **environment})
    catalogue = load_catalogue(catalogue_dir)
    embedder = HashingEmbedder()
    state, _ = build_index(catalogue, embedder, processor)
    runtime = Runtime(settings, catalogue, embedder, processor, SearchEngine(state, embedder, processor), None)
    services = open_services(settings, runtime=runtime, store=RequestStore.from_url(settings.database_url),
                             password_hasher=FAST_HASHER)
    clock = FakeClock()
    services.store.clock = clock
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="served-console", daemon=True)
    thread.start()
    runner = web.AppRunner(create_app(settings, services=services))

    def call(coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(START_TIMEOUT_SECONDS)

    try:
        call(runner.setup())
        call(web.TCPSite(runner, "127.0.0.1", 0).start())
        port = runner.addresses[0][1]
        yield ServedConsole(url=f"http://localhost:{port}", settings=settings, store=services.store, clock=clock,
                            accounts=services.accounts)
    finally:
        with contextlib.suppress(TimeoutError):
            call(runner.cleanup())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(START_TIMEOUT_SECONDS)
        loop.close()
        services.close()
