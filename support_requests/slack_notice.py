"""Announcing a handoff in the advisors' Slack channel (``NAVIGATOR_SLACK_ADVISORS_CHANNEL``).

When a company asks for a person, or a support request is made, the advisors can be told in their Slack channel
as well as by e-mail. The notice says only what lets an advisor find the case: the request's reference and the
conversation's id, with a link to the console page that shows it; the company's name, contact and need stay in
the console (Slack keeps messages beyond the programme's retention period). Everything in it is escaped, so an
id cannot carry Slack markup.

The notice is posted with ``chat.postMessage`` at the configured Web API address; a 429 is retried after its
``Retry-After``, a bounded number of times. Failing to post is reported (False), never raised: the e-mail to
the advisors is the record, the Slack notice a convenience.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aiohttp

log = logging.getLogger(__name__)

HANDOFF_TEXT = "A company asked to talk to an innovation advisor."
REQUEST_TEXT = "Support request {reference} needs an innovation advisor."
MAX_RETRIES = 2
MAX_RETRY_AFTER = 30.0


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def handoff_notice(*, reference: str = "", conversation_id: str = "", console_url: str = "") -> dict[str, Any]:
    """The ``chat.postMessage`` body (without channel) for a handoff: the reference, the conversation and a
    console link (``{console_url}/console/flagged/{conversation}`` or ``.../console/requests/{reference}``).

    Raises:
        ValueError: neither a reference nor a conversation id is given.
    """
    if not reference and not conversation_id:
        raise ValueError("a handoff notice needs a request reference or a conversation id")
    lines = [_escape(REQUEST_TEXT.format(reference=reference) if reference else HANDOFF_TEXT)]
    if conversation_id:
        lines.append(f"Conversation: `{_escape(conversation_id)}`")
    base = console_url.rstrip("/")
    if base.startswith(("https://", "http://")):
        page = (f"{base}/console/requests/{quote(reference, safe='')}" if reference
                else f"{base}/console/flagged/{quote(conversation_id, safe='')}")
        lines.append(f"<{page}|Open in the console>")
    text = "\n".join(lines)
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
            "unfurl_links": False, "unfurl_media": False, "link_names": False}


async def post_handoff_notice(api_url: str, bot_token: str, channel: str, *, reference: str = "",
                              conversation_id: str = "", console_url: str = "",
                              session: aiohttp.ClientSession | None = None, timeout: float = 10.0,
                              sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> bool:
    """Post a handoff notice to ``channel`` through ``{api_url}/chat.postMessage``.

    Args:
        api_url: Slack's Web API (``NAVIGATOR_SLACK_API_URL``), without trailing slash.
        bot_token: the bot token (``NAVIGATOR_SLACK_BOT_TOKEN``); the bot must be a member of ``channel``.
        channel: the advisors' channel id (``NAVIGATOR_SLACK_ADVISORS_CHANNEL``); empty means no notice.
        reference, conversation_id, console_url: what the notice names (see :func:`handoff_notice`).
        session: an open aiohttp session to use; otherwise one is opened for this call.
        sleep: how to wait after a 429 (tests pass a recorder).

    Returns:
        True when Slack took the message; False when no channel is configured or posting failed (logged).
    """
    if not channel or not bot_token:
        return False
    body = {**handoff_notice(reference=reference, conversation_id=conversation_id, console_url=console_url),
            "channel": channel}
    owned = session is None
    client = session or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))
    try:
        for attempt in range(MAX_RETRIES + 1):
            async with client.post(f"{api_url.rstrip('/')}/chat.postMessage", json=body,
                                   headers={"Authorization": f"Bearer {bot_token}"}) as response:
                if response.status == 429 and attempt < MAX_RETRIES:
                    wait = _seconds(response.headers.get("Retry-After"))
                    if wait <= MAX_RETRY_AFTER:
                        await sleep(wait)
                        continue
                if response.status != 200:
                    log.warning("the Slack handoff notice was not posted: HTTP %d", response.status)
                    return False
                answer = await response.json(content_type=None)
                if not isinstance(answer, dict) or not answer.get("ok"):
                    error = answer.get("error") if isinstance(answer, dict) else "not_ok"
                    log.warning("the Slack handoff notice was not posted: %s", error)
                    return False
                return True
        return False
    except (TimeoutError, aiohttp.ClientError, ValueError) as failed:
        log.warning("the Slack handoff notice was not posted: %s", type(failed).__name__)
        return False
    finally:
        if owned:
            await client.close()


def _seconds(value: str | None) -> float:
    try:
        seconds = float(value) if value is not None else 1.0
    except ValueError:
        return 1.0
    return seconds if seconds >= 0 else 1.0
