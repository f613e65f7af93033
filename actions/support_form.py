"""The support request form: preparing it, validating each answer, confirming, and saving the request."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import slots
from index.engine import SearchEngine
from index.routing import route_request
from support_requests.errors import RequestValidationError, SupportRequestError
from support_requests.model import Consent, RequestDraft
from support_requests.store import RequestStore
from support_requests.validation import normalise_email, validate_org_number, validate_phone

log = logging.getLogger(__name__)

FORM = "support_request_form"
MAX_TRIES = 3
NOT_GIVEN = "-"
# "hoppa över den", "skippa" and "nej tack" are trained as inform (bot/data/nlu_sv.yml): their words are matched here.
_SKIP = re.compile(r"^\s*(skip|no|none|nope|n/a|-|nej|nej tack|inget|ingen|(hoppa över|skippa)( den| det)?( tack)?)"
                   r"\s*[.!]?\s*$", re.IGNORECASE)
_YES = re.compile(r"^\s*(yes|y|ok|okay|sure|yes please|of course|ja|japp|okej|gärna|absolut)\b", re.IGNORECASE)
_NO = re.compile(r"^\s*(no|n|nope|no thanks|nej|nej tack)\b", re.IGNORECASE)
_CONFIRM = re.compile(r"^\s*(confirm|send|send it|yes|ok|okay|okej|correct|skicka|ja|bekräftar|bekräfta)\b",
                      re.IGNORECASE)
_EDIT = re.compile(r"^\s*((i want to|i'd like to|jag vill|vi vill)\s+)?(edit|change|change something|fix|ändra)\b",
                   re.IGNORECASE)
# Rasa names a channel by its webhook; a request records the platform. Teams keeps Rasa's Bot Framework webhook
# name ("botframework", bot/teams_channel.py), so its requests are recorded as "teams".
_REQUEST_CHANNELS = {"botframework": "teams"}
_CANCEL = re.compile(r"^\s*(cancel|no|stop|abort|avbryt|nej)\b", re.IGNORECASE)


def request_channel(input_channel: str | None) -> str:
    """The channel a request records for the Rasa input channel it came through: ``teams`` for Rasa's
    ``botframework`` webhook, ``rest`` when none is known, otherwise the input channel's own name."""
    if not input_channel:
        return "rest"
    return _REQUEST_CHANNELS.get(input_channel, input_channel)


def _intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _answers_pause(tracker: Tracker) -> bool:
    """True when the latest message answers "shall we continue?" rather than the form's question."""
    events = list(tracker.events)
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if not users:
        return False
    for event in reversed(events[: users[-1]]):
        if event.get("event") == "action" and event.get("name") not in ("action_listen", "action_extract_slots"):
            return event.get("name") == "utter_form_paused"
        if event.get("event") == "user":
            return False
    return False


_QUESTION_WORDS = frozenset(
    "what how who where when why which is are can could do does will would should may "
    "vad hur vem var när varför vilken vilka är kan kommer finns får".split())


def looks_like_question(text: str) -> bool:
    """A question rather than an answer to the form: it has a question mark or starts with a question word."""
    words = text.strip().lower().split()
    return "?" in text or bool(words and words[0] in _QUESTION_WORDS)


def _reset_form() -> list[EventType]:
    return [SlotSet(name, None) for name in slots.FORM_SLOTS] + [SlotSet(slots.FORM_FAILURES, 0)]


class ActionPrepareSupportRequest(Action):
    """Before the form: prefill the need summary and the chosen entries from the conversation."""

    def name(self) -> str:
        return "action_prepare_support_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        selected = tracker.get_slot(slots.SELECTED_ENTRY)
        chosen = [selected] if selected else list(tracker.get_slot(slots.LAST_HITS) or [])[:3]
        return _reset_form() + [
            SlotSet(slots.NEED_SUMMARY, tracker.get_slot(slots.NEED) or None),
            SlotSet(slots.CHOSEN_ENTRIES, chosen),
        ]


