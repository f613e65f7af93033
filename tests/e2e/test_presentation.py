"""How results read to a company: each hit names its entry once with a sentence as its reason, and a message
that holds several needs gets the best matches for each, through to a support request that carries them all.
"""

from __future__ import annotations

import re
from functools import cache

import pytest
import yaml

from navigator.settings import PROJECT_ROOT
from support_requests.store import RequestStore
from tests.e2e.conftest import Conversation

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@cache
def labelled_message(message_id: str) -> dict:
    """A labelled message with several needs from tests/eval/multipart.yaml: its text and each part's accepted
    entries."""
    needs = yaml.safe_load((PROJECT_ROOT / "tests" / "eval" / "multipart.yaml").read_text(encoding="utf-8"))["needs"]
    return next(need for need in needs if need["id"] == message_id)


def hit_lines(chat: Conversation, names: list[str]) -> list[str]:
    return [text for name, text in zip(names, chat.texts()) if name == "utter_hit"]


def looks_like_a_keyword_list(text: str) -> bool:
    """Three or more short comma-separated items and no sentence: how a keyword list reads."""
    items = [item.strip() for item in text.split(",")]
    return len(items) >= 3 and all(len(item.split()) <= 3 for item in items)


@pytest.mark.parametrize("need", [
    "We need GMP manufacturing of a lentiviral vector for our phase 1 gene therapy trial",
    "Vi är ett litet medtechbolag och behöver testa vår produkt i en klinisk miljö, helst i Flemingsberg",
    "cryo-EM of a membrane protein",
])
def test_each_hit_names_its_entry_once_and_gives_a_sentence_as_its_reason(chat: Conversation, need: str) -> None:
    names = chat.say(need)
    hits = chat.custom("search_results")["hits"]
    lines = hit_lines(chat, names)
    assert len(lines) == len(hits) == 3
    for line, hit in zip(lines, hits):
        reason = hit["reason"]
        assert line.startswith(f"{hit['rank']}. {hit['name']}, {hit['organisation']}"), line
        assert reason and line.endswith(reason) and not looks_like_a_keyword_list(reason), line
        # The entry's heading is the line's start; the reason is a sentence of its text, not the heading again.
        assert not reason.startswith(hit["name"]) and f"({hit['organisation']})" not in reason, line


def test_a_message_with_two_needs_gets_matches_for_each_and_a_request_that_carries_both(
        chat: Conversation, stack) -> None:
    message = labelled_message("mp-q001")  # a mouse study of lung fibrosis, and later GMP production
    names = chat.say(message["text"])
    assert names[0] == "utter_results_several_needs"
    assert names.count("utter_results_part") == 2 and names[-2:] == ["utter_results_options", "custom:search_results"]
    # The hits of each need follow its heading: split the replies at the headings.
    sections: list[list[str]] = []
    payload_ids = [hit["id"] for hit in chat.custom("search_results")["hits"]]
    position = 0
    for name in names:
        if name == "utter_results_part":
            sections.append([])
        elif name == "utter_hit":
            sections[-1].append(payload_ids[position])
            position += 1
    mouse, production = sections
    assert set(message["parts"][0]["expected"]) & set(mouse), mouse
    assert set(message["parts"][1]["expected"]) & set(production), production
    # Numbers run on across the needs, so "details of 4" is the first match for the second need.
    numbers = [int(re.match(r"(\d+)\.", line).group(1)) for line in hit_lines(chat, names)]
    assert numbers == list(range(1, len(numbers) + 1))
    details = [b["payload"] for b in chat.buttons() if b["payload"].startswith("/ask_details")]
    assert len(details) == len(numbers)
    assert chat.say(details[3])[0] in ("utter_details", "utter_programme_details")
    assert chat.custom("entry_details")["id"] == production[0]

    assert chat.say("I want to open a support request") == ["utter_ask_company_name"]
    for answer in ("Fibro Bio AB", "Sam Lund", "sam@fibro-bio.se", "skip", "skip", "yes"):
        chat.say(answer)
    assert chat.say("confirm")[0] == "utter_request_created"
    _, settings = stack
    with RequestStore.from_url(settings.database_url) as store:
        [request] = [r for r in store.list() if r.conversation_id == chat.sender]
    assert "mouse model of lung fibrosis" in request.need_summary and "GMP production" in request.need_summary
