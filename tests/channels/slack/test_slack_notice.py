"""The advisors' channel notice of a handoff (support_requests/slack_notice.py), against the local fake Slack."""

from __future__ import annotations

import pytest

from support_requests.slack_notice import handoff_notice, post_handoff_notice
from tests.channels.slack.fake_slack import FakeSlack
from tests.channels.slack.payloads import BOT_TOKEN


@pytest.fixture
async def slack():
    async with FakeSlack(BOT_TOKEN) as fake:
        yield fake


async def test_a_handoff_is_announced_with_its_conversation_and_console_link(slack: FakeSlack) -> None:
    posted = await post_handoff_notice(slack.api_url, BOT_TOKEN, "C0ADVISORS", conversation_id="slack-abc123",
                                       console_url="https://navigator.example.org/")
    assert posted is True
    [call] = slack.recorded("chat.postMessage")
    assert call.authorization == f"Bearer {BOT_TOKEN}" and call.body["channel"] == "C0ADVISORS"
    assert call.body["text"].splitlines() == [
        "A company asked to talk to an innovation advisor.", "Conversation: `slack-abc123`",
        "<https://navigator.example.org/console/flagged/slack-abc123|Open in the console>"]


def test_a_request_notice_links_the_request_and_escapes_everything() -> None:
    text = handoff_notice(reference="SLT-2026-0042", conversation_id="<!channel>&x")["text"]
    assert text.splitlines() == ["Support request SLT-2026-0042 needs an innovation advisor.",
                                 "Conversation: `&lt;!channel&gt;&amp;x`"]
    assert "<" not in text
    with pytest.raises(ValueError):
        handoff_notice()


async def test_rate_limits_are_waited_out_a_bounded_number_of_times(slack: FakeSlack) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    slack.rate_limit(1, "2")
    assert await post_handoff_notice(slack.api_url, BOT_TOKEN, "C0ADVISORS", reference="SLT-2026-0001", sleep=sleep)
    assert waits == [2.0]
    slack.rate_limit(5, "0")
    assert not await post_handoff_notice(slack.api_url, BOT_TOKEN, "C0ADVISORS", reference="SLT-2026-0002",
                                         sleep=sleep)
    assert len(slack.recorded()) == 2 + 3


async def test_nothing_is_posted_without_a_channel_and_failures_are_not_raised(slack: FakeSlack) -> None:
    assert not await post_handoff_notice(slack.api_url, BOT_TOKEN, "", reference="SLT-2026-0003")
    assert not await post_handoff_notice(slack.api_url, "xoxb-wrong", "C0ADVISORS", reference="SLT-2026-0003")
    assert not await post_handoff_notice("http://127.0.0.1:9/api", BOT_TOKEN, "C0ADVISORS", reference="SLT-2026-0003")
    assert [c.body["channel"] for c in slack.recorded()] == ["C0ADVISORS"]
