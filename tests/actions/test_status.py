from __future__ import annotations

import datetime as dt

import pytest

from actions.status import ActionCheckRequestStatus, ValidateStatusCheckForm
from support_requests.model import Consent, RequestDraft
from tests.actions.conftest import make_tracker, responses, slot_events


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


async def test_status_is_told_only_with_the_right_email(store, dispatcher) -> None:
    reference = stored_request(store)
    action = ActionCheckRequestStatus(store)
    events = await action.run(dispatcher, make_tracker("alex@acme.se", slots={
        "reference": reference, "status_email": "ALEX@acme.se"}), {})
    assert responses(dispatcher) == ["utter_request_status_new"]
    assert dispatcher.messages[0]["reference"] == reference
    assert slot_events(events) == {"reference": None, "status_email": None, "form_failures": 0}


@pytest.mark.parametrize("slots", [{"status_email": "someone@else.se"}, {"status_email": "alex@acme.se",
                                                                         "reference": "SLT-2020-9999"}])
async def test_wrong_email_or_reference_reveals_nothing(store, dispatcher, slots) -> None:
    reference = stored_request(store)
    await ActionCheckRequestStatus(store).run(dispatcher, make_tracker("x", slots={"reference": reference, **slots}), {})
    assert responses(dispatcher) == ["utter_request_status_unknown"]
