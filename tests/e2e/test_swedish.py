"""Swedish conversations with the running assistant over Rasa's REST channel: every flow answered in Swedish,
the language taken from the page when the company has written nothing yet, and a switch in the middle.

Replies are identified by the name of the response, and their language by the variation they came from
(``Conversation.languages``), so copy edits never break these tests.
"""

from __future__ import annotations

import datetime as dt

import pytest

from support_requests.model import Consent, RequestDraft
from support_requests.store import RequestStore
from tests.e2e.conftest import Conversation
from tests.e2e.test_conversations import RESULTS, hit_ids

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_a_swedish_greeting_is_answered_in_swedish(chat: Conversation) -> None:
    assert chat.say("hej") == ["utter_greet", "utter_privacy_notice"]
    assert chat.languages() == {"sv"}


def test_the_page_language_sets_the_first_answer_and_writing_overrides_it(chat: Conversation) -> None:
    assert chat.say("/greet", metadata={"language": "sv"}) == ["utter_greet", "utter_privacy_notice"]
    assert chat.languages() == {"sv"}
    assert chat.say("We need cryo-EM of a membrane protein", metadata={"language": "sv"}) == RESULTS
    assert chat.languages() == {"en"}, "the company wrote in English"


def test_a_need_details_and_contact_in_swedish(chat: Conversation) -> None:
    replies = chat.say("Vi är ett litet medtechbolag och behöver testa vår produkt i en klinisk miljö, "
                       "helst i Flemingsberg")
    assert replies[0] in ("utter_results_intro", "utter_results_intro_filtered") and "custom:search_results" in replies
    assert chat.languages() == {"sv"}
    first = hit_ids(chat)[0]
    assert chat.say("berätta mer om den första")[0] in ("utter_details", "utter_programme_details")
    assert chat.custom("entry_details")["id"] == first and chat.languages() == {"sv"}
    assert chat.say("vem kontaktar jag om den?")[0] == "utter_contact"
    assert chat.custom("contact")["id"] == first and chat.languages() == {"sv"}


def test_refinement_more_and_funding_in_swedish(chat: Conversation) -> None:
    assert chat.say("vi behöver flödescytometri och cellsortering") == RESULTS
    assert chat.say("bara i Flemingsberg")[0] == "utter_results_intro_filtered"
    assert chat.custom("search_results")["filters"]["sites"] == ["flemingsberg"]
    assert chat.say("visa fler")[0] in ("utter_results_intro_filtered", "utter_no_more_results")
    assert chat.languages() == {"sv"}
    replies = chat.say("finns det finansiering för det här?")
    assert replies[0] == "utter_funding_intro" and chat.languages() == {"sv"}


def test_questions_about_the_programme_in_swedish(chat: Conversation) -> None:
    assert chat.say("vad är Stockholm Life Tech?") == ["utter_faq/what_is_slt"]
    assert chat.languages() == {"sv"}
    assert chat.say("kostar det något?") == ["utter_faq/cost"]
    assert chat.languages() == {"sv"}


def test_a_support_request_in_swedish_is_stored(chat: Conversation, stack) -> None:
    chat.say("vi behöver GMP-tillverkning av en virusvektor inför en fas 1-studie")
    assert chat.say("jag vill skicka en förfrågan om stöd") == ["utter_ask_company_name"]
    assert chat.languages() == {"sv"}
    assert chat.say("Acme Bio AB") == ["utter_ask_contact_person"]
    assert chat.say("John Smith") == ["utter_ask_email"]
    assert chat.languages() == {"sv"}, "a name says nothing of the language"
    assert chat.say("john at acme") == ["utter_invalid_email", "utter_ask_email"]
    assert chat.say("john@acme-bio.se") == ["utter_ask_phone"]
    assert chat.say("070-123 45 67") == ["utter_ask_org_number"]
    assert chat.say("hoppa över") == ["utter_ask_consent"]
    assert chat.languages() == {"sv"}
    assert chat.say("ja") == ["utter_ask_confirmation"]
    assert chat.say("skicka") == ["utter_request_created", "custom:support_request"]
    assert chat.languages() == {"sv"}
    reference = chat.custom("support_request")["reference"]
    _, settings = stack
    with RequestStore.from_url(settings.database_url) as store:
        mine = [r for r in store.list() if r.conversation_id == chat.sender]
        assert [r.reference for r in mine] == [reference]
        assert mine[0].phone and mine[0].org_number is None and mine[0].email == "john@acme-bio.se"


def test_status_and_handoff_in_swedish(chat: Conversation, stack) -> None:
    _, settings = stack
    with RequestStore.from_url(settings.database_url) as store:
        reference = store.create(RequestDraft(
            company_name="Zeta Bio AB", contact_person="Eva Lund", email="eva@zeta-bio.se",
            need_summary="Kryo-EM av ett proteinkomplex", entry_ids=["scilifelab-cryo-em-stockholm"],
            routed_contact="contact-scilifelab-structural-biology", routed_contact_email="s@example.org",
            channel="rest", conversation_id="elsewhere",
            consent=Consent(given_at=dt.datetime.now(dt.timezone.utc), notice_version="2026-11")),
            idempotency_key=f"status-sv-{chat.sender}").reference
    assert chat.say(f"hur går det med mitt ärende {reference}?") == ["utter_ask_status_email"]
    assert chat.languages() == {"sv"}
    assert chat.say("eva@zeta-bio.se") == ["utter_request_status_new"]
    assert chat.languages() == {"sv"}
    assert chat.say("jag vill prata med en människa") == ["utter_handoff", "custom:handoff"]
    assert chat.languages() == {"sv"}


def test_the_company_can_switch_language_in_the_middle(chat: Conversation) -> None:
    assert chat.say("hej") == ["utter_greet", "utter_privacy_notice"]
    assert chat.say("in English please") == ["utter_language_switched"]
    assert chat.languages() == {"en"}
    assert chat.say("ok") and chat.languages() <= {"en"}, "a message that tells nothing keeps English"
    assert chat.say("kan vi ta det på svenska?") == ["utter_language_switched"]
    assert chat.languages() == {"sv"}
