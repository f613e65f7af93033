"""Swedish answers to the support request form: skipping, yes and no, Swedish phone numbers, organisation numbers.

Each answer is tried with the intent the NLU gives it (bot/data/nlu_sv.yml trains "hoppa över" and "skippa" as
inform, "ja" and "nej" as affirm and deny) and, where the validator has its own words for it, with ``inform`` too,
so that an answer is still understood when the NLU gets the intent wrong.
"""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.support_form import ValidateSupportRequestForm
from tests.actions.conftest import make_tracker, responses

FORM = "support_request_form"


async def validate(slot: str, value: str, intent: str) -> tuple[dict, list[str]]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(value, intent=intent, slots={slot: value, "requested_slot": slot, "form_failures": 0},
                           active_loop=FORM)
    method = getattr(ValidateSupportRequestForm(), f"validate_{slot}")
    return await method(value, dispatcher, tracker, {}), responses(dispatcher)


@pytest.mark.parametrize(("slot", "value", "intent", "expected"), [
    # Swedish phone formats: international, and national with the leading 0.
    ("phone", "+46 70 123 45 67", "inform", "+46 70 123 45 67"),
    ("phone", "070-123 45 67", "inform", "070-123 45 67"),
    ("phone", "0701234567", "inform", "0701234567"),
    ("phone", "+46701234567", "inform", "+46701234567"),
    ("phone", "08-123 456 78", "inform", "08-123 456 78"),
    ("phone", "+46 (0)70-123 45 67", "inform", "+46 (0)70-123 45 67"),
    ("phone", "  070 - 123  45 67 ", "inform", "070 - 123 45 67"),
    # Organisation numbers, as before.
    ("org_number", "556677-8899", "inform", "556677-8899"),
    ("org_number", "5566778899", "inform", "556677-8899"),
    ("org_number", "16556677-8899", "inform", "556677-8899"),
    # Skipping an optional question.
    ("phone", "hoppa över", "inform", "-"),
    ("phone", "Hoppa över.", "inform", "-"),
    ("phone", "hoppa över den", "inform", "-"),
    ("phone", "hoppa över det tack", "inform", "-"),
    ("phone", "skippa", "inform", "-"),
    ("org_number", "skippa det", "inform", "-"),
    ("org_number", "hoppa över", "inform", "-"),
    ("org_number", "nej tack", "inform", "-"),
    ("org_number", "nej tack", "deny", "-"),
    ("phone", "har inget telefonnummer", "deny", "-"),
    ("phone", "ingen", "inform", "-"),
    # Consent.
    ("consent", "ja", "affirm", "yes"),
    ("consent", "ja", "inform", "yes"),
    ("consent", "Ja tack", "inform", "yes"),
    ("consent", "japp", "inform", "yes"),
    ("consent", "okej", "inform", "yes"),
    ("consent", "jag godkänner", "affirm", "yes"),
    ("consent", "nej", "deny", "no"),
    ("consent", "nej", "inform", "no"),
    ("consent", "nej tack", "inform", "no"),
    ("consent", "nä", "deny", "no"),
    # Confirmation.
    ("confirmation", "ja", "affirm", "confirm"),
    ("confirmation", "ja", "inform", "confirm"),
    ("confirmation", "bekräfta", "inform", "confirm"),
    ("confirmation", "Bekräftar", "inform", "confirm"),
    ("confirmation", "skicka in", "inform", "confirm"),
    ("confirmation", "okej", "inform", "confirm"),
    ("confirmation", "nej", "deny", "cancel"),
    ("confirmation", "nej", "inform", "cancel"),
    ("confirmation", "avbryt", "stop", "cancel"),
])
async def test_swedish_answers_are_accepted(slot: str, value: str, intent: str, expected: str) -> None:
    result, said = await validate(slot, value, intent)
    assert result == {slot: expected, "form_failures": 0} and said == []


@pytest.mark.parametrize("value", ["ändra", "ändra något", "jag vill ändra något", "I want to change something"])
async def test_asking_to_change_the_request_asks_everything_again(value: str) -> None:
    result, said = await validate("confirmation", value, "inform")
    assert said == ["utter_ask_what_to_edit"] and result["confirmation"] is None and result["email"] is None


@pytest.mark.parametrize(("slot", "value", "response"), [
    ("phone", "ring mig på jobbet", "utter_invalid_phone"),
    ("phone", "070-12", "utter_invalid_phone"),
    ("org_number", "556677-8890", "utter_invalid_org_number"),  # a wrong check digit
    ("org_number", "hoppa", "utter_invalid_org_number"),
    ("consent", "jag vet inte", "utter_ask_consent_again"),
    ("consent", "jaha, vad betyder det", "utter_ask_consent_again"),
    ("confirmation", "kanske", "utter_ask_confirmation_again"),
])
async def test_swedish_answers_that_are_no_answer_are_refused(slot: str, value: str, response: str) -> None:
    result, said = await validate(slot, value, "inform")
    assert result == {slot: None, "form_failures": 1} and said == [response]
