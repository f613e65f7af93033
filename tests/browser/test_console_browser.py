"""The advisors' console in a real browser: an advisor signs in, searches while typing notes, opens a support
request from the matches, changes its status and finds it in the queue; markup typed into a request is shown
as text and never runs.

Everything is real: Chromium, the console's pages, script and stylesheet served by the Navigator service
(with its Content-Security-Policy and Secure session cookie on http://localhost), the real catalogue, index
and embedding model, and the stack's fresh request database, where the advisor's account is created.

Screenshots go to ``var/artifacts/screenshots/console-*.png``; with ``NAVIGATOR_DOCS_SCREENSHOTS=1`` the
search is also saved as ``docs/images/console.png``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from index.catalogue import load_catalogue
from navigator.launcher import Stack
from navigator.settings import PROJECT_ROOT, Settings
from support_requests.store import RequestStore
from support_requests.accounts import AccountStore

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.browser]

USERNAME = "eva.browser"
PASSWORD = "a long browser passphrase"
NOTES = "They need GMP manufacturing of a lentiviral vector for a phase 1 trial"
EXPECTED_MATCH = "vecura-gmp"
MARKUP = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
SEARCH_TIMEOUT_MS = 60_000
"""The first search of a run waits for the embedding model to warm up."""
SCREENSHOTS = PROJECT_ROOT / "var" / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def advisor(stack: tuple[Stack, Settings]) -> Iterator[str]:
    """An advisor account in the stack's request database (created once for this module)."""
    store = RequestStore.from_url(stack[1].database_url)
    try:
        accounts = AccountStore(store.engine)
        if accounts.find(USERNAME) is None:
            accounts.add(USERNAME, "Eva Ek", PASSWORD)
        yield USERNAME
    finally:
        store.close()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"), full_page=True)


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/console/requests")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next="))
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#signin-form button[type=submit]")


def csp_violations(console_messages: list[str]) -> list[str]:
    return [m for m in console_messages if "Content Security Policy" in m or "Refused to" in m]


