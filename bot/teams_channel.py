"""The Microsoft Teams channel (Bot Framework), in place of Rasa 3.6's stock ``botframework`` channel.

Same webhook as Rasa's (``/webhooks/botframework/webhook``), but:

- every request's token is validated as Microsoft's Bot Connector authentication document requires
  (:mod:`teams_auth`); a refused request gets 401/403, no reply and no tracker event;
- the webhook answers at once (202) and the turn runs in the background; its replies go out through an
  asynchronous connector client that gets its token from the bot's tenant and sends nothing to a serviceUrl
  outside the allow-list (:mod:`teams_connector`);
- an activity delivered again (same conversation and activity id) is taken once, in a store shared by every
  Rasa process (``channel_dedup``);
- ``<at>`` mentions are stripped, Adaptive Card submits become postbacks, adding the bot greets
  (:mod:`teams_activity`; the greeting is marked as built by the channel, :mod:`message_origin`, so that the input
  guard takes its ``/greet`` as a payload); buttons and search results are Adaptive Cards with inert text
  (:mod:`teams_cards`);
- ``composeExtension/query`` invokes are answered in the HTTP response with catalogue matches
  (:mod:`teams_extension`).

No Teams user id is logged or stored in a tracker (see :func:`teams_activity.sender_id`). Requests from this
channel record the channel ``teams``.

The launcher names it in credentials.yml as ``teams_channel.TeamsInput`` (see :meth:`TeamsInput.from_credentials`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

import channel_dedup
import teams_activity
from message_origin import MessageOrigin, with_origin
from teams_auth import (DEFAULT_OPENID_URL, DEFAULT_SERVICE_URL_HOSTS, BotConnectorAuthenticator, KeySet,
                        ServiceUrlPolicy, TeamsAuthError)
from teams_connector import DEFAULT_TOKEN_URL, ConnectorClient, ConnectorError, token_url_for
from teams_extension import INVOKE_NAME, CatalogueSearch, CatalogueUnavailable, query_text, result_response

logger = logging.getLogger(__name__)

CREDENTIAL_KEYS = ("app_id", "app_password", "tenant_id", "openid_url", "token_url", "service_url_hosts",
                   "dedup_url", "redis_url", "navigator_url", "navigator_token")


class TeamsInput(InputChannel):
    """Microsoft Teams over the Bot Framework, validated and deduplicated (see the module's docstring)."""

    @classmethod
    def name(cls) -> str:
        return "botframework"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """From credentials.yml's ``teams_channel.TeamsInput`` section.

        Keys: ``app_id`` and ``app_password`` (required), ``tenant_id`` (required while ``token_url`` has
        ``{tenant}``), ``openid_url``, ``token_url``, ``service_url_hosts`` (a list or a comma-separated string),
        ``dedup_url`` (SQLAlchemy URL of the shared store of seen activities; blank: this process only),
        ``redis_url`` (when set, the store is in Redis), ``navigator_url`` and ``navigator_token`` (the
        Navigator service and a reader token, for the messaging extension; blank: the extension is off).

        Raises:
            ValueError: a required key is missing, or a key is not one of these.
        """
        if not credentials:
            cls.raise_missing_credentials_exception()
        unknown = sorted(set(credentials) - set(CREDENTIAL_KEYS))
        if unknown:
            raise ValueError(f"unknown teams_channel.TeamsInput settings {unknown}; known: {list(CREDENTIAL_KEYS)}")
        app_id, app_password = str(credentials.get("app_id") or ""), str(credentials.get("app_password") or "")
        if not app_id or not app_password:
            raise ValueError("teams_channel.TeamsInput needs app_id and app_password "
                             "(NAVIGATOR_TEAMS_APP_ID, NAVIGATOR_TEAMS_APP_PASSWORD)")
        hosts = credentials.get("service_url_hosts") or DEFAULT_SERVICE_URL_HOSTS
        policy = ServiceUrlPolicy.from_hosts(hosts)
        token_url = token_url_for(str(credentials.get("token_url") or DEFAULT_TOKEN_URL),
                                  str(credentials.get("tenant_id") or ""))
        connector = ConnectorClient(app_id, app_password, token_url, policy)
        keys = KeySet(str(credentials.get("openid_url") or DEFAULT_OPENID_URL), connector.fetch_json)
        dedup_url, redis_url = str(credentials.get("dedup_url") or ""), str(credentials.get("redis_url") or "")
        seen = (channel_dedup.open_seen_events(dedup_url, redis_url) if dedup_url or redis_url
                else channel_dedup.MemorySeenEvents())
        navigator_url, navigator_token = (str(credentials.get("navigator_url") or ""),
                                          str(credentials.get("navigator_token") or ""))
        search = CatalogueSearch(navigator_url, navigator_token) if navigator_url and navigator_token else None
        return cls(BotConnectorAuthenticator(app_id, keys, policy), connector, seen, search)

    def __init__(self, authenticator: BotConnectorAuthenticator, connector: ConnectorClient,
                 seen: channel_dedup.SeenEvents, search: CatalogueSearch | None = None) -> None:
        self.authenticator = authenticator
        self.connector = connector
        self.seen = seen
        self.search = search
        self._turns: set[asyncio.Task] = set()

    def get_output_channel(self) -> OutputChannel | None:
        # Replies need the activity they answer (serviceUrl, conversation); there is nothing to send to outside
        # a turn, so Rasa's API triggers collect their messages instead.
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook_blueprint = Blueprint("teams_webhook", __name__)

        @webhook_blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook_blueprint.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            return await self.handle(request.headers.get("Authorization"), request.body, on_new_message)

        @webhook_blueprint.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.close()

        return webhook_blueprint

    async def handle(self, authorization: str | None, body: bytes,
                     on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        """One POST to the webhook: refuse, answer an invoke, or accept and run the turn in the background."""
        try:
            activity = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            activity = None
        if not isinstance(activity, dict):
            activity = {}
        try:
            await self.authenticator.authenticate(authorization, activity)
        except TeamsAuthError as error:
            logger.warning("Refused a Bot Framework request (%s): %s", error.status, error)
            return response.text("", status=error.status)
        if activity.get("type") == "invoke":
            return await self._invoke(activity)
        wanted = teams_activity.inbound(activity)
        if wanted is None:
            return response.text("", status=202)
        if isinstance(activity.get("id"), str) and activity["id"]:
            key = f"botframework:{activity['conversation']['id']}:{activity['id']}"
            if not await self.seen.first_sighting(key):
                logger.info("Skipped a Bot Framework activity delivered again")
                return response.text("", status=202)
        task = asyncio.create_task(self._run_turn(activity, wanted, on_new_message))
        self._turns.add(task)
        task.add_done_callback(self._turn_done)
        return response.text("", status=202)

    def _turn_done(self, task: asyncio.Task) -> None:
        self._turns.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The webhook has answered already: the log is the only place left to tell (without the user's id).
            logger.error("A Teams turn failed: %s: %s", type(task.exception()).__name__, task.exception())

    async def _run_turn(self, activity: Mapping[str, Any], wanted: teams_activity.Inbound,
                        on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        collector = CollectingOutputChannel()
        # No client address: Teams' requests come from Microsoft's servers (the input guard limits the sender).
        # Teams' locale is the user's client language: the conversation's language until the user writes one.
        locale = activity.get("locale")
        metadata = {"language": locale} if isinstance(locale, str) and locale else None
        if wanted.kind == "greeting":
            metadata = with_origin(metadata, MessageOrigin(channel_built=True))
        await on_new_message(UserMessage(wanted.text, collector, wanted.sender_id, input_channel=self.name(),
                                         metadata=metadata))
        messages = await self._with_contacts(collector.messages)
        skeleton = teams_activity.reply_skeleton(activity)
        reply_to = activity.get("id") if isinstance(activity.get("id"), str) else None
        try:
            for body in teams_activity.turn_activities(messages):
                await self.connector.send(activity["serviceUrl"], activity["conversation"]["id"],
                                          {**skeleton, **body}, reply_to)
        except ConnectorError as error:
            logger.warning("A Teams reply was not delivered: %s", error)

    async def _with_contacts(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The turn's messages with the contacts of search results looked up, so that each hit card shows whom to
        contact; unchanged when the catalogue cannot be asked."""
        if self.search is None:
            return messages
        out = []
        for message in messages:
            custom = message.get("custom")
            if isinstance(custom, dict) and custom.get("type") == "search_results" and isinstance(
                    custom.get("hits"), list):
                try:
                    custom = {**custom, "hits": await self.search.with_contacts(custom["hits"])}
                except CatalogueUnavailable as error:
                    logger.warning("Search results are shown without contacts: %s", error)
                message = {**message, "custom": custom}
            out.append(message)
        return out

    async def _invoke(self, activity: Mapping[str, Any]) -> HTTPResponse:
        if activity.get("name") != INVOKE_NAME or self.search is None:
            return response.json({}, status=501)
        text = query_text(activity.get("value"))
        try:
            hits = await self.search.search(text) if text else []
        except CatalogueUnavailable as error:
            logger.warning("The messaging extension's search failed: %s", error)
            return response.json({}, status=502)
        return response.json(result_response(hits))

    async def close(self) -> None:
        """Wait for running turns (briefly), then close the HTTP sessions and the store of seen activities."""
        if self._turns:
            await asyncio.wait(list(self._turns), timeout=10)
        await self.connector.close()
        if self.search is not None:
            await self.search.close()
        await self.seen.close()
