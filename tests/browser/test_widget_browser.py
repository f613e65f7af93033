"""The website chat widget in a real browser: a company opens ``/``, talks to the assistant, clicks a match's
details button, reloads, and tries to inject markup.

Everything is real: Chromium, the page and loader served by the Navigator service, the rasa-webchat bundle
from node_modules, the Rasa server's socket.io channel with the trained model, and the actions with the real
catalogue. Texts the tests look for come from the catalogue (an entry's name and web page) and from
bot/domain.yml (button titles), so copy edits do not break them.

With ``NAVIGATOR_DOCS_SCREENSHOTS=1`` the conversation test also saves ``docs/images/widget.png``.
"""

from __future__ import annotations

import os
import re
from functools import cache
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from index.catalogue import Entry, load_catalogue
from navigator.launcher import Stack
from navigator.settings import PROJECT_ROOT, Settings
from tests.domain_responses import english, load_domain
from web.widget.policy import socket_sources

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.browser]

NEED = "We need GMP manufacturing of a lentiviral vector for a phase 1 trial"
EXPECTED_MATCH = "vecura-gmp"
MARKUP = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
REPLY_TIMEOUT_MS = 90_000
"""A reply runs the Rasa pipeline and a search with the embedding model; the first one of a run is slowest."""

BLOCKED_THIRD_PARTY = "fonts.googleapis.com"
"""The bundle's stylesheet imports a Google font; the page's policy blocks it on purpose."""


@cache
def catalogue_entry(entry_id: str) -> Entry:
    return load_catalogue(PROJECT_ROOT / "knowledge").by_id()[entry_id]


@cache
def button_title(response: str, index: int) -> str:
    return english(load_domain()["responses"][response])["buttons"][index]["title"]


class ChatWidget:
    """The widget on a page, as a visitor uses it."""

    def __init__(self, page: Page):
        self.page = page
        self.root = page.locator("#navigator-chat")

    def open(self) -> None:
        """Wait until the widget has connected (it shows its launcher then) and open it with the page's own
        "Ask Navigator" button, unless it is open already."""
        expect(self.root.locator(".rw-launcher")).to_be_visible(timeout=REPLY_TIMEOUT_MS)
        if self.root.locator(".rw-conversation-container").count() == 0:
            self.page.locator("[data-open-chat]").first.click()
        expect(self.root.locator(".rw-conversation-container")).to_be_visible()

    def say(self, text: str) -> Locator:
        """Type ``text`` and press Enter; returns the visitor's message bubble once it shows."""
        before = self.client_messages().count()
        box = self.root.locator("textarea.rw-new-message")
        box.fill(text)
        box.press("Enter")
        expect(self.client_messages()).to_have_count(before + 1)
        return self.client_messages().last

    def settle(self, quiet_ms: int = 1500) -> None:
        """Wait until the bot has finished its turn: no typing indicator and no new message for ``quiet_ms``."""
        deadline_polls, seen, quiet = REPLY_TIMEOUT_MS // 250, -1, 0
        for _ in range(deadline_polls):
            count = self.responses().count()
            typing = self.root.locator(".rw-typing-indication").count()
            quiet = quiet + 250 if count == seen and not typing else 0
            if quiet >= quiet_ms:
                return
            seen = count
            self.page.wait_for_timeout(250)
        raise AssertionError(f"the bot was still answering after {REPLY_TIMEOUT_MS} ms")

    def client_messages(self) -> Locator:
        return self.root.locator(".rw-client")

    def responses(self) -> Locator:
        """The bot's messages (not its typing indicator, which shares their class)."""
        return self.root.locator(".rw-response").filter(has=self.page.locator(".rw-markdown"))

    def message_with(self, text: str) -> Locator:
        """The bot messages (with their buttons) whose text contains ``text``."""
        return self.root.locator(".rw-message").filter(has=self.page.locator(".rw-response", has_text=text))


def open_website(page: Page) -> ChatWidget:
    response = page.goto("/")
    assert response is not None and response.status == 200
    widget = ChatWidget(page)
    widget.open()
    expect(widget.responses().first).to_be_visible(timeout=REPLY_TIMEOUT_MS)  # the greeting (initPayload)
    widget.settle()
    return widget


def test_the_page_has_its_own_policy_and_the_widget_connects_within_it(page: Page, page_console: list[str],
                                                                       stack: tuple[Stack, Settings]) -> None:
    response = page.goto("/")
    assert response is not None and response.status == 200
    policy = dict(part.split(" ", 1) for part in response.headers["content-security-policy"].split("; "))
    assert policy["script-src"] == "'self'"
    assert policy["connect-src"] == " ".join(["'self'", *socket_sources(stack[1].rasa_public_url)])
    assert stack[1].rasa_public_url.startswith("http://localhost:")
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    ChatWidget(page).open()  # the launcher shows only once the socket is connected
    violations = [line for line in page_console if "Content Security Policy" in line]
    assert all(BLOCKED_THIRD_PARTY in line for line in violations), violations


