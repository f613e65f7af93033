"""The company's follow-up in a real browser: the email's link opens "Did this help?" without an account, the
answer is taken once, and the advisors see the score and the comment (as text) on the request's page and on
Outcomes.

Chromium drives the service built in this process on a fake clock (tests/browser/served_console.py). Screenshots
go to ``var/artifacts/screenshots/<test name>.png``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from index.text import TextProcessor
from navigator.stores import follow_up_policy
from tests.browser.conftest import SCREENSHOTS
from tests.browser.served_console import ServedConsole, served_console
from tests.browser.test_outcomes_browser import PASSWORD, USERNAME, csp_violations, sign_in
from tests.fakes import SAMPLE, write_catalogue
from tests.support_requests.helpers import make_draft
from tests.support_requests.satisfaction_history import follow_up_token

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PUBLIC_URL = "https://navigator.example.org"
COMMENT = "Quick answer <script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\"> & thanks"
COMPLETED_AT = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def console(tmp_path: Path, processor: TextProcessor) -> Iterator[ServedConsole]:
    """The service on the sample catalogue with follow-ups sent at completion, and eva's account."""
    knowledge = write_catalogue(tmp_path / "knowledge", SAMPLE)
    with served_console(tmp_path, knowledge, processor, NAVIGATOR_PUBLIC_URL=PUBLIC_URL) as served:
        served.store.follow_up = follow_up_policy(served.settings)
        served.accounts.add(USERNAME, "Eva Ek", PASSWORD)
        yield served


@pytest.fixture
def service_url(console: ServedConsole) -> str:
    return console.url


def completed_request(console: ServedConsole) -> tuple[str, str]:
    """A request for the GMP facility, worked on and closed by eva; its reference and its follow-up token."""
    console.clock.now = COMPLETED_AT - dt.timedelta(days=2)
    reference = console.store.create(make_draft(console.clock, entry_ids=["vecura-gmp"]), "follow-up-1").reference
    console.clock.now = COMPLETED_AT - dt.timedelta(days=1)
    console.store.set_status(reference, "in_progress", actor=USERNAME)
    console.clock.now = COMPLETED_AT
    console.store.set_status(reference, "closed", actor=USERNAME)
    return reference, follow_up_token(console.store, reference)


def test_a_company_answers_the_follow_up_and_advisors_see_it(page: Page, page_console: list[str],
                                                             console: ServedConsole) -> None:
    reference, token = completed_request(console)
    console.clock.now = COMPLETED_AT + dt.timedelta(days=3)
    path = f"/follow-up/{token}"

    page.goto(path)
    main = page.locator("main#main")
    expect(main).to_have_attribute("data-state", "open")
    expect(page.get_by_label("4")).to_have_count(1)  # every score has its label
    page.get_by_label("4").check()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#comment").fill(COMMENT)
    page.screenshot(path=str(SCREENSHOTS / "follow_up_open.png"), full_page=True)
    page.locator("#follow-up-form button[type=submit]").click()
    expect(main).to_have_attribute("data-state", "thanks")
    assert page.context.cookies() == [], "the company gets no cookie"

    page.goto(path)  # the link again: answered once
    expect(main).to_have_attribute("data-state", "answered")
    expect(page.locator("#follow-up-form")).to_have_count(0)
    page.goto(f"/follow-up/{token[:-2]}xx")  # a tampered link
    expect(main).to_have_attribute("data-state", "invalid")

    sign_in(page, f"/console/requests/{reference}")
    expect(page.locator("#follow-up-score")).to_contain_text("4 of 5")
    expect(page.locator("#follow-up-comment")).to_have_text(COMMENT)
    page.goto("/console/outcomes?from=2026-05-01&to=2026-05-31")
    row = page.locator('#satisfaction-by-entry tr[data-key="satisfaction:vecura-gmp"]')
    expect(row.locator("td").first).to_have_text("1")
    expect(row.locator("td").nth(1)).to_have_text("4.00")
    comment = page.locator(f'#satisfaction-comments li[data-reference="{reference}"] p.prose')
    expect(comment).to_have_text(COMMENT)
    page.screenshot(path=str(SCREENSHOTS / "follow_up_outcomes.png"), full_page=True)
    assert page.evaluate("window.__xss === undefined")
    assert page.locator("main script, main img").count() == 0
    assert csp_violations(page_console) == []


def test_an_expired_link_says_so(page: Page, console: ServedConsole) -> None:
    _, token = completed_request(console)
    console.clock.now = COMPLETED_AT + dt.timedelta(days=61)
    response = page.goto(f"/follow-up/{token}")
    assert response is not None and response.status == 410
    expect(page.locator("main#main")).to_have_attribute("data-state", "expired")
    expect(page.locator("#follow-up-form")).to_have_count(0)
    assert re.search(r"/follow-up/", page.url)
