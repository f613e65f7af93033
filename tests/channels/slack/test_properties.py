"""Properties of reading what Slack delivers (bot/slack_events.py) and of checking its signature
(bot/slack_signing.py), over generated hostile input (tests/fuzz/strategies.py).

Verification raises nothing but :class:`SlackSignatureError`, for any headers, body and clock, and takes a request
exactly when it is signed with the secret within five minutes; any change to a signed body is refused. Reading a
verified payload of any shape (Slack's own, with hostile text and values of the wrong type anywhere) raises
nothing, and what it reads is a non-empty text of at most 4,000 characters, trimmed, with dedup keys; a button's
value is taken as it is (the input guard decides whether it is a payload the bot offered).
"""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st
from slack_events import (
    MAX_TEXT_CHARS,
    Incoming,
    conversation_id,
    read_event,
    read_interaction,
    read_slash_command,
)
from slack_signing import (
    MAX_CLOCK_SKEW_SECONDS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SlackSignatureError,
    sign,
    verify,
)

from tests.channels.slack.payloads import BOT_USER, SECRET, TEAM
from tests.fuzz.strategies import SEEDED, hostile_text, json_values

NOW = 1_800_000_000
ids = st.one_of(st.sampled_from(["U0ALICE", "D0ALICE", "C0GENERAL", BOT_USER, TEAM, "1.000100", ""]),
                st.text(max_size=12))
anything = st.sampled_from([json_values, ids, hostile_text]).flatmap(lambda values: values)
"""A value where Slack sends a string: often one, sometimes any JSON at all."""


