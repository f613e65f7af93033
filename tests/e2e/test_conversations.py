"""Multi-turn conversations with the running assistant over Rasa's REST channel.

Both processes are real: the Rasa server with the trained model, and the Navigator service with the real
embedding model, the real catalogue and a fresh SQLite request database.
"""

from __future__ import annotations

import pytest

from support_requests.conversations import TrackerReader
from support_requests.store import RequestStore
from tests.e2e.conftest import Conversation

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

RESULTS = ["utter_results_intro", "utter_hit", "utter_hit", "utter_hit", "utter_results_options",
           "custom:search_results"]


def hit_ids(chat: Conversation) -> list[str]:
    return [h["id"] for h in chat.custom("search_results")["hits"]]


def test_greeting_introduces_the_assistant_and_privacy(chat: Conversation) -> None:
    assert chat.say("hello") == ["utter_greet", "utter_privacy_notice"]


def test_a_need_then_the_details_button(chat: Conversation) -> None:
    assert chat.say("We need GMP manufacturing of a lentiviral vector for our phase 1 gene therapy trial") == RESULTS
    ids = hit_ids(chat)
    assert "vecura-gmp" in ids
    payload = chat.custom("search_results")["hits"][0]
    assert 0 < payload["score"] <= 1 and payload["similarity"] > 0.3
    details = [b for b in chat.buttons() if b["payload"].startswith("/ask_details")]
    assert len(details) == 3
    assert chat.say(details[1]["payload"])[0] in ("utter_details", "utter_programme_details")
    assert chat.custom("entry_details")["id"] == ids[1]


def test_a_vague_need_gets_one_clarifying_question(chat: Conversation) -> None:
    assert chat.say("we need something with cells") == ["utter_ask_clarify"]
    assert chat.say("sorting immune cells by flow cytometry") == RESULTS
    assert any("flow-cytometry" in i for i in hit_ids(chat))
    assert "cells" in chat.custom("search_results")["need"]


def test_refinement_by_site_more_and_something_else(chat: Conversation, stack) -> None:
    chat.say("flow cytometry and cell sorting")
    first = hit_ids(chat)
    replies = chat.say("only Flemingsberg")
    assert replies[0] == "utter_results_intro_filtered"
    assert chat.custom("search_results")["filters"]["sites"] == ["flemingsberg"]
    flemingsberg = hit_ids(chat)
    assert chat.say("show more")[0] == "utter_results_intro_filtered"
    assert not set(hit_ids(chat)) & set(flemingsberg)
    assert chat.custom("search_results")["filters"]["sites"] == ["flemingsberg"]  # the preference persists
    replies = chat.say("none of these fit")
    assert replies[0] in ("utter_none_fit", "utter_none_fit_no_more")
    assert first  # the unfiltered search had results too


def test_details_by_name(chat: Conversation) -> None:
    assert chat.say("what does Vecura offer?")[0] == "utter_details"
    assert chat.custom("entry_details")["id"] == "vecura-gmp"


def test_contact_for_a_result(chat: Conversation) -> None:
    chat.say("we need cryo-EM of a membrane protein")
    first = hit_ids(chat)[0]
    replies = chat.say("who do I contact about the first one?")
    assert replies[0] == "utter_contact"
    contact = chat.custom("contact")
    assert contact["id"] == first and contact["contact"].startswith("contact-")
    assert contact["email"].endswith("@example.org")


def test_funding_for_the_need(chat: Conversation) -> None:
    chat.say("we want to run a clinical study of our medical device")
    replies = chat.say("show me funding for this")
    assert replies[0] == "utter_funding_intro" and replies.count("utter_programme_hit") >= 1
    assert all(h["type"] == "programme" for h in chat.custom("search_results")["hits"])


def test_questions_about_the_programme(chat: Conversation) -> None:
    assert chat.say("what is Stockholm Life Tech?") == ["utter_faq/what_is_slt"]
    assert chat.say("what happens to my data?") == ["utter_faq/privacy"]
    assert chat.say("does it cost anything?") == ["utter_faq/cost"]


