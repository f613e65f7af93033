"""What the Teams channel reads from activities and what it sends back: bot/teams_activity.py, teams_cards.py and
teams_extension.py, without a server."""

from __future__ import annotations

import json
from typing import Any

import pytest
import teams_activity
import teams_cards
import teams_extension

from tests.channels.teams.fakes import BOT_ID, message

URL = "http://127.0.0.1:9/"
INJECTION = ("**bold** _it_ [click me](https://evil.example/phish) <b>html</b> <at>Everyone</at> "
             "{{DATE(2017-02-14T06:08:39Z, SHORT)}} ${user.secret} # heading\n- item")


def hit(rank: int, **fields: Any) -> dict[str, Any]:
    return {"rank": rank, "id": f"entry-{rank}", "name": f"Facility {rank}", "type": "facility",
            "organisation": "Karolinska Institutet", "site": "flemingsberg", "site_label": "Flemingsberg",
            "score": 0.9, "similarity": 0.7, "reason": f"Reason {rank}.", "terms": ["gmp"], "contact": None,
            **fields}


def buttons(rank: int) -> list[dict[str, str]]:
    return [{"title": "Details", "payload": f'/ask_details{{"position": "{rank}"}}'},
            {"title": "Contact", "payload": f'/ask_contact{{"position": "{rank}"}}'}]


