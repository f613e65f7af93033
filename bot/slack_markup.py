"""Slack's message markup, both ways: what a user wrote as plain text, and any text made inert for Slack.

Slack sends a user's message with its own markup: ``&``, ``<`` and ``>`` escaped as ``&amp;``, ``&lt;`` and
``&gt;``, and links, mentions and e-mail addresses in angle brackets (``<https://acme.se|acme.se>``,
``<mailto:eva@acme.se|eva@acme.se>``, ``<@U123>``, ``<#C123|general>``, ``<!here>``). :func:`plain_text` turns
that into what the user typed, so that the assistant reads "eva@acme.se" as an e-mail address.

Going out, everything in a ``mrkdwn`` text that comes from a user or from the catalogue goes through
:func:`escape`: with ``&``, ``<`` and ``>`` escaped, nobody can make the bot post ``<!channel>``, a mention or a
link of their choosing. Links the bot means to post are made with :func:`link`, which accepts only http, https
and mailto addresses.

No Rasa or Sanic imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

SAFE_URL_SCHEMES = ("http://", "https://", "mailto:")
_ANGLE = re.compile(r"<([^<>]*)>")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def escape(text: object) -> str:
    """``text`` with ``&``, ``<`` and ``>`` escaped as Slack requires: shown as written, never as markup."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """The inverse of :func:`escape` (``&amp;`` last, so that ``&amp;lt;`` stays ``&lt;``)."""
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def safe_url(url: object) -> str | None:
    """``url`` if it is an http, https or mailto address, with the characters that would end a Slack link
    (``|``, ``<``, ``>``, spaces) percent-encoded; ``None`` for anything else."""
    text = str(url or "").strip()
    if not text.lower().startswith(SAFE_URL_SCHEMES) or any(ord(c) < 32 for c in text):
        return None
    return quote(text, safe="/:?#[]@!$&'()*+,;=%~-._")


def link(url: object, label: object) -> str:
    """A Slack link ``<url|label>`` with the label escaped, or just the escaped label when the URL is not safe."""
    target = safe_url(url)
    shown = escape(label)
    return f"<{target}|{shown}>" if target else shown


def plain_text(text: str, bot_user_ids: Iterable[str] = ()) -> str:
    """What the user typed, from Slack's markup.

    Mentions of the bot are removed; other users become ``@someone`` (their ids are personal data and mean
    nothing to the assistant); a channel becomes ``#name``; ``<!here>`` and the like become ``@here``; a link
    becomes its label for e-mail addresses and phone numbers (which Slack links by itself) and when the label
    is the address, otherwise ``label (address)``. Whitespace around the result is removed.
    """
    bots = {bot for bot in bot_user_ids if bot}

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return "" if target[1:] in bots else "@someone"
        if target.startswith("#"):
            return f"#{label}" if label else "#channel"
        if target.startswith("!"):
            return "@" + (label.lstrip("@") if label else target[1:].split("^")[0])
        address = target.removeprefix("mailto:").removeprefix("tel:")
        if not label or address != target:
            return label or address  # Slack's own link of an e-mail address or phone number: what was typed
        return label if label == target else f"{label} ({target})"

    return re.sub(r"[ \t]{2,}", " ", unescape(_ANGLE.sub(replace, text))).strip()
