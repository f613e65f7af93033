"""The conversation's language, set again after every user message (slot ``language``).

Rasa runs :class:`ActionChooseLanguage` at every user message because the slot's mapping names it
(``type: custom, action: action_choose_language`` in bot/domain.yml); the responses then pick their Swedish or
English variation by the slot.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import slots
from actions.conversation_language import LanguageDetector, decide_language


class ActionChooseLanguage(Action):
    """Sets ``language`` when the user's message changes it; says nothing."""

    def __init__(self, detector: LanguageDetector):
        self._detector = detector

    def name(self) -> str:
        return "action_choose_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        message = tracker.latest_message or {}
        metadata = message.get("metadata")
        current = tracker.get_slot(slots.LANGUAGE)
        chosen = decide_language(str(message.get("text") or ""), current=current,
                                 channel=metadata.get("language") if isinstance(metadata, dict) else None,
                                 detector=self._detector, requested_slot=tracker.get_slot("requested_slot"))
        return [] if chosen == current else [SlotSet(slots.LANGUAGE, chosen)]
