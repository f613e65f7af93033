"""A company asking for the status of its request: told only after giving the email on the request."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import slots
from support_requests.errors import RequestValidationError, SupportRequestError
from support_requests.store import RequestStore
from support_requests.validation import normalise_email

REFERENCE_PATTERN = re.compile(r"\bSLT-(\d{4})-(\d{4,})\b", re.IGNORECASE)
STATUS_EMAIL = "status_email"
MAX_TRIES = 3


class ValidateStatusCheckForm(FormValidationAction):
    """Reads the reference and the email; three failed answers end the check."""

    def name(self) -> str:
        return "validate_status_check_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        return [] if (tracker.get_slot(slots.FORM_FAILURES) or 0) >= MAX_TRIES else domain_slots

    @staticmethod
    def _fail(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, response: str) -> dict[str, Any]:
        failures = int(tracker.get_slot(slots.FORM_FAILURES) or 0) + 1
        if failures < MAX_TRIES:
            dispatcher.utter_message(response=response)
        return {slot: None, slots.FORM_FAILURES: failures}

    async def validate_reference(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is None:
            return {slots.REFERENCE: None}  # a reset, not an answer
        match = REFERENCE_PATTERN.search(str(value or ""))
        if not match:
            return self._fail(dispatcher, tracker, slots.REFERENCE, "utter_invalid_reference")
        return {slots.REFERENCE: f"SLT-{match.group(1)}-{match.group(2)}", slots.FORM_FAILURES: 0}

    async def validate_status_email(self, value: Any, dispatcher, tracker, domain) -> dict[str, Any]:
        if value is None:
            return {STATUS_EMAIL: None}  # a reset, not an answer
        try:
            return {STATUS_EMAIL: normalise_email(str(value or "")), slots.FORM_FAILURES: 0}
        except RequestValidationError:
            return self._fail(dispatcher, tracker, STATUS_EMAIL, "utter_invalid_status_email")


class ActionCheckRequestStatus(Action):
    """Says the status of the request when reference and email match; the same answer otherwise."""

    def __init__(self, store: RequestStore):
        self.store = store

    def name(self) -> str:
        return "action_check_request_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reference, email = tracker.get_slot(slots.REFERENCE), tracker.get_slot(STATUS_EMAIL)
        reset = [SlotSet(slots.REFERENCE, None), SlotSet(STATUS_EMAIL, None), SlotSet(slots.FORM_FAILURES, 0)]
        if (tracker.get_slot(slots.FORM_FAILURES) or 0) >= MAX_TRIES or not reference or not email:
            dispatcher.utter_message(response="utter_request_status_unknown")
            return reset
        try:
            request = await asyncio.to_thread(self.store.find_for_company, reference, email)
        except SupportRequestError:
            dispatcher.utter_message(response="utter_request_failed")
            return reset
        if request is None:
            dispatcher.utter_message(response="utter_request_status_unknown")
        else:
            # Only the status is told: notes and other details stay with the advisors.
            dispatcher.utter_message(response=f"utter_request_status_{request.status.value}", reference=reference)
        return reset