def all_of_type(node: object, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == kind:
            found.append(node)
        for value in node.values():
            found += all_of_type(value, kind)
    elif isinstance(node, list):
        for value in node:
            found += all_of_type(value, kind)
    return found


def test_a_search_turn_becomes_text_a_carousel_of_hit_cards_and_an_options_card() -> None:
    options = [{"title": "Show more", "payload": "/show_more"}, {"title": "Open a support request",
                                                                 "payload": "/request_support"}]
    payload = {"type": "search_results", "need": "gmp", "filters": {}, "hits": [
        hit(1, contact={"id": "ex-1", "name": "Eva Expert", "role": "Director", "organisation": "KI",
                        "email": "eva@example.org"}), hit(2)]}
    activities = teams_activity.turn_activities([
        {"text": "Here is what I found for \"gmp\":"},
        {"text": "1. Facility 1, Karolinska Institutet (Flemingsberg). Reason 1.", "buttons": buttons(1)},
        {"text": "2. Facility 2, Karolinska Institutet (Flemingsberg). Reason 2.", "buttons": buttons(2)},
        {"text": "Would you like more options?", "buttons": options},
        {"custom": payload},
    ])
    assert [sorted(a) for a in activities] == [["text", "textFormat"], ["attachmentLayout", "attachments"],
                                               ["attachments"]]
    assert activities[0] == {"text": "Here is what I found for \"gmp\":", "textFormat": "plain"}
    cards = [a["content"] for a in activities[1]["attachments"]]
    assert [a["contentType"] for a in activities[1]["attachments"]] == [teams_cards.CARD_CONTENT_TYPE] * 2
    assert [[x["data"]["payload"] for x in c["actions"]] for c in cards] == [
        [b["payload"] for b in buttons(1)], [b["payload"] for b in buttons(2)]]
    first = [run["text"] for run in all_of_type(cards[0], "TextRun")]
    assert first == ["1. Facility 1", "Karolinska Institutet, Flemingsberg", "Reason 1.", "Contact: ",
                     "Eva Expert, Director (KI)\neva@example.org"]
    assert [x["data"]["payload"] for x in activities[2]["attachments"][0]["content"]["actions"]] == [
        "/show_more", "/request_support"]


def test_without_matching_hit_lines_the_carousel_stands_where_the_payload_was() -> None:
    activities = teams_activity.turn_activities([{"text": "a"}, {"text": "b"},
                                                 {"custom": {"type": "search_results", "hits": [hit(1)]}},
                                                 {"custom": {"type": "handoff", "conversation": "x"}}])
    assert activities[0] == {"text": "a\n\nb", "textFormat": "plain"}
    assert activities[1]["attachmentLayout"] == "carousel" and len(activities) == 2


def test_markup_in_catalogue_text_is_inert_in_cards() -> None:
    evil = hit(1, name=INJECTION, organisation="<script>alert(1)</script>", reason=INJECTION,
               contact={"name": "[Mallory](https://evil.example)", "email": "m@evil.example"})
    card = teams_cards.hit_card(evil, [{"title": "**Open**", "url": "javascript:alert(1)"},
                                       {"title": "Web", "url": "http://plain.example"},
                                       {"title": "Mail", "url": "mailto:a@example.org"}])
    text = json.dumps(card)
    assert all_of_type(card, "TextBlock") == []  # TextBlock reads Markdown; TextRun never does
    runs = [run["text"] for run in all_of_type(card, "TextRun")]
    assert runs[0].startswith("1. **bold** _it_ [click me](https://evil.example/phish) <b>html</b> <at>Everyone</at>")
    assert "{{" not in text and "{\u200b{DATE" in runs[0] and "}\u200b}" in runs[0]
    assert runs[1] == "<script>alert(1)</script>, Flemingsberg"
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Mail", "url": "mailto:a@example.org"}]
    preview = teams_cards.hit_preview(evil)["content"]
    assert "<" not in preview["title"] and "&lt;b&gt;html&lt;/b&gt;" in preview["title"]
    assert "\\[click me\\]\\(https://evil\\.example/phish\\)" in preview["title"]
    assert preview["text"].startswith("&lt;script&gt;alert\\(1\\)&lt;/script&gt;")


def test_markup_in_user_text_is_inert_in_texts_and_cards() -> None:
    echoed = f'Here is what I found for "{INJECTION}":'
    activities = teams_activity.turn_activities([
        {"text": echoed}, {"text": echoed, "buttons": [{"title": INJECTION, "payload": "/show_more"}]}])
    assert activities[0]["textFormat"] == "plain"
    assert activities[0]["text"] == echoed.replace("{{", "{\u200b{").replace("}}", "}\u200b}")
    card = activities[1]["attachments"][0]["content"]
    assert all_of_type(card, "TextBlock") == []
    assert [r["text"] for r in all_of_type(card, "TextRun")] == [teams_cards.inert(echoed)]
    assert card["actions"][0]["type"] == "Action.Submit" and "{{" not in card["actions"][0]["title"]


def test_control_characters_are_dropped_and_long_texts_shortened() -> None:
    assert teams_cards.inert("a\x00b\x1bc\td\ne") == "abc\td\ne"
    assert len(teams_cards.inert("x" * 5000)) == teams_cards.MAX_TEXT_CHARS


@pytest.mark.parametrize(("text", "expected"), [
    ("<at>Navigator</at> gmp manufacturing", "gmp manufacturing"),
    ("please <at id=\"0\">Navigator</at>, find cryo-EM", "please , find cryo-EM"),
    ("<AT>Navigator</AT>&nbsp;hello", "hello"),
    ("two\nlines  <at>Nav</at>", "two\nlines"),
])
def test_mentions_are_stripped(text: str, expected: str) -> None:
    assert teams_activity.inbound(message(URL, text)).text == expected


def test_a_mention_alone_asks_nothing() -> None:
    assert teams_activity.inbound(message(URL, "<at>Navigator</at>")) is None


def test_an_adaptive_card_submit_is_a_postback() -> None:
    submit = message(URL, "", value={"payload": '/ask_details{"position": "2"}'})
    submit.pop("text")
    wanted = teams_activity.inbound(submit)
    assert (wanted.text, wanted.kind) == ('/ask_details{"position": "2"}', "postback")
    assert teams_activity.inbound({**submit, "value": {"payload": 42}}) is None
    assert teams_activity.inbound({**submit, "value": "x"}) is None


def test_the_bot_greets_only_when_it_is_added() -> None:
    update = {**message(URL), "type": "conversationUpdate", "membersAdded": [{"id": BOT_ID}]}
    update.pop("text")
    wanted = teams_activity.inbound(update)
    assert (wanted.text, wanted.kind) == ("/greet", "greeting")
    assert teams_activity.inbound({**update, "membersAdded": [{"id": "29:someone-else"}]}) is None
    assert teams_activity.inbound({**update, "membersAdded": None, "membersRemoved": [{"id": BOT_ID}]}) is None
    assert teams_activity.inbound({**message(URL), "type": "typing"}) is None


def test_the_sender_id_is_per_conversation_and_user_and_reveals_neither() -> None:
    one = teams_activity.sender_id(message(URL, conversation="a:c1", user="29:u1"))
    assert one == teams_activity.sender_id(message(URL, "other text", conversation="a:c1", user="29:u1"))
    assert one != teams_activity.sender_id(message(URL, conversation="a:c1", user="29:u2"))
    assert one != teams_activity.sender_id(message(URL, conversation="a:c2", user="29:u1"))
    assert one.startswith("teams-") and len(one) == 46 and "u1" not in one and "c1" not in one


def test_a_reply_goes_from_the_bot_to_the_user_in_the_same_conversation() -> None:
    incoming = message(URL, activity_id="act-7", conversation="a:c1", user="29:u1")
    assert teams_activity.reply_skeleton(incoming) == {
        "type": "message", "conversation": {"id": "a:c1"}, "from": {"id": BOT_ID, "name": "Navigator"},
        "recipient": {"id": "29:u1", "name": "Ada Example"}, "replyToId": "act-7"}


def test_the_extension_reads_the_typed_need() -> None:
    assert teams_extension.query_text({"commandId": "searchCatalogue", "parameters": [
        {"name": "initialRun", "value": "true"}]}) == ""
    assert teams_extension.query_text({"parameters": [{"name": "need", "value": "  cryo-EM  "}]}) == "cryo-EM"
    assert teams_extension.query_text(None) == ""


def test_the_extension_answers_with_a_card_and_a_preview_per_hit() -> None:
    answer = teams_extension.result_response([hit(1, contact={"name": "Eva", "email": "eva@example.org"}), hit(2)])
    extension = answer["composeExtension"]
    assert (extension["type"], extension["attachmentLayout"]) == ("result", "list")
    assert [a["preview"]["content"]["title"] for a in extension["attachments"]] == ["Facility 1", "Facility 2"]
    first = [r["text"] for r in all_of_type(extension["attachments"][0]["content"], "TextRun")]
    assert first == ["Facility 1", "Karolinska Institutet, Flemingsberg", "Reason 1.", "Contact: ",
                     "Eva\neva@example.org"]
