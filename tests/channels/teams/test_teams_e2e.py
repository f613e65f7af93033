"""The Teams channel in a real Rasa server, end to end, against local fakes of Microsoft's login, keys and
connector (tests/channels/teams/harness.py), through the session's assistant, which has Teams on.

The launcher writes the channel's credentials from ``NAVIGATOR_TEAMS_*`` settings, as ``make run`` does, with
the fakes' addresses and ``127.0.0.1`` added to the allow-list of serviceUrl hosts.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import create_engine, text

from navigator.settings import PROJECT_ROOT
from support_requests.conversations import TrackerReader
from support_requests.model import Consent, RequestDraft
from support_requests.retention import erase_conversations
from support_requests.store import RequestStore
from tests.channels.teams.forgeries import forgeries
from tests.channels.teams.harness import TeamsChat, TeamsStack, shown_texts
from tests.e2e.conftest import ResponseNames

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture(scope="module")
def teams(stack, fake_microsoft) -> TeamsStack:
    """The session's assistant (tests/conftest.py ``stack``, which has Teams on) and its fakes of Microsoft."""
    running, settings = stack
    return TeamsStack(running, settings, fake_microsoft)


@pytest.fixture(scope="module")
def names() -> ResponseNames:
    return ResponseNames(PROJECT_ROOT / "bot" / "domain.yml")


def named(names: ResponseNames, replies: list[dict]) -> list[str]:
    return [text if text.startswith("cards:") else names.of({"text": text}) for text in shown_texts(replies)]


def test_forged_requests_are_refused_with_no_reply_and_no_tracker_event(teams: TeamsStack) -> None:
    chats, table = [], forgeries(beyond=60)  # the real clock runs on while a request travels
    for forgery in table:
        chat = TeamsChat(teams)
        header, activity = forgery.build(teams.fake.keys, chat.service_url, time.time())
        activity["conversation"]["id"], activity["from"]["id"] = chat.conversation, chat.user
        answer = chat.post(activity, header)
        assert answer.status_code == forgery.status, (forgery.name, answer.status_code)
        chats.append((chat, activity))
    control = TeamsChat(teams)
    assert control.say("hello")  # the channel answers genuine messages meanwhile
    time.sleep(1.0)
    for (chat, activity), forgery in zip(chats, table, strict=True):
        assert chat.replies_to(activity["id"]) == [], forgery.name
        assert teams.tracker_events(chat.sender_id) == [], forgery.name
    conversations = {chat.conversation for chat, _ in chats}
    assert not [r for r in teams.fake.activities if r.activity["conversation"]["id"] in conversations]


def test_the_same_activity_delivered_five_times_gives_one_reply_and_one_set_of_events(teams: TeamsStack,
                                                                                    names: ResponseNames) -> None:
    chat = TeamsChat(teams)
    activity = chat.activity("hello")
    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(lambda _: chat.post(activity), range(5)))
    assert [a.status_code for a in answers] == [202] * 5
    replies = chat.wait_replies(activity["id"], settle=2.0)
    assert named(names, replies) == ["utter_greet", "utter_privacy_notice"] and len(replies) == 1
    assert chat.post(activity).status_code == 202  # a late retry, after the turn
    time.sleep(1.0)
    assert len(chat.replies_to(activity["id"])) == 1
    assert teams.tracker_events(chat.sender_id).count("user") == 1


def test_the_webhook_answers_at_once_and_replies_come_with_the_bot_token(teams: TeamsStack) -> None:
    chat = TeamsChat(teams)
    activity = chat.activity("We need cryo-EM of a membrane protein")
    started = time.monotonic()
    answer = chat.post(activity)
    answered = time.monotonic() - started
    assert (answer.status_code, answer.content) == (202, b"")
    chat.wait_replies(activity["id"])
    assert answered < 2.0  # the turn (a search) runs after the answer
    recorded = chat.replies_to(activity["id"])
    assert {r.authorization for r in recorded} <= {f"Bearer {t}" for t in teams.fake.issued_tokens()}
    assert {r.path for r in recorded} == {f"/v3/conversations/{chat.conversation}/activities/{activity['id']}"}
    assert teams.fake.token_requests and {r["tenant"] for r in teams.fake.token_requests} == {"contoso-tenant"}


