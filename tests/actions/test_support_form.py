from __future__ import annotations

import pytest

from actions.support_form import (ActionAskConfirmation, ActionDropSupportRequest, ActionPrepareSupportRequest,
                                  ActionSubmitSupportRequest, ValidateSupportRequestForm, request_channel)
from tests.actions.conftest import make_tracker, responses, slot_events

FORM = "support_request_form"
COMPLETE = {
    "company_name": "Acme Bio AB", "contact_person": "Alex Doe", "email": "alex@acme.se", "phone": "-",
    "org_number": "556677-8899", "need_summary": "GMP vectors for a trial", "consent": "yes",
    "confirmation": "confirm", "chosen_entries": ["vecura-gmp"], "form_failures": 0,
}


async def test_prepare_prefills_summary_and_entries(dispatcher) -> None:
    tracker = make_tracker("open a request", intent="request_support",
                           slots={"need": "GMP vectors", "last_hits": ["a", "b", "c", "d"]})
    slots = slot_events(await ActionPrepareSupportRequest().run(dispatcher, tracker, {}))
    assert slots["need_summary"] == "GMP vectors" and slots["chosen_entries"] == ["a", "b", "c"]
    assert slots["company_name"] is None and slots["form_failures"] == 0


async def test_prepare_prefers_the_entry_being_discussed(dispatcher) -> None:
    tracker = make_tracker("contact them", intent="request_support",
                           slots={"selected_entry": "b", "last_hits": ["a", "b"]})
    assert slot_events(await ActionPrepareSupportRequest().run(dispatcher, tracker, {}))["chosen_entries"] == ["b"]


async def validate(slot: str, value: str, *, intent: str = "inform", failures: int = 0, events=None):
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    tracker = make_tracker(value, intent=intent, slots={slot: value, "requested_slot": slot, "form_failures": failures},
                           active_loop=FORM, events=events)
    method = getattr(ValidateSupportRequestForm(), f"validate_{slot}")
    return await method(value, dispatcher, tracker, {}), responses(dispatcher)


@pytest.mark.parametrize(
    ("slot", "value", "intent", "expected"),
    [
        ("email", " Alex@Acme.SE ", "inform", "Alex@acme.se"),
        ("phone", "+46 8 123 456 78", "inform", "+46 8 123 456 78"),
        ("phone", "skip", "inform", "-"),
        ("phone", "no", "deny", "-"),
        ("org_number", "556677-8899", "inform", "556677-8899"),
        ("org_number", "hoppa över", "inform", "-"),
        ("consent", "yes", "affirm", "yes"),
        ("consent", "/deny", "deny", "no"),
        ("consent", "ja", "inform", "yes"),
        ("confirmation", "confirm", "inform", "confirm"),
        ("confirmation", "cancel", "inform", "cancel"),
        ("company_name", "  Acme   Bio AB ", "inform", "Acme Bio AB"),
    ],
)
async def test_valid_answers_are_normalised(slot, value, intent, expected) -> None:
    result, said = await validate(slot, value, intent=intent)
    assert result == {slot: expected, "form_failures": 0} and said == []


@pytest.mark.parametrize(
    ("slot", "value", "response"),
    [
        ("email", "alex at acme", "utter_invalid_email"),
        ("email", "<script>@x", "utter_invalid_email"),
        ("phone", "call me maybe", "utter_invalid_phone"),
        ("org_number", "556677-8890", "utter_invalid_org_number"),
        ("org_number", "12345", "utter_invalid_org_number"),
        ("company_name", "x" * 201, "utter_invalid_company_name"),
        ("need_summary", "y" * 5001, "utter_invalid_need_summary"),
        ("consent", "maybe later", "utter_ask_consent_again"),
        ("confirmation", "hmm", "utter_ask_confirmation_again"),
    ],
)
async def test_invalid_answers_are_refused_and_counted(slot, value, response) -> None:
    result, said = await validate(slot, value, failures=1)
    assert result == {slot: None, "form_failures": 2} and said == [response]