def test_a_company_describes_a_need_and_sees_a_matchs_details(page: Page) -> None:
    widget = open_website(page)
    entry = catalogue_entry(EXPECTED_MATCH)
    details, contact = button_title("utter_hit", 0), button_title("utter_hit", 1)

    widget.say(NEED)
    match = widget.message_with(entry.name).first
    expect(match).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    expect(match.locator(".rw-response")).to_have_text(re.compile(rf"^\d+\. {re.escape(entry.name)}, "))  # ranked
    expect(match.locator(".rw-reply")).to_have_text([details, contact])
    # Every listed match keeps its own buttons, not only the last message.
    expect(widget.root.locator(".rw-reply", has_text=details)).to_have_count(3, timeout=REPLY_TIMEOUT_MS)

    if os.environ.get("NAVIGATOR_DOCS_SCREENSHOTS") == "1":
        widget.settle()
        widget.client_messages().last.evaluate("bubble => bubble.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(PROJECT_ROOT / "docs" / "images" / "widget.png"))

    match.locator(".rw-reply", has_text=details).click()
    expect(widget.client_messages().last).to_have_text(details)
    link = widget.responses().locator(f'a[href="{entry.url}"]')
    expect(link).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    details_message = widget.responses().filter(has=page.locator(f'a[href="{entry.url}"]'))
    expect(details_message).to_contain_text(entry.name)
    expect(details_message).to_contain_text(entry.services[0])

    page.reload()
    widget = ChatWidget(page)
    widget.open()
    expect(widget.client_messages().first).to_have_text(NEED)
    expect(widget.responses().locator(f'a[href="{entry.url}"]')).to_be_visible()
    expect(widget.message_with(entry.name).locator(".rw-reply", has_text=details).first).to_be_visible()


def test_markup_typed_into_the_widget_is_shown_as_text_and_never_runs(page: Page) -> None:
    widget = open_website(page)
    replies_before = widget.responses().count()
    scripts_before = page.locator("script").count()

    bubble = widget.say(MARKUP)
    expect(bubble).to_have_text(MARKUP)
    expect(widget.responses()).not_to_have_count(replies_before, timeout=REPLY_TIMEOUT_MS)  # the bot answered
    widget.settle()

    assert page.evaluate("typeof window.__xss") == "undefined"
    assert bubble.locator(".rw-message-text *").count() == 0, "the visitor's text is a text node, no elements"
    assert page.locator('img[src="x"]').count() == 0
    assert widget.root.locator("script").count() == 0
    assert page.locator("script").count() == scripts_before
    assert widget.root.locator("[onerror]").count() == 0


def test_links_in_the_widget_keep_only_safe_schemes(page: Page) -> None:
    """The loader's guard, on links as rasa-webchat's Markdown renderer would produce them from a bot message
    (Navigator's bot sends no such link, so the links are added to a rendered message here)."""
    widget = open_website(page)
    page.evaluate("""() => {
        const target = document.querySelector('#navigator-chat .rw-markdown');
        const links = [['unsafe-js', 'javascript:window.__xss=3'], ['unsafe-data', 'data:text/html,<b>x</b>'],
                       ['unsafe-vb', ' JaVaScRiPt:window.__xss=4'], ['safe-https', 'https://example.org/page'],
                       ['safe-mail', 'mailto:advisors@example.org']];
        for (const [id, href] of links) {
            const a = document.createElement('a');
            a.id = id; a.href = href; a.textContent = id;
            target.appendChild(a);
        }
    }""")
    for unsafe in ("#unsafe-js", "#unsafe-data", "#unsafe-vb"):
        expect(widget.root.locator(unsafe)).to_have_attribute("data-blocked-link", "")
        assert widget.root.locator(unsafe).get_attribute("href") is None
        widget.root.locator(unsafe).click()
    expect(widget.root.locator("#safe-https")).to_have_attribute("href", "https://example.org/page")
    expect(widget.root.locator("#safe-mail")).to_have_attribute("href", "mailto:advisors@example.org")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert urlsplit(page.url).path == "/", "no unsafe link navigated away"


def test_a_message_with_two_needs_is_answered_need_by_need(page: Page) -> None:
    widget = open_website(page)
    widget.say("We need to test our antibody in a mouse model of lung fibrosis, and later we'll need GMP production")
    headings = widget.responses().filter(has_text=re.compile(r'^For "'))
    expect(headings).to_have_count(2, timeout=REPLY_TIMEOUT_MS)
    expect(headings.first).to_contain_text("mouse model of lung fibrosis")
    expect(headings.last).to_contain_text("GMP production")
    widget.settle()
    details = button_title("utter_hit", 0)
    # Each need's matches keep their own buttons: three under each heading.
    expect(widget.root.locator(".rw-reply", has_text=details)).to_have_count(6)
