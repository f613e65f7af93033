"""Which Slack deliveries are a user talking to the bot (bot/slack_events.py)."""

from __future__ import annotations

import asyncio
import json
import random
from urllib.parse import parse_qs

import pytest
from channel_dedup import MemorySeenEvents
from slack_events import (
    conversation_id,
    first_delivery,
    read_event,
    read_interaction,
    read_slash_command,
)

from tests.channels.slack.payloads import (
    BOT_USER,
    SECRET,
    TEAM,
    action_body,
    command_body,
    event_body,
)


def event(**fields: object) -> dict[str, object]:
    fields.setdefault("event_id", "Ev1")
    return json.loads(event_body(str(fields.pop("text", "flow cytometry")), **fields))


def test_a_direct_message_is_read_with_its_dedup_keys() -> None:
    incoming = read_event(event(text="flow &amp; mass cytometry"))
    assert incoming is not None
    assert (incoming.text, incoming.channel, incoming.thread_ts) == ("flow & mass cytometry", "D0ALICE", None)
    assert incoming.dedup_keys == ("slack:event:Ev1", f"slack:message:{TEAM}:D0ALICE:1.000100")


def test_a_mention_loses_the_bots_name_and_answers_in_its_thread() -> None:
    incoming = read_event(event(kind="app_mention", channel="C0GENERAL", text=f"<@{BOT_USER}> GMP please",
                                thread_ts="0.5"))
    assert incoming is not None and (incoming.text, incoming.thread_ts) == ("GMP please", "0.5")


def test_a_mention_in_a_direct_message_shares_the_message_key_with_its_message_event() -> None:
    as_message = read_event(event(event_id="EvA", text=f"<@{BOT_USER}> hi"))
    as_mention = read_event(event(event_id="EvB", kind="app_mention", text=f"<@{BOT_USER}> hi"))
    assert as_message and as_mention and as_message.text == as_mention.text == "hi"
    assert as_message.dedup_keys[1] == as_mention.dedup_keys[1]
    assert as_message.dedup_keys[0] != as_mention.dedup_keys[0]


@pytest.mark.parametrize("fields", [
    {"user": BOT_USER},                                   # the bot's own message
    {"bot_id": "B0OTHER"},                                # another bot
    {"subtype": "message_changed"},                       # an edit
    {"subtype": "bot_message"},
    {"subtype": "channel_join"},
    {"channel_type": "channel"},                          # a channel message that does not mention the bot
    {"kind": "reaction_added"},
    {"text": f"<@{BOT_USER}>"},                           # nothing but the mention
    {"user": ""},
], ids=str)
def test_events_not_for_the_assistant_are_ignored(fields: dict[str, object]) -> None:
    assert read_event(event(**fields)) is None


def test_other_payload_types_are_ignored() -> None:
    assert read_event({"type": "app_rate_limited"}) is None


def test_a_postback_click_is_read_as_its_payload() -> None:
    payload = json.loads(parse_qs(action_body("/show_more", thread_ts="0.7").decode())["payload"][0])
    [incoming] = read_interaction(payload)
    assert (incoming.text, incoming.channel, incoming.thread_ts) == ("/show_more", "D0ALICE", "0.7")
    payload["actions"][0]["action_id"] = "navigator-link-1"
    assert read_interaction(payload) == []


def test_a_slash_command_is_read() -> None:
    form = {k: v[0] for k, v in parse_qs(command_body("GMP &amp; fill", "https://hooks.slack.com/x").decode()).items()}
    command = read_slash_command(form)
    assert command is not None and command.need == "GMP & fill" and command.dedup_keys == ("slack:command:cmd-1",)
    assert read_slash_command({**form, "response_url": ""}) is None


def test_the_conversation_is_a_stable_pseudonym_per_user_and_channel() -> None:
    alice = conversation_id(SECRET, TEAM, "D0ALICE", "U0ALICE")
    assert alice == conversation_id(SECRET, TEAM, "D0ALICE", "U0ALICE")
    assert alice.startswith("slack-") and len(alice) == 38 and "U0ALICE" not in alice
    assert alice != conversation_id(SECRET, TEAM, "C0GENERAL", "U0ALICE")
    assert alice != conversation_id("other-secret", TEAM, "D0ALICE", "U0ALICE")


class InterleavingSeen:
    """The shared store (channel_dedup.MemorySeenEvents) with a random pause before each look, so that
    concurrent deliveries interleave in every order."""

    def __init__(self, rng: random.Random) -> None:
        self.store = MemorySeenEvents()
        self.rng = rng

    async def first_sighting(self, key: str) -> bool:
        for _ in range(self.rng.randrange(4)):
            await asyncio.sleep(0)
        return await self.store.first_sighting(key)


@pytest.mark.parametrize("seed", range(50))
async def test_of_concurrent_deliveries_exactly_one_is_answered(seed: int) -> None:
    seen = InterleavingSeen(random.Random(seed))
    retries = [read_event(event(event_id="EvR")) for _ in range(5)]
    mention = f"<@{BOT_USER}> hi"
    both = [read_event(event(event_id=f"EvM{n}", ts="9.0", kind=kind, text=mention))
            for n, kind in enumerate(["message", "app_mention", "message", "app_mention"])]
    deliveries = [(0, incoming) for incoming in retries] + [(1, incoming) for incoming in both]
    random.Random(seed).shuffle(deliveries)
    taken = await asyncio.gather(*(first_delivery(seen, incoming.dedup_keys) for _, incoming in deliveries))
    answered = [group for (group, _), first in zip(deliveries, taken) if first]
    assert sorted(answered) == [0, 1]