async def test_the_third_failure_ends_the_form() -> None:
    result, said = await validate("email", "still wrong", failures=2)
    assert result == {"email": None, "form_failures": 3} and said == []
    form = ValidateSupportRequestForm()
    tracker = make_tracker("x", slots={"form_failures": 3}, active_loop=FORM)
    assert await form.required_slots(["email"], None, tracker, {}) == []


async def test_refused_consent_ends_the_form() -> None:
    tracker = make_tracker("no", intent="deny", slots={"consent": "no"}, active_loop=FORM)
    assert await ValidateSupportRequestForm().required_slots(["consent", "confirmation"], None, tracker, {}) == []


async def test_edit_clears_the_answers() -> None:
    result, said = await validate("confirmation", "change something")
    assert said == ["utter_ask_what_to_edit"]
    assert result["company_name"] is None and result["email"] is None and result["confirmation"] is None


async def test_yes_to_continue_is_not_taken_as_an_answer(dispatcher) -> None:
    paused = [{"event": "action", "name": "utter_form_paused"}, {"event": "bot", "text": "Shall we continue?"},
              {"event": "action", "name": "action_listen"}]
    tracker = make_tracker("yes", intent="affirm", slots={"consent": "yes", "requested_slot": "consent"},
                           active_loop=FORM, events=paused)
    events = await ValidateSupportRequestForm().run(dispatcher, tracker, {"slots": {}, "forms": {}})
    assert slot_events(events) == {"consent": None}


async def test_confirmation_shows_names_not_ids(sample_engine, dispatcher) -> None:
    tracker = make_tracker("x", slots={**COMPLETE, "chosen_entries": ["vecura-gmp", "almi-loans"]})
    await ActionAskConfirmation(sample_engine).run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["chosen_entries"] == "Vecura; Almi innovation loans"


def submit_action(engine, store):
    return ActionSubmitSupportRequest(engine, store, "advisors@example.org", "2026-11")


async def test_confirmed_request_is_stored_once_even_when_retried(sample_engine, store, dispatcher) -> None:
    tracker = make_tracker("confirm", slots=COMPLETE)
    action = submit_action(sample_engine, store)
    events = await action.run(dispatcher, tracker, {})
    reference = slot_events(events)["request_reference"]
    assert responses(dispatcher) == ["utter_request_created", "custom"]
    assert dispatcher.messages[0]["reference"] == reference
    again = await action.run(dispatcher, tracker, {})  # Rasa retrying the same action call
    assert slot_events(again)["request_reference"] == reference
    stored = store.list()
    assert [r.reference for r in stored] == [reference]
    request = stored[0]
    assert request.email == "alex@acme.se" and request.phone is None and request.org_number == "556677-8899"
    assert request.routed_contact == "contact-desk" and list(request.entry_ids) == ["vecura-gmp"]
    assert request.conversation_id == "conversation-1" and request.channel == "rest"


def _form_run(started_at: float, confirmed_at: float) -> list[dict]:
    """The events of one run of the form: the message that opened it, its activation, and a confirmation."""
    return [{"event": "user", "text": "open a support request", "timestamp": started_at},
            {"event": "active_loop", "name": FORM, "timestamp": started_at + 0.1},
            {"event": "user", "text": "confirm", "timestamp": confirmed_at}]


async def test_confirm_sent_again_after_a_lost_turn_stores_nothing_new(sample_engine, store, dispatcher) -> None:
    # The first "confirm" stored the request, but its turn was never saved (the database went away): the user
    # says "confirm" again, a new message with a new time, in the same run of the form.
    action = submit_action(sample_engine, store)
    first = make_tracker("confirm", slots=COMPLETE, events=_form_run(100.0, 160.0))
    retried = make_tracker("confirm", slots=COMPLETE, events=_form_run(100.0, 160.0) + [
        {"event": "user", "text": "confirm", "timestamp": 175.0}])
    references = [slot_events(await action.run(dispatcher, tracker, {}))["request_reference"]
                  for tracker in (first, retried)]
    assert references[0] == references[1] and len(store.list()) == 1
    # The next run of the form in the same conversation is a new request.
    later = make_tracker("confirm", slots=COMPLETE, events=_form_run(100.0, 160.0) + [
        {"event": "active_loop", "name": None, "timestamp": 161.0}] + _form_run(300.0, 360.0))
    assert slot_events(await action.run(dispatcher, later, {}))["request_reference"] != references[0]
    assert len(store.list()) == 2


