"""A company asking for the status of its request: told only after giving the email on the request.

Guessing is limited: the look-up runs through a :class:`~support_requests.status_guard.StatusCheckGuard`, which
refuses checks from a conversation, or of a reference, that failed too often within the hour. An unknown
reference and a wrong email get the same answer, so a failed check never tells whether the reference exists.
"""

from __future__ import annotations

import asyncio
import enum
import re
from functools import partial
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import slots
from support_requests.errors import RequestValidationError, SupportRequestError
from support_requests.status_guard import Lockout, StatusCheckGuard
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


class StatusCheckOutcome(str, enum.Enum):
    """How a status check with a well-formed reference and email ended."""

    FOUND = "found"
    """The reference and the email matched a request; its status was told."""
    FAILED = "failed"
    """They matched no request (unknown reference or wrong email): counted against guessing."""
    LOCKED_CONVERSATION = "locked_conversation"
    """Refused unseen: the conversation had too many failed checks within the window."""
    LOCKED_REFERENCE = "locked_reference"
    """Refused unseen: the reference had too many failed checks within the window."""


_LOCKED = {Lockout.CONVERSATION: StatusCheckOutcome.LOCKED_CONVERSATION,
           Lockout.REFERENCE: StatusCheckOutcome.LOCKED_REFERENCE}


class StatusCheckCounts:
    """How this process's status checks ended, for ``/metrics``: counts only, never a reference or a conversation.

    The action adds to it on the event loop; the metrics endpoint reads it there too.
    """

    def __init__(self) -> None:
        self._counts = dict.fromkeys(StatusCheckOutcome, 0)

    def add(self, outcome: StatusCheckOutcome) -> None:
        """Count one check that ended with ``outcome``."""
        self._counts[outcome] += 1

    def snapshot(self) -> dict[StatusCheckOutcome, int]:
        """The count of every outcome so far (0 for those that never happened)."""
        return dict(self._counts)


class ActionCheckRequestStatus(Action):
    """Says the status of the request when reference and email match; the same answer otherwise; and, once the
    conversation or the reference failed too often, that it cannot check now (without looking the pair up).

    Args:
        store: where requests are looked up.
        guard: counts failed checks and refuses checks past the limit.
        advisors_email: the address the lock-out answer points to.
        counts: where outcomes are counted for the service's metrics (None: not counted).
    """

    def __init__(self, store: RequestStore, guard: StatusCheckGuard, advisors_email: str,
                 counts: StatusCheckCounts | None = None):
        self.store = store
        self.guard = guard
        self.advisors_email = advisors_email
        self.counts = counts

    def name(self) -> str:
        return "action_check_request_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reference, email = tracker.get_slot(slots.REFERENCE), tracker.get_slot(STATUS_EMAIL)
        reset = [SlotSet(slots.REFERENCE, None), SlotSet(STATUS_EMAIL, None), SlotSet(slots.FORM_FAILURES, 0)]
        if (tracker.get_slot(slots.FORM_FAILURES) or 0) >= MAX_TRIES or not reference or not email:
            dispatcher.utter_message(response="utter_request_status_unknown")
            return reset
        try:
            result = await asyncio.to_thread(self.guard.check, reference, tracker.sender_id,
                                             partial(self.store.find_for_company, reference, email))
        except SupportRequestError:
            dispatcher.utter_message(response="utter_request_failed")
            return reset
        if result.lockout is not None:
            self._count(_LOCKED[result.lockout])
            dispatcher.utter_message(response="utter_status_check_locked", advisors_email=self.advisors_email)
        elif result.found is None:
            self._count(StatusCheckOutcome.FAILED)
            dispatcher.utter_message(response="utter_request_status_unknown")
        else:
            self._count(StatusCheckOutcome.FOUND)
            # Only the status is told: notes and other details stay with the advisors.
            dispatcher.utter_message(response=f"utter_request_status_{result.found.status.value}",
                                     reference=reference)
        return reset

    def _count(self, outcome: StatusCheckOutcome) -> None:
        if self.counts is not None:
            self.counts.add(outcome)
