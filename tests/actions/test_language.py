from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actions.conversation_language import (channel_language, decide_language, measure, requested_language,
                                           shared_detector)
from actions.language import ActionChooseLanguage
from tests.actions.conftest import make_tracker, slot_events

SHORT_MESSAGES = Path(__file__).parents[1] / "eval" / "short_messages.yaml"


class TableDetector:
    """Tells the language from a fixed table; anything else is undecided."""

    def __init__(self, table: dict[str, str]):
        self.table = table
        self.asked: list[str] = []

    def detect(self, text: str) -> str | None:
        self.asked.append(text)
        return self.table.get(text)


DETECTOR = TableDetector({"vi behöver flödescytometri": "sv", "we need flow cytometry": "en", "hej": "sv",
                          "John Smith": "en", "tack så mycket": "sv", "ok": "sv",
                          "perfect": "en"})


@pytest.mark.parametrize(("text", "expected"), [
    ("in English please", "en"),
    ("English", "en"),
    ("kan vi ta det på engelska?", "en"),
    ("engelska tack", "en"),
    ("do you speak English?", "en"),
    ("på svenska tack", "sv"),
    ("Svenska", "sv"),
    ("can we speak Swedish", "sv"),
    ("kan du svenska?", "sv"),
    ("in Swedish, please", "sv"),
    ("English or Swedish?", None),
    ("we need the manual translated from English to Swedish for the Swedish market launch", None),
    ("we need flow cytometry", None),
    ("hej", None),
])
def test_a_request_for_a_language_is_read_from_a_short_message(text, expected) -> None:
    assert requested_language(text) == expected


@pytest.mark.parametrize(("tag", "expected"), [
    ("sv", "sv"), ("sv-SE", "sv"), ("SV_se", "sv"), ("en-GB", "en"), ("en", "en"), (" en ", "en"),
    ("de-DE", None), ("", None), (None, None), (42, None), ({"language": "sv"}, None),
])
def test_a_channel_language_tag_is_reduced_to_a_known_language(tag, expected) -> None:
    assert channel_language(tag) == expected


@pytest.mark.parametrize(("text", "current", "channel", "requested_slot", "expected"), [
    # 1. what the user asks, over what the message is written in and over the current language
    ("kan vi ta det på engelska?", "sv", "sv", None, "en"),
    ("in Swedish please", "en", "en", None, "sv"),
    # 2. what the user writes, over the current language and the page
    ("vi behöver flödescytometri", "en", "en", None, "sv"),
    ("we need flow cytometry", "sv", "sv", None, "en"),
    ("hej", None, "en", None, "sv"),
    # 3. an undecided message keeps the conversation's language, whatever the page says
    ("okay then", "sv", "en", None, "sv"),
    ("okay then", "en", "sv", None, "en"),
    # ... and so does a single word, even one the detector reads as the other language
    ("ok", "en", None, None, "en"),
    ("perfect", "sv", None, None, "sv"),
    ("ok", None, None, None, "sv"),  # but it may start the conversation's language
    # 4. else the page or channel
    ("okay then", None, "sv-SE", None, "sv"),
    ("okay then", None, "fr", None, None),
    ("okay then", None, None, None, None),
    # a button payload and an answer with a name say nothing of the language
    ("/greet", None, "sv", None, "sv"),
    ("/request_support", "sv", "en", None, "sv"),
    ("John Smith", "sv", None, "contact_person", "sv"),
    ("John Smith", "sv", None, None, "en"),
    # a Swedish answer to a free-text question of the form still counts
    ("tack så mycket", "en", None, "need_summary", "sv"),
])
def test_the_conversation_language_follows_the_documented_order(text, current, channel, requested_slot,
                                                                 expected) -> None:
    assert decide_language(text, current=current, channel=channel, detector=DETECTOR,
                           requested_slot=requested_slot) == expected


def test_payloads_and_untelling_answers_are_not_sent_to_the_detector() -> None:
    detector = TableDetector({})
    decide_language("/greet", current=None, channel=None, detector=detector)
    decide_language("556677-8899", current="sv", channel=None, detector=detector, requested_slot="org_number")
    decide_language("hej", current=None, channel=None, detector=detector)
    assert detector.asked == ["hej"]


async def test_the_action_sets_the_slot_only_when_the_language_changes(dispatcher) -> None:
    action = ActionChooseLanguage(DETECTOR)
    assert action.name() == "action_choose_language"
    changed = await action.run(dispatcher, make_tracker("vi behöver flödescytometri", slots={"language": "en"}),
                               {})
    assert slot_events(changed) == {"language": "sv"}
    same = await action.run(dispatcher, make_tracker("tack så mycket", slots={"language": "sv"}), {})
    assert same == []
    assert dispatcher.messages == []


async def test_the_action_reads_the_page_language_from_the_message_metadata(dispatcher) -> None:
    tracker = make_tracker("/greet", slots={})
    tracker.latest_message["metadata"] = {"language": "sv"}
    assert slot_events(await ActionChooseLanguage(DETECTOR).run(dispatcher, tracker, {})) == {"language": "sv"}
    tracker.latest_message["metadata"] = "not a mapping"
    assert await ActionChooseLanguage(DETECTOR).run(dispatcher, tracker, {}) == []


def load_short_messages() -> dict[str, list[str]]:
    return yaml.load(SHORT_MESSAGES.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)


def test_the_short_message_set_is_balanced_and_short() -> None:
    messages = load_short_messages()
    assert set(messages) == {"en", "sv"} and len(messages["en"]) == len(messages["sv"]) >= 100
    for texts in messages.values():
        assert all(1 <= len(text.split()) <= 4 for text in texts)
        assert len(set(texts)) == len(texts)


@pytest.mark.integration
def test_lingua_tells_short_swedish_and_english_messages_apart() -> None:
    """The shipped detector on 250 messages of one to three words (docs/languages.md): a wrong language flips
    the conversation's answers, so wrong answers must be rarer than undecided ones."""
    results = measure(shared_detector(), load_short_messages())
    for language, (right, wrong, undecided) in results.items():
        total = right + wrong + undecided
        assert right / total >= 0.90, (language, results)
        assert wrong / total <= 0.03, (language, results)
