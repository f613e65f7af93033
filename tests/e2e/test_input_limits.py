"""The input guard in front of the running assistant (bot/input_guard.py), over Rasa's REST channel.

An oversized message gets the refusal at once and leaves nothing in the tracker store, and another user is
answered as usual meanwhile; a payload no button offered is read as text, while the buttons of this and of earlier
turns keep working; a burst over the sender's limit gets one "slow down" and then nothing, while another user is
answered as usual; ``/navigator/metrics`` counts each event. The session's assistant has a burst of 30 messages
per sender and a token every 10 s (tests/conftest.py ``STACK_LIMITS``).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import STACK_LIMITS
from tests.e2e.conftest import Conversation

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

BURST = int(STACK_LIMITS["NAVIGATOR_SENDER_BURST"])
SECONDS_PER_TOKEN = 60 / int(STACK_LIMITS["NAVIGATOR_SENDER_RATE"].split("/")[0])
HOLD = float(STACK_LIMITS["NAVIGATOR_DROP_HOLD_SECONDS"])
NEED = "We need GMP manufacturing of a lentiviral vector for our phase 1 gene therapy trial"


def user_events(stack, sender: str) -> list[dict]:
    """The user events Rasa stored for ``sender``, oldest first."""
    _, settings = stack
    engine = create_engine(settings.tracker_db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT type_name, data FROM events WHERE sender_id = :sender ORDER BY id"),
                                      {"sender": sender}).all()
    finally:
        engine.dispose()
    return [json.loads(row[1]) for row in rows if row[0] == "user"]


def stored_events(stack, sender: str) -> int:
    _, settings = stack
    engine = create_engine(settings.tracker_db_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT COUNT(*) FROM events WHERE sender_id = :sender"),
                                      {"sender": sender}).scalar_one()
    finally:
        engine.dispose()


def metrics(stack) -> dict[str, int]:
    """The guard's counters: ``{"reason/outcome": count}``."""
    running, _ = stack
    with urllib.request.urlopen(f"{running.rasa_url}/navigator/metrics", timeout=30) as answer:
        assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        page = answer.read().decode()
    found = {}
    for line in page.splitlines():
        if line.startswith("navigator_input_guard_total{"):
            labels, count = line.rsplit(" ", 1)
            reason = labels.split('reason="')[1].split('"')[0]
            outcome = labels.split('outcome="')[1].split('"')[0]
            found[f"{reason}/{outcome}"] = int(count)
    return found


def timed(chat: Conversation, message: str) -> tuple[list[str], float]:
    started = time.perf_counter()
    replies = chat.say(message)
    return replies, time.perf_counter() - started


def test_an_oversized_message_is_refused_at_once_leaving_nothing_while_another_user_is_answered(
        stack, names) -> None:
    running, _ = stack
    before = metrics(stack)
    flooder, other = Conversation(running, names), Conversation(running, names)
    results: dict[str, tuple[list[str], float]] = {}
    sending = threading.Thread(target=lambda: results.update(big=timed(flooder, "cell sorting " * 8000)))
    sending.start()
    results["hello"] = timed(other, "hello")
    sending.join(timeout=60)
    replies, seconds = results["big"]
    assert replies == ["utter_message_over_limit"]
    assert "2,000 characters" in flooder.texts()[0]
    assert seconds < 2.0, f"the refusal of 104,000 characters took {seconds:.2f} s"
    assert stored_events(stack, flooder.sender) == 0  # no NLU, no turn, not even a conversation
    assert results["hello"][0] == ["utter_greet", "utter_privacy_notice"]
    assert results["hello"][1] < 5.0
    # One character over the limit is refused as well; the limit itself is read (tests/bot/test_input_guard.py).
    assert flooder.say("x" * 2001) == ["utter_message_over_limit"]
    assert stored_events(stack, flooder.sender) == 0
    assert metrics(stack)["size/refuse"] == before["size/refuse"] + 2


def test_a_payload_no_button_offered_is_read_as_text_and_offered_buttons_keep_working(
        chat: Conversation, stack) -> None:
    before = metrics(stack)
    forged = '/restrict_site{"site": "<script>x</script>"}'
    chat.say(forged)
    said = user_events(stack, chat.sender)[-1]
    assert said["text"] == 'restrict_site{"site": "<script>x</script>"}'
    assert not [e for e in said["parse_data"]["entities"] if e.get("value") == "<script>x</script>"]
    assert chat.say(NEED)[0] == "utter_results_intro"
    details = [b["payload"] for b in chat.buttons() if b["payload"].startswith("/ask_details")]
    assert details == [f'/ask_details{{"position": "{rank}"}}' for rank in (1, 2, 3)]
    # A position the bot did not offer, typed in the payload syntax, is text.
    chat.say('/ask_details{"position": "7"}')
    assert user_events(stack, chat.sender)[-1]["text"] == 'ask_details{"position": "7"}'
    # The offered buttons are taken as payloads, also those of an earlier turn (the widget keeps them clickable).
    assert chat.say(details[0])[0] in ("utter_details", "utter_programme_details")
    assert chat.say(details[1])[0] in ("utter_details", "utter_programme_details")
    assert [e["text"] for e in user_events(stack, chat.sender)[-2:]] == details[:2]
    assert user_events(stack, chat.sender)[-1]["parse_data"]["intent"]["name"] == "ask_details"
    assert metrics(stack)["payload/rewrite"] == before["payload/rewrite"] + 2


def test_a_burst_gets_one_slow_down_then_nothing_while_another_user_is_answered(stack, names) -> None:
    running, _ = stack
    before = metrics(stack)
    flooder = Conversation(running, names, sender=f"e2e-flood-{uuid.uuid4().hex[:8]}")
    answered: list[list[str]] = []
    other_user: dict[str, tuple[list[str], float]] = {}
    started = time.perf_counter()
    slowed = None
    for number in range(BURST + 10):
        replies = flooder.say("hello")
        if replies == ["utter_slow_down"]:
            slowed = number
            break
        answered.append(replies)
        if number == BURST // 2:  # meanwhile, another user
            other_user["hello"] = timed(Conversation(running, names), "hello")
    flood_seconds = time.perf_counter() - started
    assert slowed is not None, f"no slow-down after {len(answered)} messages"
    assert BURST <= len(answered) <= BURST + 1 + flood_seconds / SECONDS_PER_TOKEN
    assert all(replies == ["utter_greet", "utter_privacy_notice"] for replies in answered)
    # Then nothing at all, and nothing stored, until a token grows back; each answer (of nothing) held back.
    dropped = [timed(flooder, "hello") for _ in range(3)]
    assert [replies for replies, _ in dropped] == [[], [], []]
    assert all(seconds >= HOLD for _, seconds in dropped)
    assert len(user_events(stack, flooder.sender)) == len(answered)
    assert other_user["hello"][0] == ["utter_greet", "utter_privacy_notice"]
    assert other_user["hello"][1] < 5.0
    after = metrics(stack)
    assert after["rate_sender/slow_down"] == before["rate_sender/slow_down"] + 1
    assert after["rate_sender/drop"] == before["rate_sender/drop"] + 3