def test_a_completed_support_request_is_stored_exactly_once(chat: Conversation, stack) -> None:
    chat.say("We need GMP manufacturing of a viral vector for a phase 1 trial")
    assert chat.say("I want to open a support request") == ["utter_ask_company_name"]
    assert chat.say("Acme Bio AB") == ["utter_ask_contact_person"]
    assert chat.say("Alex Doe") == ["utter_ask_email"]
    assert chat.say("alex at acme") == ["utter_invalid_email", "utter_ask_email"]
    assert chat.say("alex@acme-bio.se") == ["utter_ask_phone"]
    assert chat.say("skip") == ["utter_ask_org_number"]
    assert chat.say("556677-8899") == ["utter_ask_consent"]
    assert chat.say("yes") == ["utter_ask_confirmation"]
    replies = chat.say("confirm")
    assert replies == ["utter_request_created", "custom:support_request"]
    reference = chat.custom("support_request")["reference"]
    _, settings = stack
    with RequestStore.from_url(settings.database_url) as store:
        mine = [r for r in store.list() if r.conversation_id == chat.sender]
        assert [r.reference for r in mine] == [reference]
        assert mine[0].email == "alex@acme-bio.se" and mine[0].org_number == "556677-8899"
        assert mine[0].routed_contact.startswith("contact-") and mine[0].need_summary


def test_no_consent_stores_nothing(chat: Conversation, stack) -> None:
    chat.say("I want to open a support request")
    for answer in ("Beta Labs", "Kim Lee", "kim@beta.se", "skip", "skip", "We need proteomics of plasma samples"):
        chat.say(answer)
    assert chat.say("no") == ["utter_no_consent"]
    _, settings = stack
    with RequestStore.from_url(settings.database_url) as store:
        assert not [r for r in store.list() if r.conversation_id == chat.sender]


def test_asking_for_a_person_flags_the_conversation(chat: Conversation, stack) -> None:
    _, settings = stack
    reader = TrackerReader(settings.tracker_db_url)
    try:
        assert chat.say("hello") == ["utter_greet", "utter_privacy_notice"]
        assert reader.transcript(chat.sender).flagged_at is None  # stored, and not flagged yet
        assert chat.sender not in [c.conversation_id for c in reader.flagged().conversations]
        assert chat.say("I want to talk to a human") == ["utter_handoff", "custom:handoff"]
        assert chat.custom("handoff")["conversation"] == chat.sender
        # The flag the advisors' console lists: Rasa's tracker store has handoff_requested set for this sender.
        flagged = {c.conversation_id: c for c in reader.flagged().conversations}
        assert chat.sender in flagged and flagged[chat.sender].flagged_at is not None
        assert flagged[chat.sender].last_user_text == "I want to talk to a human"
        assert reader.transcript(chat.sender).flagged_at == flagged[chat.sender].flagged_at
    finally:
        reader.close()


def test_interruptions_inside_the_form(chat: Conversation) -> None:
    assert chat.say("please open a support request") == ["utter_ask_company_name"]
    assert chat.say("what does it cost?") == ["utter_faq/cost", "utter_ask_company_name"]
    assert chat.say("stop") == ["utter_form_paused"]
    assert chat.say("yes") == ["utter_ask_company_name"]
    assert chat.say("stop") == ["utter_form_paused"]
    assert chat.say("no") == ["utter_form_dropped"]
    assert chat.say("hello") == ["utter_greet", "utter_privacy_notice"]


def test_failing_validation_ends_after_three_tries(chat: Conversation) -> None:
    chat.say("open a support request")
    chat.say("Gamma AB")
    chat.say("Sam Berg")
    assert chat.say("not an email") == ["utter_invalid_email", "utter_ask_email"]
    assert chat.say("still not one") == ["utter_invalid_email", "utter_ask_email"]
    assert chat.say("nope") == ["utter_too_many_tries"]
    assert chat.say("hi") == ["utter_greet", "utter_privacy_notice"]


