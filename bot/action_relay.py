"""Rasa's way to the Navigator service's actions, with an apology instead of silence when the service is away.

When Rasa 3.6 cannot reach its action server, it logs the error and answers the user with nothing at all: an
empty reply, in the middle of a search or of the support-request form. Here Rasa's action endpoint points at this
relay, inside the Rasa server, which passes each call on to the Navigator service (``service_url``, its
``/webhook``, or a load balancer in front of several services) and passes the answer back unchanged. When the
service cannot be reached, does not answer within ``timeout`` seconds, or fails with a server error, the relay
answers as an action server would, with one response, ``utter_service_unavailable``, which names the advisors'
address, and no events, except that a form's unchecked answer is emptied, so that the form asks for it again.
The conversation stays where it was, and the next message is served normally once the service is back.

The relay is registered as an input channel (``action_relay.ActionRelayInput`` in credentials.yml), the way Rasa
lets a project add routes to its server: ``POST /webhooks/navigator_actions/webhook``. It is on the same port as
the chat channels, so it answers only calls that carry the launcher's per-run secret in ``X-Navigator-Relay``
(sent by Rasa through the action endpoint's ``headers``); anything else gets 403 and reaches nothing.

Since every run configures it, the relay also guards the turns of every channel once the model is loaded: the
input guard first (bot/guarded_agent.py: size, payloads and rate limits, from its ``input_guard`` entry), inside
the apology for a store that fails (bot/turn_guard.py), and serves the input guard's counters at
``GET /navigator/metrics``. It also makes Rasa check the actions' answers with a validator made once
(bot/action_answer_check.py).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import action_answer_check
import aiohttp
import guarded_agent
import turn_guard
from input_guard import GuardSettings, InputGuard
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Navigator-Relay"
UNAVAILABLE_RESPONSE = "utter_service_unavailable"
DEFAULT_TIMEOUT = 60.0
# Headers of Rasa's call that the service needs to read the body.
_PASSED_HEADERS = ("Content-Type", "Content-Encoding")


def unavailable_answer(advisors_email: str, call: dict[str, Any] | None = None) -> dict[str, Any]:
    """The action server answer that makes Rasa utter the apology (one domain response).

    Args:
        advisors_email: the address the apology names.
        call: Rasa's action call, when it could be read. For a form's validation action the answer also empties
            the slot the form asked for, which Rasa has already filled from the message: the answer was not
            checked, so the form asks for it again rather than keeping it unchecked.
    """
    events: list[dict[str, Any]] = []
    if call and str(call.get("next_action", "")).startswith("validate_"):
        requested = ((call.get("tracker") or {}).get("slots") or {}).get("requested_slot")
        if isinstance(requested, str) and requested:
            events.append({"event": "slot", "name": requested, "value": None})
    return {"events": events, "responses": [{"response": UNAVAILABLE_RESPONSE, "advisors_email": advisors_email}]}


def read_call(body: bytes, encoding: str) -> dict[str, Any] | None:
    """Rasa's action call as JSON (Rasa may deflate it), or None when it cannot be read."""
    try:
        if encoding.lower() == "deflate":
            body = zlib.decompress(body)
        call = json.loads(body)
    except (zlib.error, ValueError):
        return None
    return call if isinstance(call, dict) else None


class ActionRelayInput(InputChannel):
    """Relays Rasa's action calls to the Navigator service; see the module's description."""

    def __init__(self, service_url: str, secret: str, advisors_email: str, timeout: float = DEFAULT_TIMEOUT,
                 input_guard: InputGuard | None = None):
        if not secret:
            raise ValueError("the action relay needs a secret (the launcher writes one into credentials.yml)")
        self.service_url = service_url
        self.secret = secret
        self.advisors_email = advisors_email
        self.timeout = timeout
        self.input_guard = input_guard or guarded_agent.make_guard(GuardSettings())
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def name(cls) -> str:
        return "navigator_actions"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ActionRelayInput:
        credentials = credentials or {}
        return cls(str(credentials.get("service_url", "")), str(credentials.get("secret", "")),
                   str(credentials.get("advisors_email", "")),
                   float(credentials.get("timeout", DEFAULT_TIMEOUT)),
                   guarded_agent.make_guard(GuardSettings.from_credentials(credentials.get("input_guard"))))

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use, inside the server's event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def relay(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, str]:
        """Pass one action call on. Returns ``(status, body, content type)`` of the answer to give Rasa: the
        service's own when it answered 200 or 400 (a rejected action, which Rasa handles), else the apology."""
        try:
            async with self._client().post(self.service_url, data=body, headers=headers) as answer:
                content = await answer.read()
                if answer.status in (200, 400):
                    return answer.status, content, answer.headers.get("Content-Type", "application/json")
                logger.error("the Navigator service answered an action call with HTTP %s; apologising",
                             answer.status)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:  # noqa: UP041 (not TimeoutError on 3.10)
            logger.error("the Navigator service at %s cannot be reached (%s); apologising", self.service_url,
                         type(error).__name__)
        call = read_call(body, headers.get("Content-Encoding", ""))
        return 200, json.dumps(unavailable_answer(self.advisors_email, call)).encode(), "application/json"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        relay = guarded_agent.blueprint_with_root_routes("navigator_actions",
                                                         guarded_agent.metrics_blueprint(self.input_guard))

        @relay.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), self.secret.encode()):
                return response.json({"error": "forbidden"}, status=403)
            headers = {name: request.headers[name] for name in _PASSED_HEADERS if name in request.headers}
            status, content, content_type = await self.relay(request.body, headers)
            return response.raw(content, status=status, content_type=content_type)

        # Every run configures this channel, so it also guards the turns of every channel, once the model is
        # loaded: the input guard first, wrapped in the turn guard's apology for a store that fails.
        @relay.listener("after_server_start")
        async def guard_turns(app: Sanic, _loop: Any) -> None:
            agent = getattr(app.ctx, "agent", None)
            if agent is not None:
                guarded_agent.guard(agent, self.input_guard)
                turn_guard.guard(agent, self.advisors_email)
            action_answer_check.install()

        return relay