def test_an_advisor_searches_opens_a_request_and_follows_it_up(page: Page, page_console: list[str],
                                                               advisor: str) -> None:
    sign_in(page, advisor, "not the password")
    expect(page.locator("#signin-error")).to_be_visible()
    page.fill("#password", PASSWORD)
    page.click("#signin-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/console/requests$"))  # back to the page asked for
    cookie = next(c for c in page.context.cookies() if c["name"] == "navigator_session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"

    # Intake search: matches follow the notes as they are typed.
    page.click("nav.mainnav >> text=Intake search")
    page.locator("#notes").press_sequentially(NOTES, delay=15)
    match = page.locator(f'#results li[data-entry-id="{EXPECTED_MATCH}"]')
    expect(match).to_be_visible(timeout=SEARCH_TIMEOUT_MS)
    expect(match.locator(".why")).not_to_be_empty()
    expect(match.locator(".contact")).to_contain_text("@")
    if os.environ.get("NAVIGATOR_DOCS_SCREENSHOTS") == "1":
        (PROJECT_ROOT / "docs" / "images").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(PROJECT_ROOT / "docs" / "images" / "console.png"))
    screenshot(page, "search")

    # The type filter narrows the matches to programmes, and back.
    page.check('input[name="type"][value="programme"]')
    expect(page.locator("#results li").first).to_be_visible(timeout=SEARCH_TIMEOUT_MS)
    expect(page.locator(f'#results li[data-entry-id="{EXPECTED_MATCH}"]')).to_have_count(0)
    badges = page.locator("#results li .badge").all_text_contents()
    assert badges and set(badges) == {badges[0]}, badges
    page.uncheck('input[name="type"][value="programme"]')
    expect(match).to_be_visible(timeout=SEARCH_TIMEOUT_MS)

    expect(match.locator("a.hit-name")).to_have_attribute("href", f"/console/entries/{EXPECTED_MATCH}")
    match.locator(".add-to-request input").check()
    expect(page.locator("#chosen-summary")).to_contain_text(match.locator(".hit-name").inner_text())
    page.click("#open-request")

    # The new-request form, prefilled from the search; markup goes into the company name.
    expect(page).to_have_url(re.compile(r"/console/requests/new\?"))
    expect(page.locator(f'input[name="entry"][value="{EXPECTED_MATCH}"]')).to_be_checked()
    expect(page.locator("#need_summary")).to_have_value(NOTES)
    page.fill("#company_name", f"Acme {MARKUP} AB")
    page.fill("#contact_person", "Anna Berg")
    page.fill("#email", "anna.berg@acme.example")
    page.click("#new-request-form button[type=submit]")
    expect(page.locator("#error-consent")).to_be_visible()  # consent is required; nothing typed is lost
    expect(page.locator("#company_name")).to_have_value(f"Acme {MARKUP} AB")
    page.check("#consent")
    page.click("#new-request-form button[type=submit]")

    # The request: the markup is text, the status changes, the history shows it.
    expect(page).to_have_url(re.compile(r"/console/requests/SLT-\d{4}-\d{4,}$"))
    reference = page.url.rsplit("/", 1)[1]
    expect(page.locator("#company-name")).to_have_text(f"Acme {MARKUP} AB")
    assert page.evaluate("window.__xss === undefined")
    assert page.locator("#company-name script, #company-name img").count() == 0
    page.select_option("#new-status", "in_progress")
    page.fill("#status-note", "Called Anna; sending her Vecura's intake form.")
    page.click("#status-form button[type=submit]")
    expect(page.locator("#request-status")).to_have_text("In progress")
    expect(page.locator("#history")).to_contain_text("New → In progress")
    expect(page.locator("#notes-list")).to_contain_text("Called Anna")
    screenshot(page, "request")

    # The queue, filtered by status, lists it.
    page.click("nav.mainnav >> text=Requests")
    page.select_option('#queue-filters select[name="status"]', "in_progress")
    page.click("#queue-filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"status=in_progress"))
    row = page.locator("table.queue tbody tr", has_text=reference)
    expect(row).to_contain_text("In progress")
    expect(row).to_contain_text(f"Acme {MARKUP} AB")
    assert page.evaluate("window.__xss === undefined")
    screenshot(page, "queue")

    assert csp_violations(page_console) == []


def test_an_entry_page_shows_the_entry_and_its_contact(page: Page, page_console: list[str], advisor: str) -> None:
    sign_in(page, advisor)
    expect(page).to_have_url(re.compile(r"/console/requests$"))
    page.goto(f"/console/entries/{EXPECTED_MATCH}")
    entry = load_catalogue(PROJECT_ROOT / "knowledge").by_id()[EXPECTED_MATCH]
    expect(page.locator("h1")).to_have_text(entry.name)
    expect(page.locator("article.entry")).to_contain_text(entry.organisation)
    expect(page.locator("section.contact a[href^='mailto:']")).to_be_visible()
    screenshot(page, "entry")
    assert csp_violations(page_console) == []


def test_signing_out_ends_the_session(page: Page, advisor: str) -> None:
    sign_in(page, advisor)
    expect(page).to_have_url(re.compile(r"/console/requests$"))
    page.click(".who button[type=submit]")
    expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    page.goto("/console/requests")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next="))


def test_intake_notes_with_two_needs_show_the_matches_for_each(page: Page, page_console: list[str],
                                                                advisor: str) -> None:
    sign_in(page, advisor)
    page.goto("/console/")
    page.fill("#notes", "They need to test an antibody in a mouse model of lung fibrosis, and later they'll need "
                        "GMP production")
    headings = page.locator("#results li.need-heading")
    expect(headings).to_have_count(2, timeout=SEARCH_TIMEOUT_MS)
    expect(headings.first).to_contain_text("mouse model of lung fibrosis")
    expect(headings.last).to_contain_text("GMP production")
    assert page.locator("#results li.hit").count() >= 2
    screenshot(page, "two-needs")
    assert csp_violations(page_console) == []
