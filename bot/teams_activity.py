"""Bot Framework activities in and out: what a Teams activity asks of the bot, and a bot turn as activities.

Inbound (:func:`inbound`): a ``message`` gives the user's text without ``<at>…</at>`` mentions (in a channel or a
group chat the bot is addressed as ``<at>Navigator</at> …``); a message with no text and an Adaptive Card
submit ``value`` gives the button's payload; a ``conversationUpdate`` that adds the bot itself gives
``/greet``, so that the domain's greeting answers. Everything else is ignored.

The Rasa sender id is ``teams-`` and 40 hex digits of the SHA-256 of the conversation id and the user's id: one
tracker per user and conversation (in a personal chat, per user; in a channel thread or group chat, each member
has their own form and slots), and no Teams id is stored in Rasa's tracker or shown in its logs. Replies need
no lookup from it: they are sent while the activity that caused them is at hand.

Outbound (:func:`turn_activities`): the messages Rasa collected for one turn become Bot Framework activities.
Plain text is sent with ``textFormat: plain``, so nothing in it is read as Markdown; a message with buttons
becomes an Adaptive Card; a ``search_results`` payload becomes a carousel of one card per hit, which replaces the
hit's own text line (``"{rank}. {name}, …"``) and takes over that line's buttons.

Pure: no Rasa or Sanic import.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import teams_cards

GREET = "/greet"
_MENTION = re.compile(r"<at(?:\s[^>]*)?>.*?</at>", flags=re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"[ \t\u00a0]+")
MAX_USER_TEXT_CHARS = 4000


@dataclass(frozen=True)
class Inbound:
    """What an activity asks of the bot.

    Attributes:
        text: the user message to hand to Rasa (text, postback payload, or ``/greet``).
        sender_id: the Rasa sender id (see the module's docstring).
        kind: ``message``, ``postback`` or ``greeting``.
    """

    text: str
    sender_id: str
    kind: str


def strip_mentions(text: str) -> str:
    """``text`` without ``<at>…</at>`` mentions, with runs of spaces made one and the ends trimmed."""
    without = _MENTION.sub(" ", text).replace("&nbsp;", " ")
    return "\n".join(_SPACES.sub(" ", line).strip() for line in without.splitlines()).strip()


def sender_id(activity: Mapping[str, Any]) -> str:
    """The Rasa sender id of the activity's conversation and user (see the module's docstring)."""
    conversation = _field(activity, "conversation", "id")
    user = _field(activity, "from", "aadObjectId") or _field(activity, "from", "id")
    return "teams-" + hashlib.sha256(f"{conversation}\n{user}".encode("utf-8", "surrogatepass")).hexdigest()[:40]


def _field(activity: Mapping[str, Any], outer: str, inner: str) -> str:
    value = activity.get(outer)
    found = value.get(inner) if isinstance(value, Mapping) else None
    return found if isinstance(found, str) else ""


def bot_was_added(activity: Mapping[str, Any]) -> bool:
    """Whether a ``conversationUpdate`` adds the bot itself (its ``recipient``) to the conversation."""
    bot = _field(activity, "recipient", "id")
    added = activity.get("membersAdded")
    return bool(bot) and isinstance(added, list) and any(
        isinstance(member, Mapping) and member.get("id") == bot for member in added)


def inbound(activity: Mapping[str, Any]) -> Inbound | None:
    """What the activity asks of the bot, or None when it asks nothing (typing, reactions, other updates,
    an empty message, a message without a conversation)."""
    if not _field(activity, "conversation", "id"):
        return None
    kind = activity.get("type")
    if kind == "message":
        text = activity.get("text")
        if isinstance(text, str) and text.strip():
            cleaned = strip_mentions(text)[:MAX_USER_TEXT_CHARS]
            return Inbound(cleaned, sender_id(activity), "message") if cleaned else None
        payload = teams_cards.postback_payload(activity.get("value"))
        return Inbound(payload, sender_id(activity), "postback") if payload else None
    if kind == "conversationUpdate" and bot_was_added(activity):
        return Inbound(GREET, sender_id(activity), "greeting")
    return None


def reply_skeleton(activity: Mapping[str, Any]) -> dict[str, Any]:
    """The fields every reply to ``activity`` repeats: sender (the bot), recipient, conversation, replyToId."""
    reply: dict[str, Any] = {"type": "message", "conversation": {"id": _field(activity, "conversation", "id")}}
    if isinstance(activity.get("recipient"), Mapping):
        reply["from"] = {k: v for k, v in activity["recipient"].items() if k in ("id", "name")}
    if isinstance(activity.get("from"), Mapping):
        reply["recipient"] = {k: v for k, v in activity["from"].items() if k in ("id", "name")}
    if isinstance(activity.get("id"), str):
        reply["replyToId"] = activity["id"]
    return reply


def _hit_line(text: str, hit: Mapping[str, Any]) -> bool:
    return bool(hit.get("name")) and text.startswith(f"{hit.get('rank')}. {hit.get('name')}")


def turn_activities(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The activities that show one turn's messages, in order (without the reply skeleton).

    Args:
        messages: Rasa's collected messages: ``text`` (one paragraph), ``buttons``, ``custom``.

    Returns:
        Activity bodies: ``{"text", "textFormat": "plain"}`` for consecutive texts (joined by blank lines),
        ``{"attachments": [card]}`` for a text with buttons, and ``{"attachmentLayout": "carousel",
        "attachments": [...]}`` for the hits of a ``search_results`` payload.
    """
    results = [m["custom"] for m in messages if isinstance(m.get("custom"), Mapping)
               and m["custom"].get("type") == "search_results" and isinstance(m["custom"].get("hits"), list)]
    hits = [h for payload in results for h in payload["hits"] if isinstance(h, Mapping)]
    hit_buttons: dict[int, Sequence[Mapping[str, Any]]] = {}
    absorbed: set[int] = set()
    for index, message in enumerate(messages):
        text = message.get("text")
        if isinstance(text, str):
            for position, hit in enumerate(hits):
                if position not in hit_buttons and _hit_line(text, hit):
                    hit_buttons[position] = message.get("buttons") or []
                    absorbed.add(index)
                    break
    carousel_at = min(absorbed) if absorbed else None
    activities: list[dict[str, Any]] = []
    texts: list[str] = []

    def flush_texts() -> None:
        if texts:
            activities.append({"text": teams_cards.inert("\n\n".join(texts), 28000), "textFormat": "plain"})
            texts.clear()

    def add_carousel() -> None:
        flush_texts()
        if hits:
            activities.append({"attachmentLayout": "carousel", "attachments": [
                teams_cards.attachment(teams_cards.hit_card(hit, hit_buttons.get(position, ())))
                for position, hit in enumerate(hits)]})

    for index, message in enumerate(messages):
        if index == carousel_at:
            add_carousel()
        if index in absorbed:
            continue
        text, buttons, custom = message.get("text"), message.get("buttons"), message.get("custom")
        if isinstance(text, str) and text.strip() and buttons:
            flush_texts()
            activities.append({"attachments": [teams_cards.attachment(
                teams_cards.text_with_buttons_card(text, buttons))]})
        elif isinstance(text, str) and text.strip():
            texts.append(text.strip())
        elif carousel_at is None and isinstance(custom, Mapping) and custom.get("type") == "search_results":
            add_carousel()
            carousel_at = -1
    flush_texts()
    return activities