def test_a_full_conversation_over_teams_stores_one_support_request_recorded_as_teams(
        teams: TeamsStack, names: ResponseNames) -> None:
    chat = TeamsChat(teams)
    assert named(names, chat.added()) == ["utter_greet", "utter_privacy_notice"]
    replies = chat.say("<at>Navigator</at> We need GMP manufacturing of a viral vector for a phase 1 trial")
    assert named(names, replies) == ["utter_results_intro", "cards:3", "utter_results_options"]
    carousel = replies[1]["attachments"]
    assert all(card["content"]["actions"][0]["type"] == "Action.Submit" for card in carousel)
    assert "Contact: " in json.dumps(carousel[0]["content"])  # the contact, looked up through the API
    details = carousel[0]["content"]["actions"][0]["data"]["payload"]
    assert named(names, chat.submit(details))[0] in ("utter_details", "utter_programme_details")
    assert named(names, chat.submit("/request_support")) == ["utter_ask_company_name"]
    assert named(names, chat.say("Acme Bio AB")) == ["utter_ask_contact_person"]
    assert named(names, chat.say("Alex Doe")) == ["utter_ask_email"]
    assert named(names, chat.say("alex@acme-bio.se")) == ["utter_ask_phone"]
    assert named(names, chat.say("skip")) == ["utter_ask_org_number"]
    assert named(names, chat.say("556677-8899")) == ["utter_ask_consent"]
    assert named(names, chat.say("yes")) == ["utter_ask_confirmation"]
    assert named(names, chat.say("confirm"))[0] == "utter_request_created"
    with RequestStore.from_url(teams.settings.database_url) as store:
        mine = [r for r in store.list() if r.conversation_id == chat.sender_id]
    assert len(mine) == 1
    assert (mine[0].channel, mine[0].email, mine[0].company_name) == ("teams", "alex@acme-bio.se", "Acme Bio AB")
    assert chat.user not in str(teams.tracker_events(chat.sender_id))


def test_refining_contacts_handoff_status_and_erasure_work_in_teams(teams: TeamsStack, names: ResponseNames) -> None:
    chat = TeamsChat(teams)
    assert named(names, chat.say("flow cytometry and cell sorting"))[0] == "utter_results_intro"
    assert named(names, chat.say("only Flemingsberg"))[0] == "utter_results_intro_filtered"
    assert named(names, chat.submit("/show_more"))[0] == "utter_results_intro_filtered"
    replies = chat.submit('/ask_contact{"position": "1"}')
    assert named(names, replies)[0] == "utter_contact" and "@example.org" in json.dumps(replies)
    assert named(names, chat.say("I want to talk to a human")) == ["utter_handoff"]
    reader = TrackerReader(teams.settings.tracker_db_url)
    try:
        assert chat.sender_id in [c.conversation_id for c in reader.flagged().conversations]
    finally:
        reader.close()
    with RequestStore.from_url(teams.settings.database_url) as store:
        reference = store.create(RequestDraft(
            company_name="Epsilon Bio AB", contact_person="Kim Ek", email="kim@epsilon-bio.se",
            need_summary="Cryo-EM of a protein complex", entry_ids=["scilifelab-cryo-em-stockholm"],
            routed_contact="contact-scilifelab-structural-biology", routed_contact_email="s@example.org",
            channel="teams", conversation_id=chat.sender_id,
            consent=Consent(given_at=store.clock(), notice_version="2026-11")),
            idempotency_key=f"status-{chat.sender_id}").reference
    assert named(names, chat.say(f"what is the status of my request {reference}?")) == ["utter_ask_status_email"]
    assert named(names, chat.say("kim@epsilon-bio.se")) == ["utter_request_status_new"]
    # Erasable like any other: the request's personal data, then its conversation, found by the pseudonym.
    assert teams.tracker_events(chat.sender_id)
    with RequestStore.from_url(teams.settings.database_url) as store:
        report = store.erase(email="kim@epsilon-bio.se")
        assert report.conversation_ids == (chat.sender_id,)
        assert erase_conversations(store.engine, teams.settings.tracker_db_url, report.conversation_ids)
    assert teams.tracker_events(chat.sender_id) == []


