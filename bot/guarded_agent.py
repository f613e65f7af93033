"""The input guard (bot/input_guard.py) in front of the Rasa agent, and its counters at ``GET /navigator/metrics``.

:func:`guard` wraps the agent's ``handle_message``, through which every channel's message goes: the guard's
decision is taken before Rasa reads anything. A refused message gets its answer (``utter_message_over_limit``,
``utter_slow_down``) from the domain on the channel it came from, or none (dropped, after the guard's hold), and
Rasa never sees it: no NLU, no lock, no tracker event. A message that passes goes on with the origin its channel
attached removed from its metadata, and with its text rewritten when it was a payload no button offered. Only for
a text in the payload syntax is the conversation read from the tracker store, to find the buttons the bot offered.

The action relay (bot/action_relay.py), which every run configures, installs both: the guard inside the turn
guard (bot/turn_guard.py), so that a tracker store or a Redis that fails while the guard reads it gets the turn
guard's apology, and the metrics route at the root of the server, beside the channels (a Prometheus text page;
each Rasa server counts its own messages, so scrape each one).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from input_guard import (
    OVER_LIMIT_RESPONSE,
    SLOW_DOWN_RESPONSE,
    Admission,
    GuardSettings,
    InputGuard,
    Outcome,
)
from message_origin import take_origin
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered, Event
from rasa.shared.core.trackers import DialogueStateTracker
from rate_limit import open_buckets
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

METRICS_PATH = "/navigator/metrics"
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_ANSWERED = {Outcome.REFUSE: OVER_LIMIT_RESPONSE, Outcome.SLOW_DOWN: SLOW_DOWN_RESPONSE}


def guard(agent: Any, input_guard: InputGuard) -> None:
    """Put ``input_guard`` in front of ``agent.handle_message`` (once per agent: a second call changes nothing)."""
    if getattr(agent, "navigator_input_guard", None) is not None:
        return
    original: Callable[[UserMessage], Awaitable[Any]] = agent.handle_message
    # The answers need no conversation: made from an empty tracker (the responses use no slot).
    blank = DialogueStateTracker("navigator-input-guard", [])

    async def handle_message(message: UserMessage) -> Any:
        origin, message.metadata = take_origin(message.metadata)
        admission = await input_guard.admit(message.text, message.sender_id, origin,
                                            lambda: offered_payloads(agent, message.sender_id))
        if admission.outcome is Outcome.PASS:
            message.text = admission.text
            return await original(message)
        if admission.outcome is Outcome.DROP:
            await input_guard.hold_dropped()
        await answer(agent, message, admission, blank, input_guard.settings.max_message_chars)
        return None

    agent.navigator_input_guard = input_guard
    agent.handle_message = handle_message


async def answer(agent: Any, message: UserMessage, admission: Admission, blank: DialogueStateTracker,
                 limit: int) -> None:
    """Send the refusal's response to the message's channel (nothing for a dropped message)."""
    name = _ANSWERED.get(admission.outcome)
    if name is None or message.output_channel is None:
        return
    reply = await agent.processor.nlg.generate(name, blank, message.output_channel.name(), limit=f"{limit:,}")
    if reply:
        await message.output_channel.send_response(message.sender_id, reply)


async def offered_payloads(agent: Any, sender_id: str) -> set[str]:
    """The payloads of the buttons of the bot's messages in the conversation's current session (as the tracker
    store returns it), or none for a new conversation."""
    tracker = await agent.tracker_store.retrieve(sender_id)
    return set(button_payloads(tracker.events)) if tracker is not None else set()


def button_payloads(events: Iterable[Event]) -> Iterable[str]:
    """The payloads of the buttons and quick replies of the bot messages among ``events``."""
    for event in events:
        if not isinstance(event, BotUttered):
            continue
        for key in ("buttons", "quick_replies"):
            for button in (event.data or {}).get(key) or []:
                if isinstance(button, dict) and isinstance(button.get("payload"), str) and button["payload"]:
                    yield button["payload"]


def make_guard(settings: GuardSettings) -> InputGuard:
    """The guard for these settings, with its buckets (in Redis when the settings name one)."""
    return InputGuard(settings, open_buckets(settings.redis_url))


def metrics_blueprint(input_guard: InputGuard) -> Blueprint:
    """``GET /navigator/metrics``: the guard's counters in Prometheus' text format."""
    metrics = Blueprint("navigator_input_guard_metrics")

    @metrics.route(METRICS_PATH, methods=["GET"])
    async def serve_metrics(_: Request) -> HTTPResponse:
        return response.text(input_guard.counters.prometheus_text(), content_type=PROMETHEUS_CONTENT_TYPE)

    @metrics.listener("after_server_stop")
    async def close_buckets(*_: Any) -> None:
        await input_guard.buckets.close()

    return metrics


def blueprint_with_root_routes(name: str, root: Blueprint) -> Blueprint:
    """A blueprint that, when Rasa registers it under its channel's prefix (``/webhooks/<name>/``), also registers
    ``root`` on the same app with no prefix. Sanic takes no new route once the server has started, and Rasa
    registers only a channel's own blueprint, under that prefix."""

    class WithRootRoutes(Blueprint):
        def register(self, app: Sanic, options: dict[str, Any]) -> None:
            super().register(app, options)
            if root.name not in app.blueprints:
                app.blueprint(root)

    return WithRootRoutes(name)