@pytest.mark.parametrize(
    ("override", "response"),
    [({"consent": "no"}, "utter_no_consent"), ({"confirmation": "cancel"}, "utter_request_cancelled"),
     ({"form_failures": 3}, "utter_too_many_tries")],
)
async def test_nothing_is_stored_without_consent_confirmation_or_valid_answers(sample_engine, store, dispatcher,
                                                                              override, response) -> None:
    events = await submit_action(sample_engine, store).run(dispatcher, make_tracker("x", slots={**COMPLETE, **override}), {})
    assert responses(dispatcher) == [response]
    assert store.list() == []
    assert slot_events(events)["email"] is None
    if response == "utter_no_consent":
        assert dispatcher.messages[0]["contact_email"] == "contact-desk@example.org"


async def test_drop_leaves_the_form(dispatcher) -> None:
    events = await ActionDropSupportRequest().run(dispatcher, make_tracker("no", intent="deny", active_loop=FORM), {})
    assert responses(dispatcher) == ["utter_form_dropped"]
    assert {"event": "active_loop", "timestamp": None, "name": None} in events


def answer_tracker(text: str, intent: str, response: str | None = None):
    tracker = make_tracker(text, intent=intent, active_loop=FORM)
    if response:
        tracker.latest_message["response_selector"] = {"faq": {"response": {"utter_action": response}}}
    return tracker


@pytest.mark.parametrize(
    ("text", "intent", "selected", "expected"),
    [
        ("what does it cost?", "faq", "utter_faq/cost", ["utter_faq/cost"]),
        ("vad händer med mina data", "faq", "utter_faq/privacy", ["utter_faq/privacy"]),
        ("are you a bot?", "bot_challenge", None, ["utter_iamabot"]),
    ],
)
async def test_questions_inside_the_form_are_answered(dispatcher, text, intent, selected, expected) -> None:
    from actions.support_form import ActionAnswerInForm

    assert await ActionAnswerInForm().run(dispatcher, answer_tracker(text, intent, selected), {}) == []
    assert responses(dispatcher) == expected


async def test_an_answer_taken_for_a_question_fills_the_requested_slot(dispatcher) -> None:
    from actions.support_form import ActionAnswerInForm

    tracker = answer_tracker("Beta Labs", "faq", "utter_faq/sites")
    tracker.slots["requested_slot"] = "company_name"
    events = await ActionAnswerInForm().run(dispatcher, tracker, {})
    assert slot_events(events) == {"company_name": "Beta Labs"} and responses(dispatcher) == []


async def test_a_question_is_not_taken_as_the_answer(dispatcher) -> None:
    tracker = make_tracker("what does it cost?", intent="faq",
                           slots={"company_name": "what does it cost?", "requested_slot": "company_name"},
                           active_loop=FORM)
    events = await ValidateSupportRequestForm().run(dispatcher, tracker, {"slots": {}, "forms": {}})
    assert slot_events(events) == {"company_name": None} and responses(dispatcher) == []


@pytest.mark.parametrize(("input_channel", "recorded"), [("botframework", "teams"), ("slack", "slack"),
                                                         ("socketio", "socketio"), ("rest", "rest")])
async def test_a_request_records_the_platform_it_came_from(sample_engine, store, dispatcher, input_channel: str,
                                                           recorded: str) -> None:
    tracker = make_tracker("confirm", slots=COMPLETE, sender=f"teams-{input_channel}")
    tracker.events[-1]["input_channel"] = input_channel
    await submit_action(sample_engine, store).run(dispatcher, tracker, {})
    assert [r.channel for r in store.list()] == [recorded]


def test_a_request_without_a_known_input_channel_records_rest() -> None:
    assert request_channel(None) == "rest" and request_channel("") == "rest"