def test_a_payload_typed_in_teams_is_text_and_a_card_button_is_a_payload(teams: TeamsStack,
                                                                         names: ResponseNames) -> None:
    # The input guard (bot/input_guard.py) takes a payload only from a button the bot offered; adding the bot greets
    # with a payload the channel built (test_only_adding_the_bot_itself_greets).
    chat = TeamsChat(teams)
    replies = chat.say("We need GMP manufacturing of a viral vector for a phase 1 trial")
    offered = [action["data"]["payload"] for card in replies[1]["attachments"]
               for action in card["content"]["actions"] if action["type"] == "Action.Submit"]
    chat.say('/restrict_site{"site": "<script>x</script>"}')
    assert user_texts(teams, chat.sender_id)[-1] == 'restrict_site{"site": "<script>x</script>"}'
    assert named(names, chat.submit(offered[0]))[0] in ("utter_details", "utter_programme_details")
    assert user_texts(teams, chat.sender_id)[-1] == offered[0]


def user_texts(teams: TeamsStack, sender_id: str) -> list[str]:
    """The texts of the user events Rasa stored for ``sender_id``, oldest first."""
    engine = create_engine(teams.settings.tracker_db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                                           "ORDER BY id"), {"s": sender_id})
            return [json.loads(row[0])["text"] for row in rows]
    finally:
        engine.dispose()


def test_markup_in_user_text_comes_back_inert(teams: TeamsStack) -> None:
    chat = TeamsChat(teams)
    replies = chat.say("**GMP** manufacturing [click](https://evil.example) {{DATE(2017-02-14T06:08:39Z, SHORT)}}")
    assert replies and all(r.get("textFormat") == "plain" for r in replies if r.get("text"))
    shown = json.dumps(replies)
    assert "{{" not in shown
    assert '"type": "TextBlock"' not in shown  # every card text is a TextRun, which is never Markdown


def test_only_adding_the_bot_itself_greets(teams: TeamsStack, names: ResponseNames) -> None:
    chat = TeamsChat(teams)
    someone = {**chat.activity(None), "type": "conversationUpdate", "membersAdded": [{"id": "29:a-colleague"}]}
    assert chat.post(someone).status_code == 202
    assert named(names, chat.added()) == ["utter_greet", "utter_privacy_notice"]
    assert chat.replies_to(someone["id"]) == []


def test_the_messaging_extension_answers_in_the_http_response(teams: TeamsStack) -> None:
    chat = TeamsChat(teams)
    invoke = {**chat.activity(None), "type": "invoke", "name": "composeExtension/query",
              "value": {"commandId": "searchCatalogue", "parameters": [{"name": "need", "value":
                                                                        "GMP manufacturing of a viral vector"}],
                        "queryOptions": {"skip": 0, "count": 25}}}
    answer = chat.post(invoke)
    assert answer.status_code == 200
    result = answer.json()["composeExtension"]
    assert result["type"] == "result" and 1 <= len(result["attachments"]) <= 5
    first = result["attachments"][0]
    assert first["contentType"] == "application/vnd.microsoft.card.adaptive" and first["preview"]["content"]["title"]
    shown = str(first["content"])
    assert "Contact: " in shown and "@" in shown  # the routed contact's email, looked up in the catalogue
    opened = {**invoke, "value": {"commandId": "searchCatalogue", "parameters": [{"name": "initialRun",
                                                                                  "value": "true"}]}}
    assert chat.post(opened).json() == {"composeExtension": {"type": "result", "attachmentLayout": "list",
                                                             "attachments": []}}
    assert chat.post(invoke, None).status_code == 401
    assert chat.replies_to(invoke["id"]) == []


def test_the_health_check_answers(teams: TeamsStack) -> None:
    assert httpx.get(teams.webhook.rsplit("/", 1)[0] + "/", timeout=10).json() == {"status": "ok"}


def test_a_swedish_teams_client_is_answered_in_swedish_until_the_user_writes_english(
        teams: TeamsStack, names: ResponseNames) -> None:
    chat = TeamsChat(teams)
    greeting = chat.added(locale="sv-SE")
    assert named(names, greeting) == ["utter_greet", "utter_privacy_notice"]
    assert {names.language_of({"text": text}) for text in shown_texts(greeting)} == {"sv"}
    replies = chat.say("We need cryo-EM of a membrane protein", locale="sv-SE")
    assert named(names, replies)[0] == "utter_results_intro"
    assert names.language_of({"text": shown_texts(replies)[0]}) == "en", "the user wrote in English"
