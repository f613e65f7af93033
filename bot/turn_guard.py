"""An apology instead of silence when a turn fails inside the Rasa server because a shared store is away.

When Rasa 3.6 cannot take a conversation's lock (Redis is restarting), the turn raises; the REST channel logs it
and answers with an empty list, the socket.io channel with nothing at all. When it cannot load or save a
conversation (PostgreSQL, the tracker store, is restarting), it is worse: its ``FailSafeTrackerStore`` logs the
error and goes on with a new, empty conversation kept in the server's memory, so the user in the middle of the
support-request form is greeted as a stranger, and what is said meanwhile is lost when the database is back.

Here, once the model is loaded:

- the fail-safe store's error hook (``on_tracker_store_error``, a constructor argument Rasa's agent does not
  pass) raises :class:`TrackerStoreUnavailable` instead of falling back to memory;
- the agent's ``handle_message``, through which every channel's message goes (Rasa's channel handler looks the
  agent up at each message), is wrapped: a store failure is logged and the user gets
  ``utter_service_unavailable`` ("try again in a moment", with the advisors' address) on the channel the message
  came from. Nothing of the turn is kept: the next message starts from the conversation as the store last saved
  it, and a form asks again what it asked.

Installed by the action relay (bot/action_relay.py), which every run configures, once the server has started:
around the input guard (bot/guarded_agent.py), so that a store failure while the input guard reads a conversation
is apologised for too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis
import sqlalchemy.exc
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import LockError
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

UNAVAILABLE_RESPONSE = "utter_service_unavailable"


class TrackerStoreUnavailable(ConnectionError):
    """The tracker store cannot load or save a conversation (raised instead of Rasa's fall-back to memory)."""


# What a store that is away raises through Rasa: the lock store, SQLAlchemy (tracker store), Redis, the network.
STORE_FAILURES = (LockError, sqlalchemy.exc.SQLAlchemyError, redis.RedisError, OSError)


def guard(agent: Any, advisors_email: str) -> None:
    """Make the agent's tracker store raise instead of falling back to memory, and wrap ``agent.handle_message`` so
    that a store failure of a turn becomes the apology (once per agent)."""
    if getattr(agent.handle_message, "navigator_guarded", False):
        return
    store = getattr(agent, "tracker_store", None)
    if isinstance(store, FailSafeTrackerStore):
        store._on_tracker_store_error = refuse_fallback
    original: Callable[[UserMessage], Awaitable[Any]] = agent.handle_message

    async def handle_message(message: UserMessage) -> Any:
        try:
            return await original(message)
        except STORE_FAILURES as error:
            logger.error("a turn of conversation %s failed (%s: %s); apologising", message.sender_id,
                         type(error).__name__, str(error).splitlines()[0][:200] if str(error) else "")
            await apologise(agent, message, advisors_email)
            return None

    handle_message.navigator_guarded = True  # type: ignore[attr-defined]
    agent.handle_message = handle_message


def refuse_fallback(error: Exception) -> None:
    """The fail-safe tracker store's error hook: the turn fails (and is apologised for) instead of going on with an
    empty conversation in memory."""
    raise TrackerStoreUnavailable(f"the tracker store cannot be used: {type(error).__name__}") from error


async def apologise(agent: Any, message: UserMessage, advisors_email: str) -> None:
    """Send ``utter_service_unavailable`` to the message's channel, from the domain, without the stored
    conversation (which may be what cannot be read)."""
    if message.output_channel is None:
        return
    tracker = DialogueStateTracker(message.sender_id, agent.domain.slots)
    nlg = agent.processor.nlg
    answer = await nlg.generate(UNAVAILABLE_RESPONSE, tracker, message.output_channel.name(),
                                advisors_email=advisors_email)
    if answer:
        await message.output_channel.send_response(message.sender_id, answer)
