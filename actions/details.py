"""Actions about one result: its details and its contact."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import slots
from actions.presenting import details_variables, entry_named_in, pick, position_from
from index.catalogue import Entry, EntryType
from index.engine import SearchEngine
from index.routing import contact_for


def resolve_entry(engine: SearchEngine, tracker: Tracker) -> tuple[Entry | None, int | None]:
    """The entry the user means: by position in the last results, by name, or the one last discussed.

    Returns:
        The entry (or ``None``) and its 1-based position in the last results (or ``None``).
    """
    last = list(tracker.get_slot(slots.LAST_HITS) or [])
    text = tracker.latest_message.get("text") or ""
    position = position_from(tracker.get_slot(slots.POSITION) or next(tracker.get_latest_entity_values(slots.POSITION), None), text)
    chosen = pick(last, position)
    if chosen is None:
        named = entry_named_in(text, engine.entries(), preferred=last)
        if named is not None:
            return named, (last.index(named.id) + 1 if named.id in last else None)
        chosen = tracker.get_slot(slots.SELECTED_ENTRY) or (last[0] if len(last) == 1 else None)
    entry = engine.entry(chosen) if chosen else None
    if entry is None:
        return None, None
    return entry, (last.index(entry.id) + 1 if entry.id in last else None)


class ActionShowDetails(Action):
    """Description, services, access conditions and web page of one entry."""

    def __init__(self, engine: SearchEngine):
        self.engine = engine

    def name(self) -> str:
        return "action_show_details"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        entry, rank = resolve_entry(self.engine, tracker)
        if entry is None:
            dispatcher.utter_message(response="utter_which_entry")
            return [SlotSet(slots.POSITION, None)]
        response = "utter_programme_details" if entry.type is EntryType.PROGRAMME else "utter_details"
        dispatcher.utter_message(response=response, **details_variables(entry, rank, tracker.get_slot(slots.LANGUAGE)))
        dispatcher.utter_message(json_message={"type": "entry_details", "id": entry.id})
        return [SlotSet(slots.SELECTED_ENTRY, entry.id), SlotSet(slots.POSITION, None)]


class ActionShowContact(Action):
    """The role and mailbox to write to about one entry."""

    def __init__(self, engine: SearchEngine):
        self.engine = engine

    def name(self) -> str:
        return "action_show_contact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        entry, _ = resolve_entry(self.engine, tracker)
        if entry is None:
            dispatcher.utter_message(response="utter_which_entry")
            return [SlotSet(slots.POSITION, None)]
        contact = contact_for(entry, self.engine.entry)
        if contact is None:
            contact = self.engine.entry("contact-slt-advisors")
        if contact is None:
            dispatcher.utter_message(response="utter_handoff")
        else:
            dispatcher.utter_message(response="utter_contact", name=entry.name, role=contact.role or contact.name,
                                     email=contact.email)
            if contact.sample_contact:
                dispatcher.utter_message(response="utter_contact_sample_note")
            dispatcher.utter_message(json_message={"type": "contact", "id": entry.id, "contact": contact.id,
                                                   "email": contact.email})
        return [SlotSet(slots.SELECTED_ENTRY, entry.id), SlotSet(slots.POSITION, None)]
