"""Adaptive Cards for Teams: the bot's buttons and its search results, with every piece of text made inert.

Text that comes from users or from the catalogue goes into ``TextRun`` elements of a ``RichTextBlock``, which
Adaptive Cards never read as Markdown, so ``**bold**``, ``[a link](https://evil.example)`` or a list marker
shows as typed. ``{{DATE(...)}}`` and ``{{TIME(...)}}``, which card hosts expand, get a zero-width space between
their braces, and control characters are dropped. Buttons are ``Action.Submit`` whose ``data`` is
``{"payload": ...}``: Teams sends it back as the activity's ``value``, which the channel turns into the
postback. A button with a URL becomes ``Action.OpenUrl`` for https and mailto URLs only.

Pure: no Rasa or Sanic import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.4"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
SAFE_URL_SCHEMES = ("https://", "mailto:")
MAX_TEXT_CHARS = 2000
MAX_ACTIONS = 6

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ZERO_WIDTH_SPACE = "\u200b"


def inert(text: object, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` as a string that no card host expands: control characters dropped, ``{{`` split, shortened."""
    value = _CONTROL.sub("", "" if text is None else str(text))
    value = value.replace("{{", "{" + _ZERO_WIDTH_SPACE + "{").replace("}}", "}" + _ZERO_WIDTH_SPACE + "}")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def text_run(text: object, **style: Any) -> dict[str, Any]:
    """A ``TextRun`` (never Markdown) with optional style such as ``weight="Bolder"`` or ``isSubtle=True``."""
    return {"type": "TextRun", "text": inert(text), **style}


def rich_text(*runs: dict[str, Any], **style: Any) -> dict[str, Any]:
    """A ``RichTextBlock`` of text runs that wraps."""
    return {"type": "RichTextBlock", "inlines": list(runs), **style}


def paragraph(text: object, **run_style: Any) -> dict[str, Any]:
    """One block of plain text."""
    return rich_text(text_run(text, **run_style))


def action(button: Mapping[str, Any]) -> dict[str, Any] | None:
    """A Rasa button as an Adaptive Card action.

    Returns:
        ``Action.OpenUrl`` for an https or mailto ``url``; ``Action.Submit`` with ``data: {"payload": ...}``
        for a ``payload``; ``None`` for a button with neither (or only an unsafe URL).
    """
    title = inert(button.get("title", ""), 80) or "…"
    url = str(button.get("url") or "").strip()
    if url.lower().startswith(SAFE_URL_SCHEMES):
        return {"type": "Action.OpenUrl", "title": title, "url": url}
    payload = button.get("payload")
    if payload is None or payload == "":
        return None
    return {"type": "Action.Submit", "title": title, "data": {"payload": str(payload)}}


def actions(buttons: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The actions of Rasa buttons, in order, at most :data:`MAX_ACTIONS` (Teams shows no more)."""
    made = [a for a in (action(b) for b in buttons if isinstance(b, Mapping)) if a is not None]
    return made[:MAX_ACTIONS]


def card(body: Sequence[dict[str, Any]], card_actions: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """An Adaptive Card (version :data:`CARD_VERSION`) with ``body`` and ``card_actions``."""
    content: dict[str, Any] = {"type": "AdaptiveCard", "$schema": CARD_SCHEMA, "version": CARD_VERSION,
                               "body": list(body)}
    if card_actions:
        content["actions"] = list(card_actions)
    return content


def attachment(content: dict[str, Any]) -> dict[str, Any]:
    """A Bot Framework attachment carrying an Adaptive Card."""
    return {"contentType": CARD_CONTENT_TYPE, "content": content}


def text_with_buttons_card(text: str, buttons: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A message with buttons: its paragraphs (split at blank lines) and one action per button."""
    parts = [p.strip() for p in str(text or "").split("\n\n") if p.strip()] or [""]
    return card([paragraph(part) for part in parts], actions(buttons))


def contact_lines(contact: object) -> list[str]:
    """The contact of a hit as lines to show: ``name, role (organisation)`` and the email, when the hit carries
    them (a dict); a contact given only as an entry id (a string) or missing shows nothing."""
    if not isinstance(contact, Mapping):
        return []
    who = ", ".join(str(contact[k]) for k in ("name", "role") if contact.get(k))
    if contact.get("organisation"):
        who = f"{who} ({contact['organisation']})" if who else str(contact["organisation"])
    return [line for line in (who, str(contact.get("email") or "")) if line]


def hit_card(hit: Mapping[str, Any], buttons: Sequence[Mapping[str, Any]] = (), *,
             contact_label: str = "Contact") -> dict[str, Any]:
    """One search hit: ``rank. name``, organisation and site, the reason it matches, and its contact.

    Args:
        hit: a hit in the shape of ``index.engine.Hit.to_dict`` (rank, name, organisation, site_label, reason,
            contact as an id or a dict with name, role, organisation, email).
        buttons: Rasa buttons for the hit (Details, Contact), turned into actions.
        contact_label: the heading of the contact lines.
    """
    rank = hit.get("rank")
    title = f"{rank}. {hit.get('name', '')}" if rank not in (None, "") else str(hit.get("name", ""))
    where = ", ".join(str(hit[k]) for k in ("organisation", "site_label") if hit.get(k))
    body = [paragraph(title, weight="Bolder", size="Medium")]
    if where:
        body.append(paragraph(where, isSubtle=True))
    if hit.get("reason"):
        body.append(paragraph(hit["reason"]))
    lines = contact_lines(hit.get("contact"))
    if lines:
        body.append(rich_text(text_run(f"{contact_label}: ", weight="Bolder"), text_run("\n".join(lines))))
    return card(body, actions(buttons))


def hit_preview(hit: Mapping[str, Any]) -> dict[str, Any]:
    """The preview of a hit in a messaging extension's result list: a thumbnail card's title and text.

    Thumbnail cards read a little Markdown and XML, so ``&``, ``<``, ``>`` become entities and Markdown's
    characters are backslash-escaped.
    """
    return {"contentType": "application/vnd.microsoft.card.thumbnail",
            "content": {"title": markup_escaped(hit.get("name", "")),
                        "text": markup_escaped(", ".join(str(hit[k]) for k in ("organisation", "site_label")
                                                         if hit.get(k)))}}


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def markup_escaped(text: object) -> str:
    """Text for a field that reads Markdown and XML: entities for ``& < >``, backslashes before Markdown."""
    value = inert(text, 300).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", value)


def postback_payload(value: object) -> str | None:
    """The postback an ``Action.Submit`` sent back as an activity's ``value``: its ``payload`` string, else None."""
    if isinstance(value, Mapping):
        payload = value.get("payload")
        if isinstance(payload, str) and payload.strip():
            return payload
    return None