class ValidateSupportRequestForm(FormValidationAction):
    """Checks each answer; three failed answers in a row end the form with a way out."""

    def name(self) -> str:
        return "validate_support_request_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        requested = tracker.get_slot("requested_slot")
        text = tracker.latest_message.get("text") or ""
        taken_as_answer = bool(requested) and tracker.get_slot(requested) == text
        if taken_as_answer and (_answers_pause(tracker) or looks_like_question(text)):
            # "Yes, continue" or a question is not an answer to the form's question: ask that question again.
            return [SlotSet(requested, None)]
        return await super().run(dispatcher, tracker, domain)

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        if (tracker.get_slot(slots.FORM_FAILURES) or 0) >= MAX_TRIES or tracker.get_slot(slots.CONSENT) == "no":
            return []  # the form ends; the submit action explains what happens next
        return domain_slots

    def _fail(self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, response: str) -> dict[str, Any]:
        failures = int(tracker.get_slot(slots.FORM_FAILURES) or 0) + 1
        if failures < MAX_TRIES:
            dispatcher.utter_message(response=response)
        return {slot: None, slots.FORM_FAILURES: failures}

    @staticmethod
    def _ok(slot: str, value: Any) -> dict[str, Any]:
        return {slot: value, slots.FORM_FAILURES: 0}

    def _text(self, value: Any, slot: str, limit: int, dispatcher, tracker, response: str) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        if not text or len(text) > limit or text.startswith("/"):
            return self._fail(dispatcher, tracker, slot, response)
        return self._ok(slot, text)

    async def validate_company_name(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is None:
            return {slots.COMPANY_NAME: None}  # a reset, not an answer
        return self._text(value, slots.COMPANY_NAME, 200, dispatcher, tracker, "utter_invalid_company_name")

    async def validate_contact_person(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is None:
            return {slots.CONTACT_PERSON: None}  # a reset, not an answer
        return self._text(value, slots.CONTACT_PERSON, 200, dispatcher, tracker, "utter_invalid_contact_person")

    async def validate_need_summary(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is None:
            return {slots.NEED_SUMMARY: None}  # a reset, not an answer
        return self._text(value, slots.NEED_SUMMARY, 5000, dispatcher, tracker, "utter_invalid_need_summary")

    def _checked(self, value: Any, slot: str, check, response: str, dispatcher, tracker, *,
                 optional: bool = False) -> dict[str, Any]:
        """Normalise ``value`` with ``check``; an optional slot also accepts "skip" (or "no")."""
        if value is None:
            return {slot: None}  # a reset, not an answer
        if optional and (_SKIP.match(str(value)) or _intent(tracker) == "deny"):
            return self._ok(slot, NOT_GIVEN)
        try:
            return self._ok(slot, check(str(value)))
        except RequestValidationError:
            return self._fail(dispatcher, tracker, slot, response)

    async def validate_email(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return self._checked(value, slots.EMAIL, normalise_email, "utter_invalid_email", dispatcher, tracker)

    async def validate_phone(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return self._checked(value, slots.PHONE, validate_phone, "utter_invalid_phone", dispatcher, tracker,
                             optional=True)

    async def validate_org_number(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        return self._checked(value, slots.ORG_NUMBER, validate_org_number, "utter_invalid_org_number", dispatcher,
                             tracker, optional=True)

    async def validate_consent(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is None:
            return {slots.CONSENT: None}  # a reset, not an answer
        text, intent = str(value or ""), _intent(tracker)
        if intent == "affirm" or _YES.match(text):
            return self._ok(slots.CONSENT, "yes")
        if intent == "deny" or _NO.match(text):
            return self._ok(slots.CONSENT, "no")
        return self._fail(dispatcher, tracker, slots.CONSENT, "utter_ask_consent_again")

    async def validate_confirmation(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is None:
            return {slots.CONFIRMATION: None}  # a reset, not an answer
        text = str(value or "")
        if _EDIT.match(text):
            dispatcher.utter_message(response="utter_ask_what_to_edit")
            # Everything is asked again; the slots keep nothing of the first round.
            return {**{name: None for name in slots.FORM_SLOTS}, slots.FORM_FAILURES: 0}
        if _CONFIRM.match(text) or _intent(tracker) == "affirm":
            return self._ok(slots.CONFIRMATION, "confirm")
        if _CANCEL.match(text) or _intent(tracker) in ("deny", "stop"):
            return self._ok(slots.CONFIRMATION, "cancel")
        return self._fail(dispatcher, tracker, slots.CONFIRMATION, "utter_ask_confirmation_again")


class ActionAnswerInForm(Action):
    """Answers a question asked in the middle of the form, or takes the message as the answer it really was.

    Short answers such as a company name are sometimes classified as a question about the programme; only
    messages that look like questions are answered, and anything else fills the slot the form asked for.
    """

    def name(self) -> str:
        return "action_answer_in_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        if not looks_like_question(text):
            requested = tracker.get_slot("requested_slot")
            return [SlotSet(requested, text)] if requested else []
        if _intent(tracker) == "bot_challenge":
            dispatcher.utter_message(response="utter_iamabot")
            return []
        selected = (tracker.latest_message.get("response_selector") or {}).get("faq", {}).get("response", {})
        response = selected.get("utter_action")
        if response:
            dispatcher.utter_message(response=response)
        return []


class ActionAskConfirmation(Action):
    """Shows the whole request for confirmation, with entry names rather than ids."""

    def __init__(self, engine: SearchEngine):
        self.engine = engine

    def name(self) -> str:
        return "action_ask_confirmation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        names = [e.name for e in (self.engine.entry(i) for i in tracker.get_slot(slots.CHOSEN_ENTRIES) or []) if e]
        dispatcher.utter_message(
            response="utter_ask_confirmation",
            company_name=tracker.get_slot(slots.COMPANY_NAME),
            contact_person=tracker.get_slot(slots.CONTACT_PERSON),
            email=tracker.get_slot(slots.EMAIL),
            phone=tracker.get_slot(slots.PHONE) or NOT_GIVEN,
            org_number=tracker.get_slot(slots.ORG_NUMBER) or NOT_GIVEN,
            need_summary=tracker.get_slot(slots.NEED_SUMMARY),
            chosen_entries="; ".join(names) or NOT_GIVEN,
        )
        return []


class ActionSubmitSupportRequest(Action):
    """After the form: save the request (once), or explain why nothing was saved."""

    def __init__(self, engine: SearchEngine, store: RequestStore, advisors_email: str, privacy_notice_version: str):
        self.engine = engine
        self.store = store
        self.advisors_email = advisors_email
        self.privacy_notice_version = privacy_notice_version

    def name(self) -> str:
        return "action_submit_support_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        chosen = list(tracker.get_slot(slots.CHOSEN_ENTRIES) or [])
        route = route_request(chosen, self.engine.entry, self.advisors_email)
        if (tracker.get_slot(slots.FORM_FAILURES) or 0) >= MAX_TRIES:
            dispatcher.utter_message(response="utter_too_many_tries")
            return _reset_form()
        if tracker.get_slot(slots.CONSENT) == "no":
            dispatcher.utter_message(response="utter_no_consent", contact_email=route.email)
            return _reset_form()
        if tracker.get_slot(slots.CONFIRMATION) != "confirm":
            dispatcher.utter_message(response="utter_request_cancelled")
            return _reset_form()
        draft = RequestDraft(
            company_name=tracker.get_slot(slots.COMPANY_NAME),
            contact_person=tracker.get_slot(slots.CONTACT_PERSON),
            email=tracker.get_slot(slots.EMAIL),
            phone=None if tracker.get_slot(slots.PHONE) in (None, NOT_GIVEN) else tracker.get_slot(slots.PHONE),
            org_number=None if tracker.get_slot(slots.ORG_NUMBER) in (None, NOT_GIVEN) else tracker.get_slot(slots.ORG_NUMBER),
            need_summary=tracker.get_slot(slots.NEED_SUMMARY),
            entry_ids=chosen,
            routed_contact=route.contact_id,
            routed_contact_email=route.email,
            channel=request_channel(tracker.get_latest_input_channel()),
            conversation_id=tracker.sender_id,
            consent=Consent(given_at=dt.datetime.now(dt.timezone.utc), notice_version=self.privacy_notice_version),
        )
        key = f"{tracker.sender_id}:{self._form_start(tracker)}"
        try:
            request = await asyncio.get_running_loop().run_in_executor(
                None, lambda: self.store.create(draft, idempotency_key=key))
        except SupportRequestError as exc:
            log.error("support request of conversation %s not saved: %s", tracker.sender_id, type(exc).__name__)
            dispatcher.utter_message(response="utter_request_failed")
            return []
        dispatcher.utter_message(response="utter_request_created", reference=request.reference)
        dispatcher.utter_message(json_message={"type": "support_request", "reference": request.reference})
        return _reset_form() + [SlotSet(slots.REQUEST_REFERENCE, request.reference)]

    @staticmethod
    def _form_start(tracker: Tracker) -> str:
        """The time of the user message that last started (or resumed) the form: the same on every retry of this
        action, and on a "confirm" sent again after a turn whose tracker could not be saved, but new for the next
        request of the conversation."""
        events = tracker.events
        for index in range(len(events) - 1, -1, -1):
            event = events[index]
            if event.get("event") == "active_loop" and event.get("name") == FORM:
                for earlier in reversed(events[:index]):
                    if earlier.get("event") == "user":
                        return f"form-{earlier.get('timestamp')}"
        # No form start in the events Rasa sent: the confirming message's time.
        for event in reversed(events):
            if event.get("event") == "user":
                return f"confirm-{event.get('timestamp')}"
        return "no-user-event"


class ActionDropSupportRequest(Action):
    """Leave the form without saving anything."""

    def name(self) -> str:
        return "action_drop_support_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        dispatcher.utter_message(response="utter_form_dropped")
        return [ActiveLoop(None), SlotSet("requested_slot", None)] + _reset_form()