def maybe(value: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(value, value, value, anything)


@st.composite
def events(draw: st.DrawFn) -> dict:
    """An ``event_callback`` as Slack sends it, with hostile text and, now and then, any value in any field."""
    event = draw(st.fixed_dictionaries(
        {"type": maybe(st.sampled_from(["message", "app_mention", "reaction_added"])),
         "user": maybe(ids), "channel": maybe(ids), "ts": maybe(ids),
         "text": maybe(st.one_of(hostile_text, hostile_text.map(lambda t: f"<@{BOT_USER}> {t}")))},
        optional={"channel_type": maybe(st.sampled_from(["im", "channel"])), "subtype": anything,
                  "bot_id": anything, "thread_ts": maybe(ids), "team": maybe(ids)}))
    payload = draw(st.fixed_dictionaries(
        {"type": maybe(st.just("event_callback")), "event": st.one_of(st.just(event), st.just(event), anything)},
        optional={"team_id": maybe(ids), "event_id": maybe(ids), "authorizations": st.one_of(
            st.just([{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]), anything)}))
    return payload


@st.composite
def interactions(draw: st.DrawFn) -> dict:
    """A ``block_actions`` payload, with hostile button values and any value in any field now and then."""
    action = draw(st.fixed_dictionaries(
        {"type": maybe(st.just("button")), "action_id": maybe(st.sampled_from(["navigator-postback-1", "other"])),
         "value": maybe(hostile_text)}, optional={"action_ts": anything}))
    return draw(st.fixed_dictionaries(
        {"type": maybe(st.just("block_actions")), "user": maybe(st.fixed_dictionaries({"id": ids})),
         "channel": maybe(st.fixed_dictionaries({"id": ids})),
         "actions": st.one_of(st.lists(st.one_of(st.just(action), anything), max_size=3), anything)},
        optional={"team": maybe(st.fixed_dictionaries({"id": ids})), "container": anything,
                  "message": anything}))


def assert_readable(incoming: Incoming) -> None:
    assert isinstance(incoming.text, str) and 0 < len(incoming.text) <= MAX_TEXT_CHARS
    assert incoming.dedup_keys and all(isinstance(key, str) for key in incoming.dedup_keys)
    assert all(isinstance(value, str) for value in (incoming.team, incoming.channel, incoming.user))


@SEEDED
@given(payload=events())
def test_reading_any_event_raises_nothing_and_yields_a_trimmed_text_within_the_limit(payload) -> None:
    incoming = read_event(payload)
    if incoming is None:
        return
    assert_readable(incoming)
    assert incoming.text == incoming.text.strip()
    assert incoming.user and incoming.user != BOT_USER and incoming.channel


@SEEDED
@given(text=hostile_text, kind=st.sampled_from(["message", "app_mention"]), authorizations=anything,
       team=anything, event_id=anything, thread_ts=anything)
def test_reading_an_event_with_any_value_around_its_text_raises_nothing(text, kind, authorizations, team, event_id,
                                                                        thread_ts) -> None:
    event = {"type": kind, "user": "U0ALICE", "channel": "D0ALICE", "ts": "1.000100", "text": text,
             "channel_type": "im", "thread_ts": thread_ts}
    incoming = read_event({"type": "event_callback", "event": event, "authorizations": authorizations,
                           "team_id": team, "event_id": event_id})
    if incoming is not None:
        assert_readable(incoming)
        assert incoming.thread_ts is None or incoming.thread_ts == thread_ts


@SEEDED
@given(actions=anything, container=anything, message=anything, value=hostile_text)
def test_reading_a_click_with_any_value_around_it_raises_nothing(actions, container, message, value) -> None:
    button = {"type": "button", "action_id": "navigator-postback-1", "value": value, "action_ts": "1.2"}
    for given_actions in (actions, [actions, button]):
        found = read_interaction({"type": "block_actions", "user": {"id": "U0ALICE"}, "channel": {"id": "D0ALICE"},
                                  "container": container, "message": message, "actions": given_actions})
        for incoming in found:
            assert_readable(incoming)
            assert incoming.text == value[:MAX_TEXT_CHARS]


@SEEDED
@given(payload=interactions())
def test_reading_any_interaction_raises_nothing_and_takes_button_values_as_they_are(payload) -> None:
    for incoming in read_interaction(payload):
        assert_readable(incoming)
        values = [action.get("value") for action in payload["actions"] if isinstance(action, dict)]
        assert any(isinstance(value, str) and value.startswith(incoming.text) for value in values)


@SEEDED
@given(form=st.dictionaries(st.sampled_from(["command", "text", "response_url", "trigger_id", "team_id",
                                             "channel_id", "user_id"]), st.one_of(hostile_text, ids)))
def test_reading_any_slash_command_raises_nothing_and_keeps_the_need_within_the_limit(form) -> None:
    command = read_slash_command(form)
    if command is not None:
        assert len(command.need) <= MAX_TEXT_CHARS and command.response_url


@SEEDED
@given(team=ids, channel=ids, user=hostile_text)
def test_a_conversation_id_is_a_pseudonym_of_fixed_shape(team, channel, user) -> None:
    assert re.fullmatch(r"slack-[0-9a-f]{32}", conversation_id(SECRET, team, channel, user))


headers = st.dictionaries(st.sampled_from([TIMESTAMP_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER.lower(),
                                           SIGNATURE_HEADER.lower(), "Content-Type"]),
                          st.one_of(st.text(max_size=80), st.integers(0, 10**14).map(str),
                                    st.just("v0=" + "0" * 64)))


@SEEDED
@given(given_headers=headers, body=st.binary(max_size=200), now=st.floats(0, 4e9))
def test_verification_raises_only_its_own_error_and_refuses_what_is_not_signed(given_headers, body, now) -> None:
    try:
        verify(SECRET, given_headers, body, now)
    except SlackSignatureError as refused:
        assert refused.reason in ("missing_timestamp", "missing_signature", "bad_timestamp", "stale_timestamp",
                                  "bad_signature")
    else:  # taken: it can only be because the headers carry the right signature
        timestamp = (given_headers.get(TIMESTAMP_HEADER) or given_headers[TIMESTAMP_HEADER.lower()]).strip()
        assert abs(now - int(timestamp)) <= MAX_CLOCK_SKEW_SECONDS
        assert sign(SECRET, timestamp, body) in given_headers.values()


@SEEDED
@given(payload=events(), skew=st.integers(-2 * MAX_CLOCK_SKEW_SECONDS, 2 * MAX_CLOCK_SKEW_SECONDS),
       flip=st.integers(0, 10**6))
def test_a_signed_body_is_taken_within_five_minutes_and_any_change_is_refused(payload, skew, flip) -> None:
    body = json.dumps(payload).encode("utf-8", "surrogatepass")
    timestamp = str(NOW + skew)
    signed = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(SECRET, timestamp, body)}
    if abs(skew) <= MAX_CLOCK_SKEW_SECONDS:
        verify(SECRET, signed, body, NOW)
        changed = bytearray(body)
        changed[flip % len(changed)] ^= 1 << (flip % 8)
        try:
            verify(SECRET, signed, bytes(changed), NOW)
        except SlackSignatureError as refused:
            assert refused.reason == "bad_signature"
        else:
            raise AssertionError("a changed body was taken")
    else:
        try:
            verify(SECRET, signed, body, NOW)
        except SlackSignatureError as refused:
            assert refused.reason == "stale_timestamp"
        else:
            raise AssertionError("a stale request was taken")
