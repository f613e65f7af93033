"""The assistant's turns as Block Kit (bot/slack_blocks.py): hits with reasons, contacts, links and postback
buttons, buttons split across actions blocks, and markup from users or the catalogue shown inert."""

from __future__ import annotations

import json
import re

import pytest
from slack_blocks import (
    BUTTONS_PER_BLOCK,
    MAX_BLOCKS_PER_MESSAGE,
    MAX_SECTION_CHARS,
    POSTBACK_ACTION,
    button_blocks,
    render_turn,
    search_hits,
    slash_answer,
    text_sections,
)

INJECTION = "<!channel> <https://evil.example|click here> R&D <@U0BOSS>"


def hit(rank: int, entry_id: str, name: str, reason: str = "It runs GMP production.") -> dict[str, object]:
    return {"rank": rank, "id": entry_id, "name": name, "type": "facility", "organisation": "Karolinska",
            "site": "flemingsberg", "site_label": "Flemingsberg", "score": 0.9, "similarity": 0.6,
            "reason": reason, "terms": ["gmp"], "contact": f"contact-{entry_id}"}


def hit_message(rank: int, name: str) -> dict[str, object]:
    return {"text": f"{rank}. {name}, Karolinska (Flemingsberg). It runs GMP production.",
            "buttons": [{"title": "Details", "payload": f'/ask_details{{"position": "{rank}"}}'},
                        {"title": "Contact", "payload": f'/ask_contact{{"position": "{rank}"}}'}]}


def search_turn(names: list[str], reason: str = "It runs GMP production.") -> list[dict[str, object]]:
    hits = [hit(rank, f"entry-{rank}", name, reason) for rank, name in enumerate(names, start=1)]
    return [{"text": 'Here is what matches "gmp" best:'},
            *[hit_message(rank, name) for rank, name in enumerate(names, start=1)],
            {"text": "Would you like more options?",
             "buttons": [{"title": "Show more", "payload": "/show_more"},
                         {"title": "None of these fit", "payload": "/none_fit"}],
             "custom": {"type": "search_results", "need": "gmp", "filters": {}, "hits": hits}}]


DETAILS = {"entry-1": {"url": "https://example.org/vecura",
                       "contact_details": {"name": "Eva Ek", "role": "Facility manager", "email": "gmp@example.org"}}}


def texts(bodies: list[dict[str, object]]) -> list[str]:
    """Every mrkdwn text and the fallback texts of the bodies."""
    found = [str(body["text"]) for body in bodies]
    for body in bodies:
        for block in body["blocks"]:
            if block["type"] == "section":
                found.append(block["text"]["text"])
    return found


def test_a_result_list_is_one_message_with_a_section_per_hit_and_its_buttons() -> None:
    bodies = render_turn(search_turn(["Vecura GMP facility", "Cell therapy unit"]), DETAILS)
    assert len(bodies) == 1
    blocks = bodies[0]["blocks"]
    assert [b["type"] for b in blocks] == ["section", "section", "actions", "section", "actions", "section", "actions"]
    first = blocks[1]["text"]["text"]
    assert first.splitlines() == ["*1. <https://example.org/vecura|Vecura GMP facility>*", "Karolinska · Flemingsberg",
                                  "> It runs GMP production.",
                                  "Contact: Facility manager, <mailto:gmp@example.org|gmp@example.org>"]
    # Without details, a hit is shown without link and contact.
    assert blocks[3]["text"]["text"].splitlines()[0] == "*2. Cell therapy unit*"
    assert "Contact" not in blocks[3]["text"]["text"]
    details = blocks[2]["elements"][0]
    assert details == {"type": "button", "text": {"type": "plain_text", "text": "Details", "emoji": False},
                       "value": '/ask_details{"position": "1"}', "action_id": f"{POSTBACK_ACTION}-1"}
    action_ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(action_ids) == len(set(action_ids)) == 6
    assert bodies[0]["text"].startswith('Here is what matches "gmp" best:\n1. Vecura GMP facility')


def test_hits_of_a_payload_without_their_messages_are_still_shown() -> None:
    turn = [{"custom": {"type": "search_results", "hits": [hit(1, "entry-1", "Vecura")]}}]
    [body] = render_turn(turn, DETAILS)
    assert body["blocks"][0]["text"]["text"].startswith("*1. <https://example.org/vecura|Vecura>*")


def test_machine_payloads_are_not_shown() -> None:
    assert render_turn([{"custom": {"type": "handoff", "conversation": "slack-1"}}]) == []


