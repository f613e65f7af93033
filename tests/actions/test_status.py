from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.status import ActionCheckRequestStatus, StatusCheckCounts, StatusCheckOutcome, ValidateStatusCheckForm
from support_requests.model import Consent, RequestDraft
from support_requests.status_guard import StatusCheckGuard
from tests.actions.conftest import make_tracker, responses, slot_events
from tests.support_requests.helpers import FakeClock

ADVISORS = "advisors@example.org"
LIMIT = 5


def stored_request(store) -> str:
    draft = RequestDraft(
        company_name="Acme Bio AB", contact_person="Alex Doe", email="alex@acme.se", need_summary="GMP vectors",
        entry_ids=["vecura-gmp"], routed_contact="contact-desk", routed_contact_email="desk@example.org",
        channel="rest", conversation_id="c-1",
        consent=Consent(given_at=dt.datetime.now(dt.timezone.utc), notice_version="2026-11"))
    return store.create(draft, idempotency_key="k-1").reference


@pytest.mark.parametrize(("value", "expected"), [("slt-2026-0042", "SLT-2026-0042"),
                                                 ("it is SLT-2025-0007, thanks", "SLT-2025-0007")])
async def test_reference_is_read_from_what_the_user_typed(dispatcher, value, expected) -> None:
    tracker = make_tracker(value, slots={"requested_slot": "reference"}, active_loop="status_check_form")
    result = await ValidateStatusCheckForm().validate_reference(value, dispatcher, tracker, {})
    assert result == {"reference": expected, "form_failures": 0}


