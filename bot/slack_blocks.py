"""What the assistant says, as Slack Block Kit messages.

A turn of the assistant (the messages Rasa sends for one user message) becomes as few Slack messages as Block
Kit allows, rather than one post per message: Slack allows about one post per second per channel, and a result
list is six messages.

- A text becomes ``section`` blocks (``mrkdwn``, escaped, split at Block Kit's 3,000 characters).
- Buttons with a payload become ``button`` elements whose ``value`` is the payload, in ``actions`` blocks of
  at most :data:`BUTTONS_PER_BLOCK`; a click comes back as a ``block_actions`` payload and is read as the user
  saying the payload (a postback). Buttons with an http, https or mailto URL become link buttons.
- The ``search_results`` custom payload (hits in the shape of ``Hit.to_dict``): each hit is one ``section`` with
  its rank, name (linked to the entry's web page), organisation and site, its reason and its contact, followed
  by the buttons of the hit's own text message, which the section replaces. The entries' web pages and contacts
  come from ``details`` (the Navigator API's entry records, looked up by the channel); without them a hit is
  shown without link and contact.
- Other custom payloads (``handoff``, ``contact``, ``entry_details``) are for machines and are not shown.

Everything from users and the catalogue is escaped (:mod:`slack_markup`). No Rasa or Sanic imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from slack_markup import escape, link, safe_url

BUTTONS_PER_BLOCK = 5
MAX_BLOCKS_PER_MESSAGE = 50
MAX_SECTION_CHARS = 3000
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK_CHARS = 3000
MAX_REASON_CHARS = 500
POSTBACK_ACTION = "navigator-postback"
"""Prefix of the ``action_id`` of a postback button; ``block_actions`` with other ids are not postbacks."""
LINK_ACTION = "navigator-link"

# The slash command is the channel's own answer, not the assistant's, so its few words live here.
SLASH_USAGE = "Describe the need after the command, such as `/navigator GMP manufacturing of a viral vector`."
SLASH_NO_MATCHES = "No catalogue entry matches “{need}”."
SLASH_INTRO = "Best matches for “{need}”:"
SLASH_UNAVAILABLE = "The catalogue search is not available right now; please try again in a minute."

Block = dict[str, Any]
Details = Mapping[str, Mapping[str, Any]]


def render_turn(messages: Sequence[Mapping[str, Any]], details: Details | None = None) -> list[dict[str, Any]]:
    """The Slack messages for one turn of the assistant.

    Args:
        messages: Rasa's bot messages of the turn, in order (``text``, ``buttons``, ``custom`` ...).
        details: the Navigator API's entry records by entry id (``url``, ``contact_details``), for the hits.

    Returns:
        Bodies for ``chat.postMessage`` without channel: ``{"text": fallback, "blocks": [...]}``, each with at
        most :data:`MAX_BLOCKS_PER_MESSAGE` blocks; empty when there is nothing to show.
    """
    details = details or {}
    hits_by_message = _hits_by_message(messages)
    blocks: list[Block] = []
    fallback: list[str] = []
    counter = _Counter()
    for index, message in enumerate(messages):
        hit = hits_by_message.get(index)
        buttons = list(message.get("buttons") or [])
        if hit is not None:
            blocks.append(hit_section(hit, details.get(str(hit.get("id")))))
            fallback.append(f"{hit.get('rank')}. {hit.get('name')}")
        elif message.get("text"):
            blocks.extend(text_sections(str(message["text"])))
            fallback.append(str(message["text"]))
        blocks.extend(button_blocks(buttons, counter))
        custom = message.get("custom")
        if _is_search_results(custom) and not _all_hits_shown(custom, hits_by_message):
            # The hits came without their text messages: show them from the payload alone.
            for orphan in custom.get("hits") or []:
                if isinstance(orphan, Mapping) and orphan not in hits_by_message.values():
                    blocks.append(hit_section(orphan, details.get(str(orphan.get("id")))))
    return _pack(blocks, "\n".join(fallback))


def text_sections(text: str) -> list[Block]:
    """``text`` escaped, as ``section`` blocks of at most :data:`MAX_SECTION_CHARS` characters each (split between
    words, and never inside an escaped character)."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": escape(part)}}
            for part in _chunks(text.strip(), MAX_SECTION_CHARS) if part]


