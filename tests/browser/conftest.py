"""Browser tests: Debian's Chromium, headless, driven by Playwright (sync API) against the running stack.

Fixtures (mark a browser test module with ``pytestmark = [pytest.mark.integration, pytest.mark.e2e,
pytest.mark.browser]``; tests are plain functions, not ``async``). A module that tests pages on data of its own,
on a fake clock, overrides ``service_url`` with a service it starts in this process (served_console.py) and
needs no stack (it is then not marked ``e2e``):

- ``stack`` (tests/conftest.py, session-scoped, shared with tests/e2e): yields ``(Stack, Settings)``.
  ``Stack.rasa_url`` and ``Stack.service_url`` are ``http://127.0.0.1:PORT``; ``Stack.run_dir`` holds
  ``service.log`` and ``rasa.log``. ``Settings`` are the service's: ``database_url`` (a fresh SQLite request
  database, where a test may create advisor accounts), ``tracker_db_url``, ``rasa_public_url``
  (``http://localhost:RASA_PORT``) and ``session_key_file``.
- ``service_url``: the service as a browser should reach it, ``http://localhost:PORT`` (not 127.0.0.1:
  browsers treat localhost as a secure context, so the console's Secure session cookie is kept).
- ``browser`` (package-scoped: one for all of tests/browser): Chromium from ``/usr/bin/chromium``
  (``scripts/install-chromium`` installs it; Playwright's own browser download cannot work here), headless,
  with its own fresh profile folder.
- ``page``: a new browser context (fresh cookies and storage, 1280×800, ``base_url`` = ``service_url``, so
  ``page.goto("/console/")`` works) and a page in it. At the end of the test, pass or fail, a screenshot is
  saved to ``var/artifacts/screenshots/<test name>.png``. Console messages are in ``page_console``.
- ``page_console``: the list of ``"type: text"`` console messages of ``page`` so far (CSP violations show here).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from navigator.launcher import Stack
from navigator.settings import PROJECT_ROOT, Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = PROJECT_ROOT / "var" / "artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
DEFAULT_TIMEOUT_MS = 30_000


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    # Package scope, not session: while Playwright's sync API is running, its event loop counts as running in
    # this thread, and the suite's async tests (which run after tests/browser) could not start their own.
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run scripts/install-chromium (make setup does it)")
    # launch() gives the browser a fresh temporary profile folder and removes it on close.
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def service_url(stack: tuple[Stack, Settings]) -> str:
    return stack[0].service_url.replace("://127.0.0.1:", "://localhost:")


@pytest.fixture
def page_console() -> list[str]:
    return []


@pytest.fixture
def page(browser: Browser, service_url: str, page_console: list[str],
         request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(base_url=service_url, viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    opened = context.new_page()
    opened.on("console", lambda message: page_console.append(f"{message.type}: {message.text}"))
    try:
        yield opened
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        try:
            opened.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
        finally:
            context.close()
