"""Slack's markup both ways (bot/slack_markup.py): user text read as typed, bot text made inert."""

from __future__ import annotations

import pytest
from slack_markup import escape, link, plain_text, safe_url, unescape

from tests.channels.slack.payloads import BOT_USER


@pytest.mark.parametrize(("slack", "typed"), [
    (f"<@{BOT_USER}> we need flow cytometry", "we need flow cytometry"),
    (f"<@{BOT_USER}|navigator> hi", "hi"),
    ("my email is <mailto:eva@acme.se|eva@acme.se>", "my email is eva@acme.se"),
    ("call <tel:+46701234567|+46 70 123 45 67>", "call +46 70 123 45 67"),
    ("see <https://acme.se>", "see https://acme.se"),
    ("see <https://acme.se|our site>", "see our site (https://acme.se)"),
    ("ask <@U0BOB> and <#C0GEN|general>", "ask @someone and #general"),
    ("<!here> anyone?", "@here anyone?"),
    ("R&amp;D &lt;b&gt;bold&lt;/b&gt; 5 &gt; 3", "R&D <b>bold</b> 5 > 3"),
    ("&amp;lt;", "&lt;"),
])
def test_user_text_is_read_as_typed(slack: str, typed: str) -> None:
    assert plain_text(slack, [BOT_USER]) == typed


@pytest.mark.parametrize("text", ["<!channel>", "<https://evil.example|click>", "a & b", "<@U123>", "&lt;", "x>y<z"])
def test_escaped_text_has_no_markup_and_reads_back(text: str) -> None:
    escaped = escape(text)
    assert "<" not in escaped and ">" not in escaped
    assert unescape(escaped) == text


@pytest.mark.parametrize(("url", "safe"), [
    ("https://example.org/a?b=1&c=2", "https://example.org/a?b=1&c=2"),
    ("mailto:eva@acme.se", "mailto:eva@acme.se"),
    ("https://example.org/x|<!channel>", "https://example.org/x%7C%3C!channel%3E"),
    ("javascript:alert(1)", None),
    ("ftp://example.org", None),
    ("https://example.org/\nx", None),
    ("", None),
])
def test_only_http_https_and_mailto_links_are_made(url: str, safe: str | None) -> None:
    assert safe_url(url) == safe


def test_a_link_label_cannot_close_the_link() -> None:
    assert link("https://example.org", "a>b|<!channel>") == "<https://example.org|a&gt;b|&lt;!channel&gt;>"
    assert link("javascript:x", "<b>") == "&lt;b&gt;"