def button_blocks(buttons: Iterable[Mapping[str, Any]], counter: _Counter | None = None) -> list[Block]:
    """Rasa buttons as ``actions`` blocks of at most :data:`BUTTONS_PER_BLOCK` buttons each.

    A button with a safe URL becomes a link button; one with a payload a postback button (``value`` = payload,
    ``action_id`` starting with :data:`POSTBACK_ACTION`); a button with neither is dropped.
    """
    counter = counter or _Counter()
    elements: list[Block] = []
    for button in buttons:
        title = _plain(str(button.get("title") or button.get("payload") or ""), MAX_BUTTON_TEXT)
        url = safe_url(button.get("url"))
        payload = str(button.get("payload") or "")
        if url:
            elements.append({"type": "button", "text": title, "url": url, "action_id": f"{LINK_ACTION}-{counter()}"})
        elif payload and len(payload) <= MAX_BUTTON_VALUE:
            elements.append({"type": "button", "text": title, "value": payload,
                             "action_id": f"{POSTBACK_ACTION}-{counter()}"})
    return [{"type": "actions", "elements": elements[start:start + BUTTONS_PER_BLOCK]}
            for start in range(0, len(elements), BUTTONS_PER_BLOCK)]


def hit_section(hit: Mapping[str, Any], entry: Mapping[str, Any] | None) -> Block:
    """One hit as a ``section``: ``*rank. name*`` (linked to the entry's page), organisation and site, the reason
    as a quote, and the contact's role (or name) and e-mail address when ``entry`` names them."""
    entry = entry or {}
    name = link(entry.get("url"), hit.get("name", "")) if safe_url(entry.get("url")) else escape(hit.get("name", ""))
    lines = [f"*{escape(hit.get('rank', ''))}. {name}*"]
    place = " · ".join(escape(part) for part in (hit.get("organisation"), hit.get("site_label")) if part)
    if place:
        lines.append(place)
    if hit.get("reason"):
        lines.append("> " + escape(_shortened(" ".join(str(hit["reason"]).split()), MAX_REASON_CHARS)))
    contact = contact_line(entry.get("contact_details"))
    if contact:
        lines.append(contact)
    text = "\n".join(lines)
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def contact_line(contact: Mapping[str, Any] | None) -> str:
    """``Contact: role, <mailto:email|email>`` for an entry's contact details, or "" without any."""
    if not isinstance(contact, Mapping):
        return ""
    who = contact.get("role") or contact.get("name") or ""
    email = str(contact.get("email") or "")
    mail = link(f"mailto:{email}", email) if email and "@" in email else escape(email)
    parts = [escape(who)] if who else []
    if mail:
        parts.append(mail)
    return "Contact: " + ", ".join(parts) if parts else ""


def slash_answer(need: str, hits: Sequence[Mapping[str, Any]] | None, details: Details | None = None) -> dict[str, Any]:
    """The ephemeral answer to ``/navigator <need>``: the ranked matches with reasons and contacts.

    Args:
        need: what the advisor typed after the command (plain text).
        hits: the Navigator API's hits, best first; ``None`` when the search failed.
        details: the API's entry records by id, for links and contacts.

    Returns:
        A ``response_url`` body: ``{"response_type": "ephemeral", "text", "blocks"}``.
    """
    shown = escape(" ".join(need.split()))
    if not need.strip():
        blocks = text_sections(SLASH_USAGE)
        fallback = SLASH_USAGE
    elif hits is None:
        blocks, fallback = text_sections(SLASH_UNAVAILABLE), SLASH_UNAVAILABLE
    elif not hits:
        fallback = SLASH_NO_MATCHES.format(need=" ".join(need.split()))
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": SLASH_NO_MATCHES.format(need=shown)}}]
    else:
        fallback = SLASH_INTRO.format(need=" ".join(need.split()))
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": SLASH_INTRO.format(need=shown)}}]
        for hit in hits[: MAX_BLOCKS_PER_MESSAGE - 1]:
            blocks.append(hit_section(hit, (details or {}).get(str(hit.get("id")))))
    return {"response_type": "ephemeral", "text": _fallback(fallback), "blocks": blocks}


