"""The service announces requests for an advisor in the advisors' Slack channel only when it is configured."""

from __future__ import annotations

from navigator.settings import Settings
from navigator.wiring import slack_handoff_notifier
from tests.channels.slack.fake_slack import FakeSlack
from tests.channels.slack.payloads import BOT_TOKEN

SLACK = {"NAVIGATOR_SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5", "NAVIGATOR_SLACK_BOT_TOKEN": BOT_TOKEN}


def test_without_slack_or_an_advisors_channel_nothing_is_announced() -> None:
    assert slack_handoff_notifier(Settings.from_env({})) is None
    assert slack_handoff_notifier(Settings.from_env(SLACK)) is None


async def test_a_handoff_is_posted_to_the_configured_channel() -> None:
    async with FakeSlack(BOT_TOKEN) as slack:
        announce = slack_handoff_notifier(Settings.from_env({
            **SLACK, "NAVIGATOR_SLACK_API_URL": slack.api_url, "NAVIGATOR_SLACK_ADVISORS_CHANNEL": "C0ADVISORS1"}))
        assert await announce("slack-0123456789abcdef") is True
        [call] = slack.recorded("chat.postMessage")
    assert call.body["channel"] == "C0ADVISORS1"
    assert "Conversation: `slack-0123456789abcdef`" in call.body["text"]


async def test_with_the_public_address_the_announcement_links_the_consoles_page() -> None:
    async with FakeSlack(BOT_TOKEN) as slack:
        announce = slack_handoff_notifier(Settings.from_env({
            **SLACK, "NAVIGATOR_SLACK_API_URL": slack.api_url, "NAVIGATOR_SLACK_ADVISORS_CHANNEL": "C0ADVISORS1",
            "NAVIGATOR_PUBLIC_URL": "https://navigator.example.org/"}))
        assert await announce("slack-0123456789abcdef") is True
        [call] = slack.recorded("chat.postMessage")
    assert "<https://navigator.example.org/console/flagged/slack-0123456789abcdef|Open in the console>" in \
        call.body["text"]
