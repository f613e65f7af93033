"""Handing the conversation to a person."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import slots

log = logging.getLogger(__name__)

HandoffNotifier = Callable[[str], Awaitable[object]]
"""Tells the advisors elsewhere (their Slack channel) that the conversation with this id asks for a person."""


class ActionFlagForAdvisor(Action):
    """Flag the conversation for an innovation advisor (the console lists flagged conversations), and announce it
    through ``notifier`` when one is given, without making the company wait for it."""

    def __init__(self, notifier: HandoffNotifier | None = None):
        self.notifier = notifier
        self._announcing: set[asyncio.Task] = set()

    def name(self) -> str:
        return "action_flag_for_advisor"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        log.info("conversation %s flagged for an advisor", tracker.sender_id)
        if self.notifier is not None:
            task = asyncio.create_task(self.notifier(tracker.sender_id))
            self._announcing.add(task)  # kept until done, so that it is not collected half-way
            task.add_done_callback(self._announcing.discard)
        dispatcher.utter_message(response="utter_handoff")
        dispatcher.utter_message(json_message={"type": "handoff", "conversation": tracker.sender_id})
        return [SlotSet(slots.HANDOFF_REQUESTED, True)]