def search_hits(messages: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The hits of every ``search_results`` payload in a turn, in order (their ids are the entries to look up)."""
    return [hit for message in messages if _is_search_results(message.get("custom"))
            for hit in message["custom"].get("hits") or [] if isinstance(hit, Mapping)]


class _Counter:
    """Numbers for ``action_id``s, which Slack wants unique within a message."""

    def __init__(self) -> None:
        self._next = 0

    def __call__(self) -> int:
        self._next += 1
        return self._next


def _is_search_results(custom: object) -> bool:
    return isinstance(custom, Mapping) and custom.get("type") == "search_results"


def _hits_by_message(messages: Sequence[Mapping[str, Any]]) -> dict[int, Mapping[str, Any]]:
    """Which text message each hit of the turn's ``search_results`` payloads replaces: the message whose text
    starts with ``"{rank}. {name}"`` (``utter_hit``, ``utter_programme_hit``), looked for before the payload."""
    found: dict[int, Mapping[str, Any]] = {}
    for position, message in enumerate(messages):
        if not _is_search_results(message.get("custom")):
            continue
        for hit in message["custom"].get("hits") or []:
            if not isinstance(hit, Mapping):
                continue
            prefix = f"{hit.get('rank')}. {hit.get('name')}"
            for index in range(position + 1):
                if index not in found and str(messages[index].get("text") or "").startswith(prefix):
                    found[index] = hit
                    break
    return found


def _all_hits_shown(custom: Mapping[str, Any], hits_by_message: Mapping[int, Mapping[str, Any]]) -> bool:
    shown = list(hits_by_message.values())
    return all(hit in shown for hit in custom.get("hits") or [] if isinstance(hit, Mapping))


def _plain(text: str, limit: int) -> dict[str, Any]:
    # plain_text is never read as markup; only its length needs care.
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return {"type": "plain_text", "text": shown or "…", "emoji": False}


def _fallback(text: str) -> str:
    return escape(_chunks(text, MAX_FALLBACK_CHARS)[0] if text.strip() else "…")


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _chunks(text: str, limit: int) -> list[str]:
    """``text`` cut into pieces whose escaped form has at most ``limit`` characters, between words where it can."""
    pieces: list[str] = []
    current = ""
    for token in re.split(r"(\s+)", text):
        while len(escape(token)) > limit:  # a single word longer than a whole piece
            if current.strip():
                pieces.append(current.strip())
            current = ""
            cut = limit
            while len(escape(token[:cut])) > limit:
                cut -= 1
            pieces.append(token[:cut])
            token = token[cut:]
        if len(escape(current + token)) > limit:
            pieces.append(current.strip())
            current = token.lstrip()
        else:
            current += token
    if current.strip():
        pieces.append(current.strip())
    return [piece for piece in pieces if piece] or [""]


def _pack(blocks: list[Block], fallback: str) -> list[dict[str, Any]]:
    if not blocks:
        return []
    bodies = []
    for start in range(0, len(blocks), MAX_BLOCKS_PER_MESSAGE):
        bodies.append({"text": _fallback(fallback) if start == 0 else "…",
                       "blocks": blocks[start:start + MAX_BLOCKS_PER_MESSAGE]})
    return bodies
