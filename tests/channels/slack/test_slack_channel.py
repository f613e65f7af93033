"""The Slack channel end to end: a Rasa server with the channel (bot/slack_channel.py) and the Navigator
service, both real, posting to a local fake of Slack's Web API. Nothing reaches Slack.

Requests are signed as Slack signs them; forged ones are refused with no reply and no tracker event; an event
delivered again (Slack's retries) is answered once; a whole conversation ends in one stored support request;
markup a user writes comes back inert; the advisors' slash command answers privately with ranked matches.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import re
import time

import pytest
from slack_events import conversation_id

from support_requests.conversations import TrackerReader
from support_requests.model import Consent, RequestDraft
from support_requests.retention import erase_conversations
from support_requests.store import RequestStore
from tests.channels.slack import payloads
from tests.channels.slack.bench_webhook import SLACK_LIMIT_SECONDS, measure
from tests.channels.slack.conftest import SlackStack, SlackUser
from tests.channels.slack.test_blocks import assert_inert

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

NEED = "We need GMP manufacturing of a viral vector for a phase 1 trial"


@pytest.fixture
def user(slack_stack: SlackStack, response_names, request: pytest.FixtureRequest) -> SlackUser:
    """A new user in a direct message with the bot."""
    tag = hashlib.sha256(request.node.name.encode()).hexdigest()[:10].upper()
    return SlackUser(slack_stack, response_names, user=f"U{tag}", channel=f"D{tag}")


def test_url_verification_is_answered_with_the_challenge_as_json(slack_stack: SlackStack) -> None:
    body = json.dumps({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"}).encode()
    signed = payloads.signed(body, time.time(), content_type="application/json; charset=utf-8")
    status, answer = slack_stack.post(*signed)
    assert status == 200
    assert json.loads(answer) == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_forged_and_broken_requests_are_refused_without_reply_or_tracker_event(slack_stack: SlackStack) -> None:
    slack = slack_stack.slack
    before = len(slack.recorded())
    forged = payloads.forgeries(time.time(), response_url=slack.response_url("forged"), beyond=60)
    assert len(forged) >= 20
    statuses = {forgery.name: slack_stack.post(forgery.headers, forgery.body)[0] for forgery in forged}
    assert statuses == {forgery.name: 401 for forgery in forged}
    # The same body, signed, is taken: the refusals were the signatures', not the content's.
    probe = payloads.event_body("hello", event_id="EvPROBE", user=payloads.FORGED_USER, channel="D0PROBE")
    assert slack_stack.post(*payloads.signed(probe, time.time()))[0] == 200
    slack.wait_for(before + 1, method="chat.postMessage")
    time.sleep(2)
    assert [c.body["channel"] for c in slack.recorded()[before:]] == ["D0PROBE"]
    sender = conversation_id(payloads.SECRET, payloads.TEAM, payloads.FORGED_CHANNEL, payloads.FORGED_USER)
    assert slack_stack.tracker_events(sender) == []


def test_an_event_delivered_five_times_is_answered_once(user: SlackUser) -> None:
    body = payloads.event_body("hello", event_id="EvFIVE", user=user.user, channel=user.channel, ts="1.000001")
    deliveries = [None, ("1", "http_timeout"), ("2", "http_error"), ("3", "connection_failed"),
                  ("1", "too_many_requests")]
    for retry in deliveries:
        extra = {"X-Slack-Retry-Num": retry[0], "X-Slack-Retry-Reason": retry[1]} if retry else {}
        assert user.deliver(body, content_type="application/json; charset=utf-8", extra=extra) == 200
    assert user.answer(settle=4.0) == ["utter_greet", "utter_privacy_notice"]
    assert len(user.last) == 1
    events = user.slack_stack.tracker_events(user.sender)
    assert [e["text"] for kind, e in events if kind == "user"] == ["hello"]
    assert len([kind for kind, _ in events if kind == "bot"]) == 2


def test_a_mention_in_a_direct_message_is_answered_once(user: SlackUser) -> None:
    text = f"<@{payloads.BOT_USER}> hello"
    as_message = payloads.event_body(text, event_id="EvDM1", user=user.user, channel=user.channel, ts="2.000001")
    as_mention = payloads.event_body(text, event_id="EvDM2", user=user.user, channel=user.channel, ts="2.000001",
                                     kind="app_mention")
    assert user.deliver(as_message) == 200 and user.deliver(as_mention) == 200
    assert user.answer(settle=3.0) == ["utter_greet", "utter_privacy_notice"]
    assert len(user.last) == 1
    assert [e["text"] for kind, e in user.slack_stack.tracker_events(user.sender) if kind == "user"] == ["hello"]


def test_a_mention_in_a_thread_is_answered_in_the_thread(slack_stack: SlackStack, response_names) -> None:
    member = SlackUser(slack_stack, response_names, user="U0THREAD", channel="C0GENERAL", kind="app_mention")
    assert member.say(f"<@{payloads.BOT_USER}> hello", thread_ts="1699999999.000100") == \
        ["utter_greet", "utter_privacy_notice"]
    assert member.last[0].body["thread_ts"] == "1699999999.000100"
    direct = SlackUser(slack_stack, response_names, user="U0TOP", channel="D0TOP")
    direct.say("hello")
    assert "thread_ts" not in direct.last[0].body


def test_a_conversation_in_slack_ends_in_one_stored_support_request(user: SlackUser) -> None:
    answer = user.say(NEED)
    assert answer[0] == "utter_results_intro" and answer[1:4] == ["hit", "hit", "hit"]
    hits = user.sections()[1:4]
    assert [h.split(".")[0] for h in hits] == ["*1", "*2", "*3"]
    assert all("\n> " in h for h in hits)  # the reason
    assert any("Contact: " in h and "<mailto:" in h for h in hits)  # contacts, from the Navigator API
    assert any(re.search(r"\*\d\. <https?://[^|>]+\|", h) for h in hits)  # linked names
    actions = [b for call in user.last for b in call.body["blocks"] if b["type"] == "actions"]
    assert all(len(b["elements"]) <= 5 for b in actions)
    assert user.click('/ask_details{"position": "1"}')[0] in ("utter_details", "utter_programme_details")
    assert user.click("/request_support") == ["utter_ask_company_name"]
    assert user.say("Acme Bio &amp; Co AB") == ["utter_ask_contact_person"]
    assert user.say("Alex Doe") == ["utter_ask_email"]
    assert user.say("<mailto:alex@acme-slack.se|alex@acme-slack.se>") == ["utter_ask_phone"]
    assert user.say("skip") == ["utter_ask_org_number"]
    assert user.say("556677-8899") == ["utter_ask_consent"]
    assert user.say("yes") == ["utter_ask_confirmation"]
    assert user.say("confirm") == ["utter_request_created"]
    with RequestStore.from_url(user.slack_stack.settings.database_url) as store:
        mine = [r for r in store.list() if r.conversation_id == user.sender]
    assert len(mine) == 1
    assert (mine[0].channel, mine[0].email, mine[0].company_name) == ("slack", "alex@acme-slack.se", "Acme Bio & Co AB")
    assert mine[0].reference in "\n".join(user.sections())
    # Slack ids are personal data: neither process logs them, and Rasa keeps the conversation under its pseudonym.
    run_dir = user.slack_stack.stack.run_dir
    logs = (run_dir / "rasa.log").read_text(encoding="utf-8") + (run_dir / "service.log").read_text(encoding="utf-8")
    assert user.user not in logs and user.channel not in logs
    assert user.slack_stack.tracker_events(user.sender)
    assert not any(user.user in json.dumps(event) for _, event in user.slack_stack.tracker_events(user.sender))
    # Erasable like any other: the request's personal data, then its conversation, found by the pseudonym.
    with RequestStore.from_url(user.slack_stack.settings.database_url) as store:
        # An address no other test of the shared assistant uses: erasure by email finds every request with it.
        report = store.erase(email="alex@acme-slack.se")
        assert report.conversation_ids == (user.sender,)
        assert erase_conversations(store.engine, user.slack_stack.settings.tracker_db_url, report.conversation_ids)
    assert user.slack_stack.tracker_events(user.sender) == []


def test_refining_contacts_handoff_and_status_work_in_slack(user: SlackUser) -> None:
    assert user.say("flow cytometry and cell sorting")[0] == "utter_results_intro"
    assert user.say("only Flemingsberg")[0] == "utter_results_intro_filtered"
    assert user.click("/show_more")[0] == "utter_results_intro_filtered"
    assert user.click('/ask_contact{"position": "1"}')[0] == "utter_contact"
    assert "@example.org" in user.sections()[0]
    assert user.say("I want to talk to a human") == ["utter_handoff"]
    reader = TrackerReader(user.slack_stack.settings.tracker_db_url)
    try:
        assert user.sender in [c.conversation_id for c in reader.flagged().conversations]
    finally:
        reader.close()
    with RequestStore.from_url(user.slack_stack.settings.database_url) as store:
        reference = store.create(RequestDraft(
            company_name="Delta Bio AB", contact_person="Robin Ek", email="robin@delta-bio.se",
            need_summary="Cryo-EM of a protein complex", entry_ids=["scilifelab-cryo-em-stockholm"],
            routed_contact="contact-scilifelab-structural-biology", routed_contact_email="s@example.org",
            channel="rest", conversation_id="elsewhere",
            consent=Consent(given_at=dt.datetime.now(dt.UTC), notice_version="2026-11")),
            idempotency_key=f"status-{user.sender}").reference
    assert user.say(f"what is the status of my request {reference}?") == ["utter_ask_status_email"]
    assert user.say("<mailto:robin@delta-bio.se|robin@delta-bio.se>") == ["utter_request_status_new"]


def test_a_payload_typed_in_slack_is_text_and_a_clicked_button_is_a_payload(user: SlackUser) -> None:
    # The input guard (bot/input_guard.py) takes a payload only from a button the bot offered.
    assert user.say(NEED)[0] == "utter_results_intro"
    user.say('/ask_details{"position": "7"}')
    said = [event for kind, event in user.slack_stack.tracker_events(user.sender) if kind == "user"]
    assert said[-1]["text"] == 'ask_details{"position": "7"}'
    assert user.click('/ask_details{"position": "2"}')[0] in ("utter_details", "utter_programme_details")
    said = [event for kind, event in user.slack_stack.tracker_events(user.sender) if kind == "user"]
    assert said[-1]["text"] == '/ask_details{"position": "2"}'
    assert said[-1]["parse_data"]["intent"]["name"] == "ask_details"


def test_messages_sent_at_once_are_answered_in_the_order_slack_delivered_them(user: SlackUser) -> None:
    assert user.say("I want to open a support request") == ["utter_ask_company_name"]
    for number, text in enumerate(["Acme Bio AB", "Alex Doe", "alex@acme-bio.se"], start=1):
        body = payloads.event_body(text, event_id=f"EvORDER{number}", user=user.user, channel=user.channel,
                                   ts=f"1700000500.{number:06d}")
        assert user.deliver(body) == 200
    deadline = time.monotonic() + 180
    while len(user.posts()) < user.seen + 3:
        assert time.monotonic() < deadline, "not every message was answered"
        time.sleep(0.1)
    time.sleep(1.0)
    answers = user.posts()[user.seen:]
    names = [user.name_of(b) for call in answers for b in call.body["blocks"] if b["type"] == "section"]
    assert names == ["utter_ask_contact_person", "utter_ask_email", "utter_ask_phone"]
    said = [event["text"] for kind, event in user.slack_stack.tracker_events(user.sender) if kind == "user"]
    assert said[-3:] == ["Acme Bio AB", "Alex Doe", "alex@acme-bio.se"]


def test_markup_a_user_writes_comes_back_inert(user: SlackUser) -> None:
    # What Slack delivers when a user types these characters: "&", "<" and ">" escaped.
    user.say("&lt;!channel&gt; &lt;https://evil.example|click&gt; R&amp;D GMP manufacturing of a viral vector")
    assert_inert([call.body for call in user.last])
    shown = json.dumps([call.body for call in user.last])
    assert "<!channel>" not in shown and "<https://evil" not in shown


def test_the_slash_command_answers_privately_with_ranked_matches(slack_stack: SlackStack) -> None:
    slack = slack_stack.slack
    before = len(slack.recorded("response_url"))
    body = payloads.command_body("GMP manufacturing of a viral vector <!channel>",
                                 slack.response_url("advisor-1"), trigger_id="cmd-e2e-1")
    started = time.monotonic()
    status, _ = slack_stack.post(*payloads.signed(body, time.time(),
                                                  content_type="application/x-www-form-urlencoded"))
    assert status == 200 and time.monotonic() - started < 3
    [call] = slack.wait_for(before + 1, method="response_url", settle=1.0)[before:]
    answer = call.body
    assert answer["response_type"] == "ephemeral"
    sections = [b["text"]["text"] for b in answer["blocks"]]
    # Slack delivers "@channel" typed by the advisor as <!channel>; it comes back as text, not as a mention.
    assert sections[0].startswith("Best matches for") and "@channel" in sections[0]
    assert "<!channel>" not in json.dumps(answer)
    assert [s.split(".")[0] for s in sections[1:]] == [f"*{rank}" for rank in range(1, len(sections))]
    assert len(sections) > 2 and all("\n> " in s for s in sections[1:])
    assert any("Contact: " in s for s in sections[1:])
    assert_inert(answer)


def test_twenty_conversations_at_once_are_all_acknowledged_within_slacks_limit(slack_stack: SlackStack) -> None:
    stats = asyncio.run(measure(slack_stack.webhook, slack_stack.slack, conversations=20, turns=1))
    assert stats.messages == 20 and stats.unanswered == 0
    assert stats.ack_max_ms < SLACK_LIMIT_SECONDS * 1000