def test_out_of_scope_chitchat_and_bot_challenge(chat: Conversation) -> None:
    assert chat.say("book me a flight to Paris") == ["utter_out_of_scope"]
    assert chat.say("are you a bot?") == ["utter_iamabot"]
    assert chat.say("how are you today?") == ["utter_chitchat"]


@pytest.mark.parametrize(
    "message",
    ["", "   ", "<script>alert('x')</script>", "🧪🧬🦠", "x" * 10_000,
     "Vi behöver flödescytometri och cellsortering i Flemingsberg", "asdkjh qwe zzz"],
)
def test_bad_input_gets_a_sensible_answer(chat: Conversation, message: str) -> None:
    replies = chat.say(message)
    for text in chat.texts():
        assert "<script" not in text
    if message.strip():
        assert replies, "the assistant said nothing"
    assert not any(r.startswith("unknown:") and "Did you mean" not in r for r in replies), replies


def test_status_of_a_request_is_told_only_with_its_email(chat: Conversation, stack) -> None:
    import datetime as dt

    from support_requests.model import Consent, RequestDraft

    _, settings = stack
    with RequestStore.from_url(settings.database_url) as store:
        reference = store.create(RequestDraft(
            company_name="Delta Bio AB", contact_person="Robin Ek", email="robin@delta-bio.se",
            need_summary="Cryo-EM of a protein complex", entry_ids=["scilifelab-cryo-em-stockholm"],
            routed_contact="contact-scilifelab-structural-biology", routed_contact_email="s@example.org",
            channel="rest", conversation_id="elsewhere",
            consent=Consent(given_at=dt.datetime.now(dt.timezone.utc), notice_version="2026-11")),
            idempotency_key=f"status-{chat.sender}").reference
    assert chat.say(f"what is the status of my request {reference}?") == ["utter_ask_status_email"]
    assert chat.say("someone@else.se") == ["utter_request_status_unknown"]
    assert chat.say("any news on my support request?") == ["utter_ask_reference"]
    assert chat.say(reference) == ["utter_ask_status_email"]
    assert chat.say("Robin@delta-bio.se") == ["utter_request_status_new"]


def test_the_sixth_status_check_of_a_guessing_conversation_is_refused_even_with_the_right_pair(
        chat: Conversation, stack) -> None:
    import datetime as dt
    import random

    from support_requests.model import Consent, RequestDraft

    _, settings = stack
    with RequestStore.from_url(settings.database_url) as store:
        reference = store.create(RequestDraft(
            company_name="Epsilon Bio AB", contact_person="Kim Lund", email="kim@epsilon-bio.se",
            need_summary="GMP production of a viral vector", entry_ids=["vecura-gmp"],
            routed_contact="contact-vecura", routed_contact_email="v@example.org", channel="rest",
            conversation_id="elsewhere", consent=Consent(given_at=dt.datetime.now(dt.timezone.utc),
                                                         notice_version="2026-11")),
            idempotency_key=f"guessing-{chat.sender}").reference

    def check(ref: str, email: str) -> list[str]:
        replies = chat.say(f"what is the status of my request {ref}?")
        if replies == ["utter_ask_reference"]:  # the reference was not picked out of the sentence
            replies = chat.say(ref)
        assert replies == ["utter_ask_status_email"]
        return chat.say(email)

    guessed = random.Random(chat.sender).sample(range(1000, 9999), 5)  # references no other test asks about
    for number in guessed:
        assert check(f"SLT-1999-{number}", "kim@epsilon-bio.se") == ["utter_request_status_unknown"]
    assert check(reference, "kim@epsilon-bio.se") == ["utter_status_check_locked"]
    assert settings.advisors_email in chat.texts()[0]
