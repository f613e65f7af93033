"""Properties of reading a Bot Framework activity (bot/teams_activity.py), over generated hostile input
(tests/fuzz/strategies.py).

For an activity of any shape (Teams' own, with hostile text, mentions, card submits and values of the wrong type
anywhere), reading it raises nothing, and what it asks of the bot is a non-empty, trimmed text of at most 4,000
characters without the mentions, from a sender id of fixed shape; the greeting is asked only when the bot itself
was added; a card's submitted payload is taken as it is (the input guard decides whether the bot offered it).
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from teams_activity import (
    GREET,
    MAX_USER_TEXT_CHARS,
    bot_was_added,
    inbound,
    strip_mentions,
)

from tests.fuzz.strategies import SEEDED, hostile_text, json_values

BOT = "28:navigator-bot"
ids = st.one_of(st.sampled_from([BOT, "29:alice", "a:1", "19:thread@thread.tacv2", ""]), st.text(max_size=12))
anything = st.sampled_from([json_values, ids, hostile_text]).flatmap(lambda values: values)


def maybe(value: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(value, value, value, anything)


mentioned = hostile_text.map(lambda text: f"<at>Navigator</at> {text}") | hostile_text.map(
    lambda text: f"{text}<AT id='0'>Navigator</AT>&nbsp;")


@st.composite
def activities(draw: st.DrawFn) -> dict:
    return draw(st.fixed_dictionaries(
        {"type": maybe(st.sampled_from(["message", "conversationUpdate", "typing", "invoke"])),
         "conversation": maybe(st.fixed_dictionaries({"id": maybe(ids)})),
         "from": maybe(st.fixed_dictionaries({"id": maybe(ids)}, optional={"aadObjectId": maybe(ids)})),
         "recipient": maybe(st.fixed_dictionaries({"id": maybe(st.just(BOT))}))},
        optional={"text": maybe(st.one_of(hostile_text, mentioned)), "id": maybe(ids),
                  "value": maybe(st.fixed_dictionaries({"payload": maybe(hostile_text)})),
                  "membersAdded": maybe(st.lists(maybe(st.fixed_dictionaries({"id": maybe(ids)})), max_size=3))}))


@SEEDED
@given(activity=activities())
def test_reading_any_activity_raises_nothing_and_yields_a_trimmed_text_within_the_limit(activity) -> None:
    wanted = inbound(activity)
    if wanted is None:
        return
    assert re.fullmatch(r"teams-[0-9a-f]{40}", wanted.sender_id)
    assert isinstance(wanted.text, str) and 0 < len(wanted.text) <= MAX_USER_TEXT_CHARS
    if wanted.kind == "message":
        assert wanted.text == wanted.text.strip()
        assert wanted.text == strip_mentions(activity["text"])[:MAX_USER_TEXT_CHARS]
        assert "<at>Navigator</at>" not in wanted.text.lower().replace("<at id='0'>", "<at>")
    elif wanted.kind == "postback":
        assert wanted.text == activity["value"]["payload"]
    else:
        assert wanted.kind == "greeting" and wanted.text == GREET and bot_was_added(activity)
        assert activity["type"] == "conversationUpdate"


@SEEDED
@given(text=st.one_of(hostile_text, mentioned))
def test_removing_mentions_leaves_trimmed_text_without_them(text) -> None:
    cleaned = strip_mentions(text)
    assert cleaned == cleaned.strip()
    assert not re.search(r"<at(?:\s[^>]*)?>Navigator</at>", cleaned, flags=re.IGNORECASE)
