"""Reading what Slack delivers: which events are a user talking to the bot, and what they said.

Three kinds of verified request reach the webhook:

- Events API ``event_callback``: a direct message (``message`` with ``channel_type: im``) or a mention
  (``app_mention``). Everything else is ignored: the bot's own and other bots' messages, messages with a
  ``subtype`` (edits, deletions, joins, file shares), other event types, channel messages that do not mention
  the bot (the app does not subscribe to them). A mention in a direct message arrives twice, as ``message``
  and as ``app_mention`` with different ``event_id``; both carry the message's ``channel`` and ``ts``, so the
  dedup keys of :class:`Incoming` name the message as well as the event, and only the first delivery is taken.
- Interactive ``block_actions``: a click on one of the bot's postback buttons; the button's ``value`` (the
  payload of the Rasa button) is what the user "says".
- A slash command (form fields ``command``, ``text``, ...).

The conversation (Rasa's sender id) is the user in a channel (a direct message is a channel of its own), as
the pseudonym :func:`conversation_id`: Slack's team, channel and user ids are personal data, so they appear
neither in Rasa's tracker store nor in any log. Answers go to the channel, in the thread the user wrote in.

No Rasa or Sanic imports.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from slack_blocks import POSTBACK_ACTION
from slack_markup import plain_text

CONVERSATION_PREFIX = "slack-"
MAX_TEXT_CHARS = 4000
_LEADING_MENTION = re.compile(r"^\s*<@[A-Z0-9]+(?:\|[^>]*)?>")


@dataclass(frozen=True)
class Incoming:
    """A user's message (or button click) for the assistant.

    Attributes:
        text: what the user said, as plain text (the bot's mention removed), or the clicked button's payload.
        team, channel, user: Slack's ids (personal data: never logged).
        thread_ts: the thread to answer in, or ``None`` to answer in the channel.
        dedup_keys: the keys that decide whether this delivery is answered (see :func:`first_delivery`): the
            event's and then the message's.
    """

    text: str
    team: str
    channel: str
    user: str
    thread_ts: str | None
    dedup_keys: tuple[str, ...]


@dataclass(frozen=True)
class SlashCommand:
    """``/navigator <need>`` from an advisor: ``need`` as typed, where to answer (``response_url``)."""

    need: str
    team: str
    channel: str
    user: str
    response_url: str
    dedup_keys: tuple[str, ...]


class SeenKeys(Protocol):
    """The part of ``channel_dedup.SeenEvents`` this module needs."""

    async def first_sighting(self, key: str) -> bool: ...


async def first_delivery(seen: SeenKeys, keys: tuple[str, ...]) -> bool:
    """Whether this delivery is the one to answer: True when each of ``keys`` is seen for the first time, looked at
    in order and only while the earlier ones were new.

    The order makes concurrent deliveries safe. Of several deliveries of one event (Slack's retries), only the
    first to record the event's key goes on to the message key; of the two events of a mention in a direct message
    (each new by its own id), only the first to record the message key is answered. Recording every key instead
    would let two deliveries each win one key and both be dropped.
    """
    for key in keys:
        if not await seen.first_sighting(key):
            return False
    return True


def conversation_id(key: str, team: str, channel: str, user: str) -> str:
    """Rasa's sender id for ``user`` in ``channel``: ``slack-`` and 32 hex digits of an HMAC-SHA256 under ``key``
    (the signing secret), the same every time for the same three ids, and not reversible without the key."""
    # surrogatepass: JSON can carry a lone surrogate ("\ud800") in an id, which UTF-8 cannot encode.
    mac = hmac.new(key.encode("utf-8"), f"{team}:{channel}:{user}".encode("utf-8", "surrogatepass"), hashlib.sha256)
    return CONVERSATION_PREFIX + mac.hexdigest()[:32]


def bot_user_ids(payload: Mapping[str, Any]) -> set[str]:
    """The bot users named in an event's ``authorizations`` (the bot's own user id in this workspace)."""
    return {str(auth.get("user_id")) for auth in _list(payload.get("authorizations"))
            if isinstance(auth, Mapping) and auth.get("is_bot") and auth.get("user_id")}


def read_event(payload: Mapping[str, Any], known_bots: Iterable[str] = ()) -> Incoming | None:
    """The user message in an ``event_callback``, or ``None`` when the event is not one to answer.

    Args:
        payload: the parsed JSON body.
        known_bots: the bot's user ids known otherwise (``auth.test``), besides the payload's authorizations.
    """
    event = payload.get("event")
    if payload.get("type") != "event_callback" or not isinstance(event, Mapping):
        return None
    kind = event.get("type")
    if kind not in ("message", "app_mention"):
        return None
    if kind == "message" and event.get("channel_type") != "im":
        return None
    bots = bot_user_ids(payload) | set(known_bots)
    user, channel, ts = _text(event.get("user")), _text(event.get("channel")), _text(event.get("ts"))
    if event.get("subtype") or event.get("bot_id") or event.get("bot_profile") or user in bots:
        return None
    if not (user and channel and ts):
        return None
    raw = _text(event.get("text"))
    if kind == "app_mention":
        raw = _LEADING_MENTION.sub("", raw, count=1)
    text = plain_text(raw, bots)[:MAX_TEXT_CHARS]
    if not text:
        return None
    team = _text(payload.get("team_id") or event.get("team"))
    keys = [f"slack:message:{team}:{channel}:{ts}"]
    if payload.get("event_id"):
        keys.insert(0, f"slack:event:{payload['event_id']}")
    return Incoming(text, team, channel, user, _text(event.get("thread_ts")) or None, tuple(keys))


def read_interaction(payload: Mapping[str, Any]) -> list[Incoming]:
    """The postbacks of a ``block_actions`` payload: one per clicked postback button (normally one)."""
    if payload.get("type") != "block_actions":
        return []
    team = _text(_get(payload, "team", "id"))
    user = _text(_get(payload, "user", "id"))
    container = payload.get("container") if isinstance(payload.get("container"), Mapping) else {}
    channel = _text(_get(payload, "channel", "id") or container.get("channel_id"))
    thread_ts = _text(container.get("thread_ts") or _get(payload, "message", "thread_ts")) or None
    message_ts = _text(container.get("message_ts") or _get(payload, "message", "ts"))
    if not (user and channel):
        return []
    found = []
    for action in _list(payload.get("actions")):
        if not isinstance(action, Mapping) or action.get("type") != "button":
            continue
        action_id, value = _text(action.get("action_id")), _text(action.get("value"))
        if not action_id.startswith(POSTBACK_ACTION) or not value:
            continue
        key = f"slack:action:{team}:{channel}:{message_ts}:{_text(action.get('action_ts'))}:{action_id}"
        found.append(Incoming(value[:MAX_TEXT_CHARS], team, channel, user, thread_ts, (key,)))
    return found


def read_slash_command(form: Mapping[str, str]) -> SlashCommand | None:
    """The slash command in a form-encoded body, or ``None`` when it lacks where to answer."""
    response_url = _text(form.get("response_url"))
    if not form.get("command") or not response_url:
        return None
    keys = (f"slack:command:{form['trigger_id']}",) if form.get("trigger_id") else ()
    return SlashCommand(plain_text(_text(form.get("text")))[:MAX_TEXT_CHARS], _text(form.get("team_id")),
                        _text(form.get("channel_id")), _text(form.get("user_id")), response_url, keys)


def _get(payload: Mapping[str, Any], key: str, inner: str) -> Any:
    value = payload.get(key)
    return value.get(inner) if isinstance(value, Mapping) else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _list(value: object) -> list[Any]:
    """``value`` when it is a list as Slack sends, otherwise nothing (a payload of another shape reads as empty)."""
    return value if isinstance(value, list) else []
