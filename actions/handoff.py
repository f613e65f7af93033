"""Handing the conversation to a person."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import slots

log = logging.getLogger(__name__)


class ActionFlagForAdvisor(Action):
    """Flag the conversation for an innovation advisor (the console lists flagged conversations)."""

    def name(self) -> str:
        return "action_flag_for_advisor"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        log.info("conversation %s flagged for an advisor", tracker.sender_id)
        dispatcher.utter_message(response="utter_handoff")
        dispatcher.utter_message(json_message={"type": "handoff", "conversation": tracker.sender_id})
        return [SlotSet(slots.HANDOFF_REQUESTED, True)]