async def test_bad_reference_and_email_are_refused(dispatcher) -> None:
    tracker = make_tracker("x", slots={"form_failures": 0}, active_loop="status_check_form")
    form = ValidateStatusCheckForm()
    assert (await form.validate_reference("42", dispatcher, tracker, {}))["reference"] is None
    assert (await form.validate_status_email("nope", dispatcher, tracker, {}))["status_email"] is None
    assert responses(dispatcher) == ["utter_invalid_reference", "utter_invalid_status_email"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def counts() -> StatusCheckCounts:
    return StatusCheckCounts()


@pytest.fixture
def action(store, clock, counts) -> ActionCheckRequestStatus:
    return ActionCheckRequestStatus(store, StatusCheckGuard(store.engine, clock=clock), ADVISORS, counts)


async def ask(action: ActionCheckRequestStatus, reference: str, email: str, sender: str = "conversation-1"
              ) -> tuple[list[dict], list[dict]]:
    """One status check as Rasa runs it once the form is complete: what was uttered, and the events."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, make_tracker(email, slots={"reference": reference, "status_email": email},
                                                       sender=sender), {})
    return dispatcher.messages, events


async def test_status_is_told_only_with_the_right_email(store, dispatcher, action) -> None:
    reference = stored_request(store)
    events = await action.run(dispatcher, make_tracker("alex@acme.se", slots={
        "reference": reference, "status_email": "ALEX@acme.se"}), {})
    assert responses(dispatcher) == ["utter_request_status_new"]
    assert dispatcher.messages[0]["reference"] == reference
    assert slot_events(events) == {"reference": None, "status_email": None, "form_failures": 0}


@pytest.mark.parametrize("slots", [{"status_email": "someone@else.se"}, {"status_email": "alex@acme.se",
                                                                         "reference": "SLT-2020-9999"}])
async def test_wrong_email_or_reference_reveals_nothing(store, dispatcher, action, slots) -> None:
    reference = stored_request(store)
    await action.run(dispatcher, make_tracker("x", slots={"reference": reference, **slots}), {})
    assert responses(dispatcher) == ["utter_request_status_unknown"]


async def test_an_unknown_reference_and_a_wrong_email_get_the_very_same_answer(store, action, counts) -> None:
    reference = stored_request(store)
    wrong_email = await ask(action, reference, "someone@else.se", sender="conversation-1")
    unknown_reference = await ask(action, "SLT-2026-9999", "alex@acme.se", sender="conversation-2")
    assert wrong_email == unknown_reference  # the same messages, with the same variables, and the same events
    assert [m["response"] for m in wrong_email[0]] == ["utter_request_status_unknown"]
    assert counts.snapshot()[StatusCheckOutcome.FAILED] == 2


@pytest.mark.parametrize("failures", [4, 5, 6])
async def test_a_conversation_is_locked_out_after_five_failed_checks(store, action, counts, failures) -> None:
    reference = stored_request(store)
    answers = [(await ask(action, f"SLT-2026-{100 + n:04d}", "alex@acme.se"))[0][0]["response"]
               for n in range(failures)]
    assert answers == ["utter_request_status_unknown"] * min(failures, LIMIT) + \
        ["utter_status_check_locked"] * (failures - LIMIT)
    messages, events = await ask(action, reference, "alex@acme.se")  # the right pair
    if failures < LIMIT:
        assert [m["response"] for m in messages] == ["utter_request_status_new"]
    else:
        assert messages == [{**messages[0], "response": "utter_status_check_locked", "advisors_email": ADVISORS}]
        assert "reference" not in messages[0]
    assert slot_events(events) == {"reference": None, "status_email": None, "form_failures": 0}
    # Another conversation may still check its request.
    assert (await ask(action, reference, "alex@acme.se", sender="other"))[0][0]["response"] == \
        "utter_request_status_new"
    locked = max(failures - LIMIT, 0) + (failures >= LIMIT)
    assert counts.snapshot() == {StatusCheckOutcome.FAILED: min(failures, LIMIT),
                                 StatusCheckOutcome.LOCKED_CONVERSATION: locked,
                                 StatusCheckOutcome.LOCKED_REFERENCE: 0,
                                 StatusCheckOutcome.FOUND: 1 + (failures < LIMIT)}


@pytest.mark.parametrize("failures", [4, 5, 6])
async def test_a_reference_is_locked_out_after_five_failed_checks_from_any_conversation(store, action, counts,
                                                                                        failures) -> None:
    reference = stored_request(store)
    answers = [(await ask(action, reference, f"guess{n}@example.org", sender=f"guesser-{n}"))[0][0]["response"]
               for n in range(failures)]
    assert answers == ["utter_request_status_unknown"] * min(failures, LIMIT) + \
        ["utter_status_check_locked"] * (failures - LIMIT)
    messages, _ = await ask(action, reference, "alex@acme.se", sender="the-company")
    expected = "utter_request_status_new" if failures < LIMIT else "utter_status_check_locked"
    assert [m["response"] for m in messages] == [expected]
    assert counts.snapshot()[StatusCheckOutcome.LOCKED_REFERENCE] == max(failures - LIMIT, 0) + (failures >= LIMIT)
    assert counts.snapshot()[StatusCheckOutcome.LOCKED_CONVERSATION] == 0


async def test_a_locked_out_conversation_is_not_looked_up_and_is_free_again_after_the_hour(
        store, action, clock, monkeypatch) -> None:
    reference = stored_request(store)
    for n in range(LIMIT):
        await ask(action, reference, f"guess{n}@example.org")
    lookups = []
    find = store.find_for_company
    monkeypatch.setattr(store, "find_for_company", lambda *args: lookups.append(args) or find(*args))
    clock.advance(minutes=59)
    assert (await ask(action, reference, "alex@acme.se"))[0][0]["response"] == "utter_status_check_locked"
    assert lookups == []  # even the right pair is not looked up while locked
    clock.advance(minutes=2)
    assert (await ask(action, reference, "alex@acme.se"))[0][0]["response"] == "utter_request_status_new"
    assert lookups == [(reference, "alex@acme.se")]


async def test_an_unusable_database_is_an_apology_not_a_failure(store, action, counts, monkeypatch) -> None:
    from support_requests.errors import StoreUnavailableError

    reference = stored_request(store)

    def outage(*args):
        raise StoreUnavailableError("the request database cannot be used")

    monkeypatch.setattr(store, "find_for_company", outage)
    for _ in range(LIMIT + 1):
        assert (await ask(action, reference, "alex@acme.se"))[0][0]["response"] == "utter_request_failed"
    monkeypatch.undo()
    assert (await ask(action, reference, "alex@acme.se"))[0][0]["response"] == "utter_request_status_new"
    assert counts.snapshot()[StatusCheckOutcome.FAILED] == 0
