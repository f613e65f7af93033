"""The Slack channel: the assistant in Slack direct messages and mentions, and the advisors' ``/navigator``
command. It runs inside the Rasa server, at ``/webhooks/slack/webhook`` (the Events API, interactivity and the
slash command all use that one address).

Compared with Rasa 3.6's own Slack channel, this one:

- verifies every request's ``v0`` signature over the raw body in constant time and refuses timestamps more than
  five minutes off, with 401 and nothing processed (:mod:`slack_signing`);
- answers ``url_verification`` with ``{"challenge": ...}`` as JSON, and reads ``application/json`` with
  parameters (``; charset=utf-8``) as JSON;
- answers Slack at once (200, once the signature is checked and the body read) and does everything else in
  the background, the dedup record included, so that Slack's 3 seconds are never missed; the price is that a
  delivery taken while the dedup store is down is lost (logged) rather than retried by Slack;
- takes each event once, whatever Slack retries: every event id, message, button click and command is recorded
  in a store shared by all Rasa processes (SQL by default, Redis when configured; ``channel_dedup``), and a
  retry is dropped by that record rather than by its ``X-Slack-Retry-Reason`` (:mod:`slack_events`);
- answers a conversation's messages one after the other, in the order they were delivered;
- shows the turn as Block Kit, hits with reasons, contacts, links and postback buttons in actions blocks of at
  most five, everything from users and the catalogue escaped (:mod:`slack_blocks`), answering in the user's
  thread;
- posts through an aiohttp client with a configurable base address that retries 429s, bounded (:mod:`slack_api`).

User ids are personal data: the conversation is a pseudonym (:func:`slack_events.conversation_id`), and
nothing here logs Slack ids.

The launcher names it in credentials.yml as ``slack_channel.SlackInput`` with the keys of
:meth:`SlackInput.from_credentials`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from channel_dedup import SeenEvents, open_seen_events
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_api import DEFAULT_API_URL, SlackApiError, SlackWebClient
from slack_blocks import render_turn, search_hits, slash_answer
from slack_catalogue import NavigatorCatalogue
from slack_events import (
    Incoming,
    SlashCommand,
    conversation_id,
    first_delivery,
    read_event,
    read_interaction,
    read_slash_command,
)
from slack_signing import SlackSignatureError, verify

log = logging.getLogger(__name__)

CREDENTIAL_KEYS = ("signing_secret", "bot_token", "api_url", "advisors_channel", "dedup_url", "redis_url",
                   "navigator_url", "navigator_token")
SHUTDOWN_GRACE_SECONDS = 10.0


class SlackOutput(OutputChannel):
    """Collects the messages of one turn; the channel renders and posts them when the turn is over."""

    @classmethod
    def name(cls) -> str:
        return "slack"

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.messages.append(dict(message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.messages.append({"text": text})


class SlackInput(InputChannel):
    """Slack's Events API, interactivity and slash command, answered through the Web API.

    Args:
        signing_secret: the app's signing secret (also the key of the conversation pseudonyms).
        bot_token: the bot token (``xoxb-...``).
        api_url: the Web API's base address without trailing slash.
        advisors_channel: the advisors' channel id; handoff notices are posted there by the Navigator service,
            not by this channel, which accepts the key so that one credentials block serves both.
        dedup_url: the SQL database of the shared dedup store (SQLAlchemy URL).
        redis_url: Redis for the dedup store instead, when set.
        navigator_url: the Navigator service, whose API answers the slash command and gives entries' details.
        navigator_token: an API token of role ``reader`` for it.
        clock: seconds since the epoch, for the timestamp check (tests pass a fake one).
    """

    @classmethod
    def name(cls) -> str:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SlackInput:
        credentials = dict(credentials or {})
        unknown = sorted(set(credentials) - set(CREDENTIAL_KEYS))
        if unknown:
            raise ValueError(f"unknown Slack channel setting(s) {', '.join(unknown)}; the channel takes "
                             f"{', '.join(CREDENTIAL_KEYS)}")
        for required in ("signing_secret", "bot_token"):
            if not str(credentials.get(required) or "").strip():
                raise ValueError(f"the Slack channel needs '{required}' (NAVIGATOR_SLACK_"
                                 f"{required.upper()}); see docs/slack.md")
        return cls(**{key: str(credentials.get(key) or "") for key in CREDENTIAL_KEYS})

    def __init__(self, signing_secret: str, bot_token: str, api_url: str = DEFAULT_API_URL,
                 advisors_channel: str = "", dedup_url: str = "", redis_url: str = "", navigator_url: str = "",
                 navigator_token: str = "", *, clock: Callable[[], float] = time.time):
        self.signing_secret = signing_secret
        self.advisors_channel = advisors_channel
        self._clock = clock
        self._dedup_url, self._redis_url = dedup_url, redis_url
        self._seen: SeenEvents | None = None
        self.client = SlackWebClient(api_url or DEFAULT_API_URL, bot_token)
        self.catalogue = NavigatorCatalogue(navigator_url, navigator_token)
        self._tasks: set[asyncio.Task[None]] = set()
        self._latest: dict[str, asyncio.Task[None]] = {}

    def get_output_channel(self) -> OutputChannel | None:
        return None  # answers go to the channel and thread of the message, known only while handling it

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        slack_webhook = Blueprint("navigator_slack_webhook", __name__)

        @slack_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @slack_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        @slack_webhook.listener("before_server_stop")
        async def finish(*_: Any) -> None:
            await self.aclose()

        return slack_webhook

    async def aclose(self) -> None:
        """Let running answers finish (for a few seconds), then close the HTTP sessions and the store."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=SHUTDOWN_GRACE_SECONDS)
        await self.client.close()
        await self.catalogue.close()
        if self._seen is not None:
            await self._seen.close()
            self._seen = None

    async def _receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
                       ) -> HTTPResponse:
        body = request.body or b""
        try:
            verify(self.signing_secret, request.headers, body, self._clock())
        except SlackSignatureError as refused:
            log.warning("refused a Slack request: %s", refused.reason)
            return response.text("", status=401)
        retry = request.headers.get("X-Slack-Retry-Num")
        if retry:
            # Taken or dropped by the dedup store (in the background), whatever the reason Slack gives.
            log.info("Slack retry %s (%s)", retry[:8], request.headers.get("X-Slack-Retry-Reason", "")[:40])
        media_type = (request.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if media_type == "application/json":
            return await self._receive_json(body, on_new_message)
        if media_type == "application/x-www-form-urlencoded":
            return await self._receive_form(body, on_new_message)
        return response.text("", status=415)

    async def _receive_json(self, body: bytes, on_new_message: Callable[[UserMessage], Awaitable[Any]]
                            ) -> HTTPResponse:
        payload = _json_object(body)
        if payload is None:
            return response.text("", status=400)
        if payload.get("type") == "url_verification":
            return response.json({"challenge": str(payload.get("challenge") or "")})
        incoming = read_event(payload)
        if incoming is not None:
            self._queue(incoming, on_new_message)
        return response.text("", status=200)

    async def _receive_form(self, body: bytes, on_new_message: Callable[[UserMessage], Awaitable[Any]]
                            ) -> HTTPResponse:
        try:
            form = {key: values[0] for key, values in parse_qs(body.decode("utf-8"), strict_parsing=False).items()}
        except UnicodeDecodeError:
            return response.text("", status=400)
        if "payload" in form:
            payload = _json_object(form["payload"].encode("utf-8"))
            if payload is None:
                return response.text("", status=400)
            for incoming in read_interaction(payload):
                self._queue(incoming, on_new_message)
            return response.text("", status=200)
        command = read_slash_command(form)
        if command is None:
            return response.text("", status=400)
        self._in_background(self._answer_command(command))
        return response.text("", status=200)

    async def _first_sighting(self, keys: tuple[str, ...]) -> bool:
        """Whether to answer the delivery with these dedup keys (:func:`slack_events.first_delivery`)."""
        if self._seen is None:
            self._seen = open_seen_events(self._dedup_url, self._redis_url)
        return await first_delivery(self._seen, keys)

    def _queue(self, incoming: Incoming, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Answer ``incoming`` in the background, after the conversation's previous message (in the order Slack
        delivered them: the turns of a form must not overtake each other)."""
        sender = conversation_id(self.signing_secret, incoming.team, incoming.channel, incoming.user)
        task = self._in_background(self._answer(incoming, sender, self._latest.get(sender), on_new_message))
        self._latest[sender] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._latest.get(sender) is done:
                del self._latest[sender]

        task.add_done_callback(forget)

    def _in_background(self, work: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            log.error("a Slack message was not answered: %s", type(error).__name__, exc_info=error)

    async def _answer(self, incoming: Incoming, sender: str, previous: asyncio.Task[None] | None,
                      on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Unless it was taken before, run the assistant's turn for ``incoming`` as conversation ``sender`` once
        ``previous`` (its last message's answer) is done, and post what it said to the channel (in the thread)."""
        taken = await self._first_sighting(incoming.dedup_keys)
        if previous is not None:
            # Even a dropped repeat waits, so that the conversation's next message cannot overtake the previous.
            await asyncio.wait([previous])
        if not taken:
            return
        output = SlackOutput()
        await on_new_message(UserMessage(incoming.text, output, sender, input_channel=self.name()))
        hits = search_hits(output.messages)
        details = await self.catalogue.entries(str(hit.get("id")) for hit in hits) if hits else {}
        try:
            for body in render_turn(output.messages, details):
                await self.client.post_message(incoming.channel, body, incoming.thread_ts)
        except SlackApiError as failed:
            log.warning("could not post an answer to Slack (conversation %s): %s", sender, failed.error)

    async def _answer_command(self, command: SlashCommand) -> None:
        """Unless it was taken before, the ephemeral ranked matches for ``/navigator <need>``, posted at the
        command's response_url."""
        if not await self._first_sighting(command.dedup_keys):
            return
        hits: list[dict[str, Any]] | None = []
        details: dict[str, dict[str, Any]] = {}
        if command.need.strip():
            hits = await self.catalogue.search(command.need)
            if hits:
                details = await self.catalogue.entries(str(hit.get("id")) for hit in hits)
        try:
            await self.client.respond(command.response_url, slash_answer(command.need, hits, details))
        except SlackApiError as failed:
            log.warning("could not answer a Slack slash command: %s", failed.error)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return None
    return payload if isinstance(payload, dict) else None
