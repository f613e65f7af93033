"""The console's home page and Outcomes page on a realistic programme (tests/browser/programme_history.py): the
figures shown agree with a count of the plan that was stored, the charts are drawn, and the pages are saved as
screenshots: ``var/artifacts/screenshots/console-home.png`` and ``console-outcomes.png``, and with
``NAVIGATOR_DOCS_SCREENSHOTS=1`` also as the README's ``docs/images/console-home.png`` and
``docs/images/console-outcomes.png``::

    NAVIGATOR_DOCS_SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser/test_outcomes_screenshots.py

The service runs in this process on the project's catalogue (knowledge/) and a fake clock (served_console.py).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from index.text import TextProcessor
from navigator.settings import PROJECT_ROOT
from tests.browser.programme_history import ADVISORS, ProgrammeHistory, seed_programme
from tests.browser.served_console import ServedConsole, served_console

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PASSWORD = "a long browser passphrase"
SCREENSHOTS = PROJECT_ROOT / "var" / "artifacts" / "screenshots"
DOCS_IMAGES = PROJECT_ROOT / "docs" / "images"
WIDTH = 1280


@pytest.fixture
def console(tmp_path: Path, processor: TextProcessor) -> Iterator[ServedConsole]:
    with served_console(tmp_path, PROJECT_ROOT / "knowledge", processor) as served:
        for username, name in ADVISORS.items():
            served.accounts.add(username, name, PASSWORD)
        yield served


@pytest.fixture
def service_url(console: ServedConsole) -> str:
    return console.url


@pytest.fixture
def programme(console: ServedConsole) -> ProgrammeHistory:
    return seed_programme(console.store, console.clock, console.settings.tracker_db_url)


def save(page: Page, name: str, height: int) -> None:
    """Save the top ``height`` pixels of the page as ``console-NAME.png``, and for the README when asked."""
    clip = {"x": 0, "y": 0, "width": WIDTH, "height": height}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), clip=clip, full_page=True)
    if os.environ.get("NAVIGATOR_DOCS_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_IMAGES / f"console-{name}.png"), clip=clip, full_page=True)


def sign_in(page: Page, path: str) -> None:
    page.goto(path)
    page.fill("#username", "eva")
    page.fill("#password", PASSWORD)
    page.click("#signin-form button[type=submit]")
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def test_the_home_page_and_the_outcomes_of_a_realistic_programme(page: Page, programme: ProgrammeHistory) -> None:
    reached = programme.reached_companies()
    sign_in(page, "/console/")
    expect(page.locator("#goal-reached")).to_have_text(str(reached))
    expect(page.locator("svg.goal-chart circle")).to_have_count(12)
    expect(page.locator("#waiting-table tbody tr").first).to_be_visible()
    waiting = page.locator("section.waiting").bounding_box()
    save(page, "home", waiting["y"] + waiting["height"] + 12)

    page.goto("/console/outcomes")
    in_year = sum(1 for r in programme.requests if r.created.year == 2026)
    expect(page.locator("#figure-requests")).to_have_text(str(in_year))
    expect(page.locator("#figure-to-date")).to_have_text(f"{reached} of 200")
    expect(page.locator("svg.funnel-chart g")).to_have_count(6)
    expect(page.locator("#funnel-state")).to_have_count(0)
    # The top of the page, to the funnel's chart (its weekly table, a year of weeks, is left out).
    funnel = page.locator("svg.funnel-chart").bounding_box()
    save(page, "outcomes", funnel["y"] + funnel["height"] + 16)