@pytest.mark.parametrize("count", [1, 5, 6, 11, 12])
def test_buttons_are_split_across_actions_blocks_of_at_most_five(count: int) -> None:
    buttons = [{"title": f"Option {n}", "payload": f"/choose{{\"n\": {n}}}"} for n in range(count)]
    blocks = button_blocks(buttons)
    assert all(b["type"] == "actions" and 1 <= len(b["elements"]) <= BUTTONS_PER_BLOCK for b in blocks)
    assert len(blocks) == -(-count // BUTTONS_PER_BLOCK)
    assert [e["value"] for b in blocks for e in b["elements"]] == [b["payload"] for b in buttons]


def test_url_buttons_become_links_and_unsafe_urls_are_dropped() -> None:
    [block] = button_blocks([{"title": "Web page", "url": "https://example.org/x"},
                             {"title": "Sneaky", "url": "javascript:alert(1)", "payload": "/greet"},
                             {"title": "Nothing"}])
    assert [(e.get("url"), e.get("value")) for e in block["elements"]] == [("https://example.org/x", None),
                                                                          (None, "/greet")]


def test_long_texts_are_split_within_block_kit_limits_without_breaking_an_entity() -> None:
    sections = text_sections(("R&D " * 2000).strip())
    assert len(sections) > 1
    assert all(len(s["text"]["text"]) <= MAX_SECTION_CHARS for s in sections)
    assert all(not re.search(r"&(a|am)?$", s["text"]["text"]) for s in sections)
    assert " ".join(s["text"]["text"] for s in sections).count("R&amp;D") == 2000


def test_a_turn_longer_than_fifty_blocks_is_posted_as_several_messages() -> None:
    bodies = render_turn([{"text": f"line {n}"} for n in range(120)])
    assert [len(b["blocks"]) for b in bodies] == [MAX_BLOCKS_PER_MESSAGE, MAX_BLOCKS_PER_MESSAGE, 20]


def assert_inert(bodies: object) -> None:
    """No Slack control sequence (``<!channel>``, ``<@U…>``, ``<#C…>``) anywhere in the bodies' texts, and no link
    but http, https and mailto ones, none of them to the address a user wrote (evil.example)."""
    for text in re.findall(r'"text": "((?:[^"\\]|\\.)*)"', json.dumps(bodies)):
        for target in re.findall(r"<([^>|]*)", json.loads(f'"{text}"')):
            assert target.startswith(("https://", "http://", "mailto:")), target
            assert "evil.example" not in target, target


def test_markup_in_user_and_catalogue_text_is_shown_inert() -> None:
    turn = search_turn([INJECTION], reason=INJECTION)
    turn.insert(0, {"text": f'You said "{INJECTION}"'})
    bodies = render_turn(turn, {"entry-1": {"url": "https://example.org/x",
                                            "contact_details": {"role": INJECTION, "email": "x@example.org"}}})
    assert_inert(bodies)
    all_text = "\n".join(texts(bodies))
    assert "&lt;!channel&gt;" in all_text and "&lt;https://evil.example|click here&gt;" in all_text
    assert "R&amp;D" in all_text and "&lt;@U0BOSS&gt;" in all_text


def test_the_slash_answer_is_ephemeral_with_ranked_hits_reasons_and_contacts() -> None:
    answer = slash_answer("gmp <!channel>", [hit(1, "entry-1", "Vecura"), hit(2, "entry-2", "Other")], DETAILS)
    assert answer["response_type"] == "ephemeral"
    assert [b["text"]["text"].splitlines()[0] for b in answer["blocks"]] == [
        "Best matches for “gmp &lt;!channel&gt;”:", "*1. <https://example.org/vecura|Vecura>*", "*2. Other*"]
    assert "Contact: Facility manager" in answer["blocks"][1]["text"]["text"]
    assert_inert(answer)


@pytest.mark.parametrize(("need", "hits", "starts"), [("", [], "Describe the need"), ("gmp", [], "No catalogue"),
                                                      ("gmp", None, "The catalogue search is not available")])
def test_the_slash_answer_without_matches_says_why(need: str, hits: list | None, starts: str) -> None:
    answer = slash_answer(need, hits)
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0]["text"]["text"].startswith(starts)


def test_search_hits_lists_the_entries_to_look_up() -> None:
    assert [h["id"] for h in search_hits(search_turn(["A", "B"]))] == ["entry-1", "entry-2"]
